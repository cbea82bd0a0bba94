import CLab
import Glibc

/// A child forked for an IPC or signal experiment. Its whole life is one C body
/// (`clab_child_*` in CLab/ipc.c): no Swift runs in it between fork and _exit,
/// because the Swift runtime has no fork handlers. The shell talks to it through
/// pipes; whatever happens, the child is killed (if it still runs) and reaped
/// when the experiment lets go of it.
public final class IPCChild {
  public let pid: Int32
  /// How it ended, once reaped.
  public private(set) var status: TerminationStatus?
  /// What it used (wait4's rusage), once reaped.
  public private(set) var usage: ResourceUsage?

  private init(pid: Int32) { self.pid = pid }

  /// fork(2). The child resets every signal disposition and its mask, asks for
  /// SIGKILL when the shell dies (PR_SET_PDEATHSIG), closes `closing` (the
  /// shell's ends it must not hold), then runs `body(&args)` until _exit.
  /// `args` is copied into the child by fork: pointers in it must be valid during this call.
  public static func fork<Args>(
    _ what: @autoclosure () -> String, body: clab_child_body, args: Args, closing: [Int32] = []
  ) throws -> IPCChild {
    var args = args
    let pid = try Trace.call("fork", "child: " + what(), describe: { "pid \($0)" }) {
      withUnsafePointer(to: &args) { a in
        closing.withUnsafeBufferPointer { clab_ipc_fork(body, a, $0.baseAddress, Int32($0.count)) }
      }
    }
    return IPCChild(pid: pid)
  }

  deinit { _ = stop() }

  /// Runs an experiment; if it fails while Ctrl-C is pending, the failure is the stop:
  /// Ctrl-C at a terminal reaches the children too (one process group), so the shell may
  /// first see a child's end (EPIPE, ECONNREFUSED) rather than its own EINTR.
  public static func stoppable<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch  where Interrupt.isRequested && !(error is Interrupted) {
      throw Interrupted()
    }
  }

  /// Whether it has ended (waitid WNOWAIT: it stays to be reaped).
  public var hasEnded: Bool {
    status != nil || ((try? Wait.endedWithoutReaping(pid, noHang: true)) ?? nil) != nil
  }

  /// wait4 until it ends, for at most `timeout`; then SIGKILL and wait4 if it has not.
  /// Ctrl-C during the wait kills it at once.
  @discardableResult
  public func finish(within timeout: Duration = .seconds(2)) -> TerminationStatus {
    if let status { return status }
    if let r = try? Wait.wait4(pid, timeout: timeout) { return record(r) }
    return stop()
  }

  /// wait4 until it ends, for at most `timeout`: its status (now reaped), or nil if it
  /// still runs. Ctrl-C throws `Interrupted` (the child is stopped when let go of).
  public func waitForEnd(within timeout: Duration) throws -> TerminationStatus? {
    if let status { return status }
    return try Wait.wait4(pid, timeout: timeout).map(record)
  }

  /// wait4 without waiting: the status if it has ended (and is now reaped), nil if it runs.
  public func reapIfEnded() -> TerminationStatus? {
    if let status { return status }
    return (try? Wait.wait4(pid, noHang: true)).flatMap { $0 }.map(record)
  }

  /// The first change of state (ended: reaped; stopped) within `timeout` (wait4 WUNTRACED).
  public func change(within timeout: Duration) throws -> TerminationStatus? {
    if let status { return status }
    guard let r = try Wait.change(pid, within: timeout) else { return nil }
    if case .stopped = r.status { return r.status }
    if case .continued = r.status { return r.status }
    return record(r)
  }

  /// kill(SIGKILL) and wait4, if it is still there.
  @discardableResult
  public func stop() -> TerminationStatus {
    if let status { return status }
    SignalSender.sendQuietly(SIGKILL, to: pid)
    SignalSender.sendQuietly(SIGCONT, to: pid)
    if let r = Wait.reap(pid) { return record(r) }
    status = .signaled(SIGKILL, coreDumped: false)
    return status!
  }

  private func record(_ r: ReapedChild) -> TerminationStatus {
    status = r.status
    usage = r.usage
    return r.status
  }
}

/// The pipes the shell and a child talk through, closed when the experiment ends.
public final class IPCPipe {
  public private(set) var read: Int32
  public private(set) var write: Int32

  /// pipe2(O_CLOEXEC).
  public init() throws { (read, write) = try Descriptors.pipe() }

  deinit { close() }

  public func closeRead() {
    if read >= 0 { Descriptors.close(read) }
    read = -1
  }

  public func closeWrite() {
    if write >= 0 { Descriptors.close(write) }
    write = -1
  }

  public func close() {
    closeRead()
    closeWrite()
  }

  /// write(2) one command byte to a child.
  public func send(_ byte: Character) throws { try Descriptors.writeAll(write, String(byte)) }

  /// Reads exactly one C value the child wrote (poll + read), waiting at most `timeout`.
  public func receive<T>(_ type: T.Type, within timeout: Duration = .seconds(5)) throws -> T {
    let bytes = try readExactly(MemoryLayout<T>.size, within: timeout)
    return bytes.withUnsafeBytes { $0.loadUnaligned(as: T.self) }
  }

  /// Like `receive`, but nil when nothing (or not all of it) came within `timeout`.
  public func receiveIfAny<T>(_ type: T.Type, within timeout: Duration) throws -> T? {
    do { return try receive(type, within: timeout) } catch let e as SystemError
      where e.errno == ETIMEDOUT || e.errno == EPIPE
    {
      return nil
    }
  }

  /// Reads `count` C values of one type.
  public func receive<T>(_ count: Int, of type: T.Type, within timeout: Duration = .seconds(5)) throws -> [T]
  {
    let size = MemoryLayout<T>.stride
    let bytes = try readExactly(size * count, within: timeout)
    return (0..<count).map { i in
      bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: i * size, as: T.self) }
    }
  }

  /// poll + read until `count` bytes came: ETIMEDOUT after `timeout`, EPIPE at end of
  /// file (the child ended), `Interrupted` on Ctrl-C.
  public func readExactly(_ count: Int, within timeout: Duration) throws -> [UInt8] {
    var data: [UInt8] = []
    let deadline = MonotonicClock.nanoseconds() + UInt64(max(0, timeout.nanoseconds))
    while data.count < count {
      try Interrupt.check()
      if MonotonicClock.nanoseconds() >= deadline { throw SystemError("read", errno: ETIMEDOUT) }
      if Descriptors.readable([read], timeout: .milliseconds(20)).isEmpty { continue }
      let chunk = try Descriptors.read(read, max: count - data.count)
      if chunk.isEmpty { throw SystemError("read", errno: EPIPE) }
      data += chunk
    }
    return data
  }
}
