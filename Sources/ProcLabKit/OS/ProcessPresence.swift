import Glibc

extension ProcFS {
  /// Whether the kernel still has a process (or zombie) `pid`: access(2) on /proc/PID/status.
  public static func processExists(_ pid: Int32) -> Bool { access("/proc/\(pid)/status", F_OK) == 0 }

  /// Whether thread `tid` still exists, inside `pid` or anywhere (/proc/TID works for any thread,
  /// though only thread-group leaders are listed in /proc).
  public static func threadExists(_ tid: Int32, of pid: Int32) -> Bool {
    access("/proc/\(pid)/task/\(tid)", F_OK) == 0 || access("/proc/\(tid)/status", F_OK) == 0
  }

  /// Whether /proc/PID/task still exists: some thread of the process (or its zombie) remains.
  public static func taskDirectoryExists(_ pid: Int32) -> Bool { access("/proc/\(pid)/task", F_OK) == 0 }
}
