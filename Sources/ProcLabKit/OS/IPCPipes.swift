import CLab
import Glibc

/// What filling a pipe that nobody reads showed.
public struct PipeFillResult: Sendable {
  public var child: Int32
  public var readFD: Int32
  public var writeFD: Int32
  /// F_GETPIPE_SZ of this pipe.
  public var capacity: Int
  /// Bytes the non-blocking writer got in before EAGAIN.
  public var filled: Int
  public var writeCalls: Int
  /// The errno of the refused write (EAGAIN).
  public var refusal: String
  /// How long a blocking write of `blockedBytes` stalled, the reader starting after `readerDelay`.
  public var blocked: Duration
  public var blockedBytes: Int
  public var readerDelay: Duration
  public var readerTotal: Int
  public var readerReads: Int
  public var readerSawEOF: Bool
  public var status: TerminationStatus
}

/// Pipe experiments beyond plain pipe2 (see Descriptors).
public enum IPCPipes {
  /// pipe2 + fcntl(F_GETPIPE_SZ) + O_NONBLOCK writes until EAGAIN, then a blocking write
  /// that waits for a forked reader, then close(write end) and the reader's EOF.
  public static func fill(readerDelay: Duration) throws -> PipeFillResult {
    var f = clab_ipc_pipe_fill()
    f.delay_ns = readerDelay.nanoseconds
    let start = MonotonicClock.nanoseconds()
    let rc = {
      IPCCallLog.begin()
      defer { IPCCallLog.end() }
      return clab_ipc_pipe_fill_run(&f)
    }()
    let failed = f.failed_call.map { String(cString: $0) }
    Trace.record(
      "pipe2+fork", "fcntl(F_GETPIPE_SZ), fcntl(O_NONBLOCK), write until EAGAIN, blocking write, close",
      result: rc == 0
        ? "F_GETPIPE_SZ \(f.capacity_fcntl), \(f.filled) B then EAGAIN, reader \(f.child) read \(f.child_total) B then EOF"
        : rc == -2 ? "interrupted" : "-1 \(SystemError.name(of: f.failed_errno)) in \(failed ?? "?")",
      since: start)
    if rc == -2 { throw Interrupted() }
    if rc != 0 { throw SystemError(failed ?? "pipe fill", errno: f.failed_errno) }
    return PipeFillResult(
      child: f.child, readFD: f.read_fd, writeFD: f.write_fd, capacity: Int(f.capacity_fcntl),
      filled: Int(f.filled),
      writeCalls: Int(f.write_calls), refusal: SystemError.name(of: f.eagain_errno),
      blocked: .nanoseconds(f.blocked_ns),
      blockedBytes: Int(f.blocked_bytes), readerDelay: readerDelay, readerTotal: Int(f.child_total),
      readerReads: Int(f.child_reads), readerSawEOF: f.child_eof != 0,
      status: TerminationStatus(waitStatus: f.status))
  }

  /// fcntl(F_GETPIPE_SZ) of a fresh pipe: what this kernel gives a new pipe.
  public static func defaultCapacity() -> Int {
    let start = MonotonicClock.nanoseconds()
    let n = clab_ipc_default_pipe_size()
    Trace.record("fcntl", "F_GETPIPE_SZ of a new pipe", result: "\(n)", since: start)
    return Int(n)
  }
}
