import Glibc
import ProcLabKit
import Synchronization

/// Replay's keys, read on a thread of their own at a terminal: a key pressed while a
/// command runs (a `wait all` on long children) is seen at once, not after the command.
/// `q` then stops the command as Ctrl-C would and ends the replay; any other key waits
/// in a queue for the replay to take it between commands (space pauses after the command).
/// From a pipe there is no thread: the replay reads its keys itself, as it reaches them.
// why: `input` is read only by the watcher thread once it runs (or only by the replay when
// there is none); everything both sides touch is in `state`.
final class KeyWatcher: @unchecked Sendable {
  private let input: KeyboardInput
  private struct State {
    var queue: [KeyboardInput.Key] = []
    var commandRunning = false
    var quitDuringCommand = false
    var stop = false
  }
  private let state = Mutex(State())
  private var handle: Threads.Handle?

  init(input: KeyboardInput) { self.input = input }

  var isTerminal: Bool { input.isTerminal }

  /// `q` was pressed while a command ran: the command was stopped for it.
  var quitDuringCommand: Bool { state.withLock { $0.quitDuringCommand } }

  /// Starts the thread (at a terminal). Every signal is blocked in it (`Threads.spawn`),
  /// so Ctrl-C still reaches the replay's own thread.
  func start() {
    guard input.isTerminal, handle == nil else { return }
    let target = InterruptTarget.current()
    handle = try? Threads.spawn(Threads.replayKeysName) { [self] in watch(target) }
  }

  /// Ends the thread (within the 50 ms it waits for a key at a time).
  func stop() {
    state.withLock { $0.stop = true }
    if let handle { Threads.join(handle) }
    handle = nil
  }

  /// Runs a command with `q` able to stop it.
  func whileCommandRuns<T>(_ body: () throws -> T) rethrows -> T {
    state.withLock { $0.commandRunning = true }
    defer {
      state.withLock { $0.commandRunning = false }
      Interrupt.pressing(nil)
    }
    return try body()
  }

  private func watch(_ target: InterruptTarget) {
    while !state.withLock({ $0.stop }) {
      guard let key = input.key(timeout: .milliseconds(50)) else { continue }
      let quitNow = state.withLock { s -> Bool in
        if s.commandRunning && (key == .character("q") || key == .character("Q")) {
          s.quitDuringCommand = true
          return true
        }
        // Ctrl-D is a key at a terminal; a terminal that hung up says "end" on every read: once is enough.
        if key != .end || s.queue.last != .end { s.queue.append(key) }
        return false
      }
      if quitNow {
        Interrupt.pressing("q")
        target.interrupt()
      }
      if key == .end { MonotonicClock.pause(.milliseconds(50)) }
    }
  }

  /// The next key within `timeout` (nil: as long as it takes); nil on timeout or when a stop
  /// (Ctrl-C, SIGTERM) was requested.
  func key(timeout: Duration?) -> KeyboardInput.Key? {
    guard handle != nil else { return input.key(timeout: timeout) }
    let deadline = timeout.map { MonotonicClock.nanoseconds() + UInt64(max(0, $0.nanoseconds)) }
    while true {
      if let k = state.withLock({ $0.queue.isEmpty ? nil : $0.queue.removeFirst() }) { return k }
      if Interrupt.isRequested || Interrupt.terminationSignal != 0 { return nil }
      let now = MonotonicClock.nanoseconds()
      if let deadline, now >= deadline { return nil }
      let left = deadline.map { Duration.nanoseconds(Int64($0 - now)) } ?? .milliseconds(10)
      MonotonicClock.pause(min(left, .milliseconds(10)))
    }
  }

  func restore() { input.restore() }
}
