import CLab
import Glibc

extension Wait {
  /// waitid(P_PID, pid, WEXITED|WNOWAIT[|WNOHANG]): how the child ended, without
  /// reaping it (it stays a zombie); nil while it still runs (with `noHang`).
  public static func endedWithoutReaping(_ pid: Int32, noHang: Bool) throws -> TerminationStatus? {
    var info = siginfo_t()
    let options = WEXITED | WNOWAIT | (noHang ? WNOHANG : 0)
    let start = MonotonicClock.nanoseconds()
    try systemCall("waitid") { waitid(P_PID, id_t(pid), &info, options) }
    // With WNOHANG and no change, waitid returns 0 and leaves si_pid 0.
    let code = Int(info.si_code)
    let status = info._sifields._sigchld.si_status
    let result: TerminationStatus? =
      info._sifields._sigchld.si_pid == 0
      ? nil
      : (code == CLD_EXITED ? .exited(status) : .signaled(status, coreDumped: code == CLD_DUMPED))
    Trace.record(
      "waitid", "P_PID \(pid), WEXITED|WNOWAIT\(noHang ? "|WNOHANG" : "")",
      result: result.map { "\($0), left unreaped" } ?? "0 (still running)", since: start)
    return result
  }

  /// Waits (polling, Ctrl-C honoured) until the child has ended, leaving it unreaped.
  public static func endedWithoutReaping(_ pid: Int32, timeout: Duration) throws -> TerminationStatus? {
    let end = MonotonicClock.nanoseconds() + UInt64(max(0, timeout.nanoseconds))
    var pause: UInt64 = 50_000
    while true {
      if let s = try endedWithoutReaping(pid, noHang: true) { return s }
      if MonotonicClock.nanoseconds() >= end { return nil }
      try MonotonicClock.sleep(.nanoseconds(Int64(pause)))
      pause = min(pause * 2, 10_000_000)
    }
  }

  /// waitid(P_ALL, WNOHANG|WNOWAIT): false when the kernel says this process has no children (ECHILD).
  public static var hasAnyChildren: Bool {
    var info = siginfo_t()
    let start = MonotonicClock.nanoseconds()
    let rc = waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT)
    let err = errno
    Trace.record(
      "waitid", "P_ALL, WEXITED|WNOHANG|WNOWAIT", result: rc == 0 ? "0" : "-1 \(SystemError.name(of: err))",
      since: start)
    return !(rc != 0 && err == ECHILD)
  }

  /// wait4(pid, WNOHANG|WUNTRACED|WCONTINUED) polled for up to `timeout`: the first
  /// change of state (ended, stopped, continued), or nil if none happened.
  public static func change(_ pid: Int32, within timeout: Duration) throws -> ReapedChild? {
    let end = MonotonicClock.nanoseconds() + UInt64(max(0, timeout.nanoseconds))
    var pause: UInt64 = 50_000
    while true {
      if let r = try wait4(pid, noHang: true, untraced: true) { return r }
      if MonotonicClock.nanoseconds() >= end { return nil }
      try MonotonicClock.sleep(.nanoseconds(Int64(pause)))
      pause = min(pause * 2, 5_000_000)
    }
  }
}
