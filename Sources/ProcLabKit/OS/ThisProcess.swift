import Glibc

/// Facts about the calling process that come from one cheap system call each.
public enum ThisProcess {
  /// getpid(2)
  public static var id: Int32 {
    let start = MonotonicClock.nanoseconds()
    let pid = getpid()
    Trace.record("getpid", "", result: "\(pid)", since: start)
    return pid
  }

  /// getpid(2) with no trace entry: for a report naming the shell, which is not one of the
  /// experiment's calls.
  public static var untracedID: Int32 { getpid() }

  /// getppid(2)
  public static var parent: Int32 {
    let start = MonotonicClock.nanoseconds()
    let pid = getppid()
    Trace.record("getppid", "", result: "\(pid)", since: start)
    return pid
  }

  /// getpgrp(2): the process group this process is in (the terminal's foreground group
  /// when started from a shell), which a child can join to get the terminal's Ctrl-C too.
  public static var group: Int32 { getpgrp() }

  /// exit(3): runs the C library's exit handlers, then ends the process with `status`.
  public static func exit(_ status: Int32) -> Never { Glibc.exit(status) }

  /// raise(3): sends `signal` to the calling thread (a lab child that ends itself by a signal).
  public static func raise(_ signal: Int32) { _ = Glibc.raise(signal) }

  /// sysconf(_SC_NPROCESSORS_ONLN): glibc reads /sys/devices/system/cpu/online.
  public static var onlineCores: Int { Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))) }
}

/// uname(2): the kernel's name, release and machine.
public enum Uname {
  public struct Info: Sendable {
    public var system, release, machine: String
  }

  public static func current() -> Info {
    var u = utsname()
    let start = MonotonicClock.nanoseconds()
    uname(&u)
    func field<T>(_ value: T) -> String {
      withUnsafeBytes(of: value) { raw in
        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
      }
    }
    let info = Info(system: field(u.sysname), release: field(u.release), machine: field(u.machine))
    Trace.record("uname", "", result: "\(info.system) \(info.release)", since: start)
    return info
  }
}
