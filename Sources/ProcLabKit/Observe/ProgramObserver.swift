import Glibc
import Synchronization

/// Runs one program under ptrace and records what it did: `observe`'s work,
/// done in a lab child of the shell, so the tracer's waitpid(-1) sees only the
/// traced tree and never one of the shell's own children.
public enum ProgramObserver {
  public struct Request: Sendable {
    public var path: String
    public var arguments: [String]
    public var timeout: Duration = .seconds(10)
    /// A signal to send the program this long after it started (`--signal INT --after 0.5`).
    public var signal: Int32?
    public var signalAfter: Duration = .milliseconds(500)
    /// At most this many system calls: then the program and all it started are killed.
    public var limit = 1_000_000

    public init(path: String, arguments: [String]) {
      self.path = path
      self.arguments = arguments
    }

    public var json: JSON {
      [
        "path": .string(path), "argv": .array(arguments.map(JSON.string)),
        "timeout_ms": .int(Int(timeout.milliseconds)), "signal": signal.map { .int(Int($0)) } ?? .null,
        "after_ms": .int(Int(signalAfter.milliseconds)), "limit": .int(limit),
      ]
    }

    public init?(json: JSON) {
      guard let path = json["path"]?.stringValue, let argv = json["argv"]?.arrayValue else { return nil }
      self.init(path: path, arguments: argv.compactMap(\.stringValue))
      timeout = .milliseconds(json["timeout_ms"]?.intValue ?? 10_000)
      signal = json["signal"]?.intValue.map(Int32.init)
      signalAfter = .milliseconds(json["after_ms"]?.intValue ?? 500)
      limit = json["limit"]?.intValue ?? 1_000_000
    }
  }

  /// The most output kept from the program (the rest is counted).
  static let outputLimit = 64 * 1024

  /// Observes the program to its end (or the timeout). Throws when it cannot be
  /// traced at all (ptrace refused); a program that fails to start is a result.
  public static func observe(_ request: Request) throws -> ObservedRun {
    // Orphans of the program come to this process instead of init, so they stay
    // in view and are reaped here; nothing of the program can outlive the run.
    try Subreaper.become()
    let null = try Descriptors.openNull()
    let out = try Descriptors.pipe()
    let err = try Descriptors.pipe()
    defer { Descriptors.close(null) }

    var environment = Environment.current()
    for key in environment.keys where key.hasPrefix("PROCLAB_") || key == "SWIFT_BACKTRACE" {
      environment[key] = nil
    }
    let start = MonotonicClock.nanoseconds()
    let child: PtraceLaunch.Child
    do {
      child = try PtraceLaunch.start(
        path: request.path, arguments: request.arguments,
        environment: environment.map { "\($0.key)=\($0.value)" }.sorted(), stdin: null, stdout: out.write,
        stderr: err.write, options: Ptrace.Options.followAll.union(.exitKill))
    } catch {
      for fd in [out.read, out.write, err.read, err.write] { Descriptors.close(fd) }
      throw error
    }
    Descriptors.close(out.write)
    Descriptors.close(err.write)
    defer { Descriptors.close(child.execErrors) }

    let control = TraceControl()
    let recorder = ObserveRecorder(
      observer: ThisProcess.id, root: child.pid, start: start, program: request.arguments)
    recorder.limit = (request.limit, control)
    let engine = PtraceEngine(mode: .launch, control: control, listener: recorder)
    engine.adopt(child.pid, pid: child.pid, awaitingStop: false)

    let output = OutputCollector(limit: outputLimit)
    let reader = try Threads.spawn("observe-output") { output.collect(from: [out.read, err.read]) }
    let scheduled = request.signal.map { (sig: $0, at: start + UInt64(request.signalAfter.nanoseconds)) }
    let watchdog = try TraceWatchdog.start(
      control, deadline: start + UInt64(request.timeout.nanoseconds), root: child.pid, scheduled: scheduled)

    var failure: Error?
    do { try engine.run() } catch {
      failure = error
      engine.killTree()
      Ptrace.reapAll()
    }
    let duration = MonotonicClock.nanoseconds() - start
    control.finished.store(true, ordering: .relaxed)
    Threads.join(watchdog)
    // Every writer is gone: the reader sees end of file on both pipes.
    Threads.join(reader)
    Descriptors.close(out.read)
    Descriptors.close(err.read)
    if let failure { throw failure }

    var run = recorder.result(program: request.arguments, duration: duration)
    run.output = output.chunks
    run.outputDropped = output.dropped
    run.timedOut = control.timedOut.load(ordering: .relaxed)
    run.limitReached = recorder.limitReached
    run.interrupted = Interrupt.isRequested
    if let e = PtraceLaunch.execError(child) {
      run.startError =
        "execve failed: \(SystemError("execve", errno: e).name) (\(SystemError("execve", errno: e).message))"
    }
    return run
  }
}

/// Reads the program's standard output and error as it writes them, on a
/// thread of its own: a program blocked on a full pipe would never reach its
/// next ptrace stop, and the tracer's loop would wait for it forever.
final class OutputCollector: Sendable {
  private struct State {
    var chunks: [OutputChunk] = []
    var kept = 0
    var dropped = 0
  }
  private let state = Mutex(State())
  let limit: Int

  init(limit: Int) { self.limit = limit }

  var chunks: [OutputChunk] { state.withLock { $0.chunks } }
  var dropped: Int { state.withLock { $0.dropped } }

  /// Reads until end of file on every descriptor (the first is stream 1, the second stream 2).
  func collect(from fds: [Int32]) {
    var open = fds
    while !open.isEmpty {
      for fd in Descriptors.readable(open, timeout: .milliseconds(100)) {
        guard let bytes = Descriptors.readSome(fd) else {
          open.removeAll { $0 == fd }
          continue
        }
        let stream: Int32 = fd == fds.first ? 1 : 2
        state.withLock { s in
          let room = max(0, limit - s.kept)
          let taken = bytes.prefix(room)
          s.dropped += bytes.count - taken.count
          s.kept += taken.count
          guard !taken.isEmpty else { return }
          let text = String(decoding: taken, as: UTF8.self)
          if let last = s.chunks.last, last.stream == stream {
            s.chunks[s.chunks.count - 1].text += text
          } else {
            s.chunks.append(OutputChunk(stream: stream, text: text))
          }
        }
      }
    }
  }
}
