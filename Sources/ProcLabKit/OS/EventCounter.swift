import CLab
import Glibc

/// An eventfd: a descriptor holding a 64-bit counter. A write adds to it; a
/// read returns it and resets it to 0, blocking while it is 0. poll() reports
/// it readable when the counter is not 0, so it stands in for "the reply arrived".
public enum EventCounter {
  /// The corresponding call is `eventfd(0, EFD_CLOEXEC)`.
  public static func create() throws -> Int32 {
    try systemCall("eventfd") { eventfd(0, O_CLOEXEC) }  // EFD_CLOEXEC is O_CLOEXEC
  }

  /// The corresponding call is `write(fd, &one, 8)`: adds 1 and wakes a reader or poller.
  public static func signal(_ fd: Int32) throws {
    var one: UInt64 = 1
    try systemCall("write") { Glibc.write(fd, &one, 8) }
  }

  /// The corresponding call is `read(fd, &value, 8)`: blocks until the counter is not 0,
  /// then returns it and resets it.
  @discardableResult
  public static func wait(_ fd: Int32) throws -> UInt64 {
    var value: UInt64 = 0
    try systemCall("read") { Glibc.read(fd, &value, 8) }
    return value
  }
}

/// This process's memory as /proc/self/status counts it, and its high-water mark.
public enum ProcessMemoryUse {
  public struct Sample: Sendable {
    /// VmRSS: pages resident in RAM.
    public var resident: Int
    /// VmSize: the whole address space, mapped or reserved.
    public var virtual: Int
    /// VmHWM: the most resident since the last reset.
    public var residentPeak: Int
  }

  public static func sample() -> Sample {
    func kb(_ field: String) -> Int {
      (ProcFS.status(getpid(), field: field)?.split(separator: " ").first.flatMap { Int($0) } ?? 0) * 1024
    }
    return Sample(resident: kb("VmRSS"), virtual: kb("VmSize"), residentPeak: kb("VmHWM"))
  }

  /// Writing "5" to /proc/self/clear_refs resets VmHWM to the current VmRSS,
  /// so the next peak is this experiment's own.
  public static func resetPeak() {
    let fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC)
    guard fd >= 0 else { return }
    _ = Glibc.write(fd, "5", 1)
    Glibc.close(fd)
  }
}

/// Whether poll() reports a regular file readable at once: for regular files
/// it always does (POLLIN with no wait), because the kernel never makes a
/// reader of a file wait for "readiness" — the read itself waits for the disk.
public enum RegularFileReadiness {
  /// The corresponding calls are `open(path, O_RDONLY)`, `poll({fd, POLLIN}, 1, 0)` and `close`.
  public static func pollsReadyAtOnce(_ path: String = "/proc/self/exe") -> Bool? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { Glibc.close(fd) }
    var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
    let n = poll(&entry, 1, 0)
    return n == 1 && entry.revents & Int16(POLLIN) != 0
  }
}
