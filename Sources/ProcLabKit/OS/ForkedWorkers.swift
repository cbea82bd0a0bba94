import CLab
import Glibc

/// CPU-bound work in child processes made with fork(2). The child runs only C
/// (CLab's clab_fork_worker: tie its life to the shell with PR_SET_PDEATHSIG,
/// compute, write the result to a pipe, _exit), never Swift, because the Swift
/// runtime has no fork handlers.
public enum ForkedWorkers {
  /// fork(): starts a child computing units [begin, end) that reports on `fd`;
  /// it dies with the shell (PR_SET_PDEATHSIG).
  public static func start(
    units: Range<UInt64>, steps: Int, unitsPerSlice: Int, ownLock: Bool, reportFD: Int32, sliceCapacity: Int
  ) throws -> Int32 {
    let start = MonotonicClock.nanoseconds()
    let pid = clab_fork_worker(
      units.lowerBound, units.upperBound, Int32(steps), Int32(unitsPerSlice), ownLock ? 1 : 0, reportFD,
      Int32(sliceCapacity))
    let err = errno
    Trace.record(
      "fork", "child computes units \(units.lowerBound)..<\(units.upperBound)",
      result: pid < 0 ? "-1 \(SystemError.name(of: err))" : "pid \(pid)", since: start)
    if pid < 0 { throw SystemError("fork", errno: err) }
    return pid
  }

  /// Reads exactly `length` bytes (poll + read) within `timeout`; returns how many arrived
  /// (fewer at the deadline, at end of file or on Ctrl-C).
  public static func readExactly(
    _ fd: Int32, into buffer: UnsafeMutableRawPointer, length: Int, timeout: Duration
  ) -> Int {
    let start = MonotonicClock.nanoseconds()
    let deadline = start &+ UInt64(max(0, timeout.nanoseconds))
    var got = 0
    while got < length && !Interrupt.isRequested {
      let now = MonotonicClock.nanoseconds()
      if now >= deadline { break }
      let wait = Duration.nanoseconds(Int64(min(deadline - now, 50_000_000)))
      guard Descriptors.readable([fd], timeout: wait).contains(fd) else { continue }
      let n = Glibc.read(fd, buffer + got, length - got)
      if n < 0 && errno == EINTR { continue }
      if n <= 0 { break }
      got += n
    }
    Trace.record("read", "\(fd), \(length) bytes", result: "\(got)", since: start)
    return got
  }

  /// kill(pid, SIGKILL) and wait4 (Wait.reap): used when a worker must be stopped early.
  public static func killAndReap(_ pid: Int32) -> ReapedChild? {
    SignalSender.sendQuietly(SIGKILL, to: pid)
    return Wait.reap(pid)
  }
}
