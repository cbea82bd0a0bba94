import CLab
import Glibc

/// Reading another process's memory through /proc/PID/mem (open + pread), as a
/// debugger would: an independent check of what a process holds at an address.
public enum ProcessMemory {
  /// pread(/proc/PID/mem, 8 bytes, address): the machine word at `address` in
  /// process `pid`, or nil when the kernel refuses (ptrace rules) or the process is gone.
  public static func word(pid: Int32, at address: UInt) -> Int? {
    let start = MonotonicClock.nanoseconds()
    let fd = open("/proc/\(pid)/mem", O_RDONLY | O_CLOEXEC)
    if fd < 0 {
      Trace.record(
        "open", "/proc/\(pid)/mem, O_RDONLY", result: "-1 \(SystemError.name(of: errno))", since: start
      )
      return nil
    }
    defer { close(fd) }
    var value = 0
    let n = pread(fd, &value, MemoryLayout<Int>.size, off_t(Int64(bitPattern: UInt64(address))))
    Trace.record(
      "pread", "/proc/\(pid)/mem, 8 bytes at \(Units.address(address))",
      result: n == MemoryLayout<Int>.size ? "\(value)" : "-1 \(SystemError.name(of: errno))",
      since: start)
    return n == MemoryLayout<Int>.size ? value : nil
  }

  /// The physical page frame behind `address` in process `pid`, from
  /// /proc/PID/pagemap (pread of its 8-byte entry: bit 63 present, bits 0–54 the
  /// frame number). nil when the page is not present or the kernel hides frame
  /// numbers (it shows 0 without CAP_SYS_ADMIN).
  public static func frame(pid: Int32, at address: UInt) -> UInt64? {
    let page = UInt(sysconf(Int32(_SC_PAGESIZE)))
    let start = MonotonicClock.nanoseconds()
    let fd = open("/proc/\(pid)/pagemap", O_RDONLY | O_CLOEXEC)
    if fd < 0 { return nil }
    defer { close(fd) }
    var entry: UInt64 = 0
    let offset = off_t(Int64(bitPattern: UInt64(address / page) * 8))
    let n = pread(fd, &entry, 8, offset)
    let present = entry & (1 << 63) != 0
    let pfn = entry & ((1 << 55) - 1)
    Trace.record(
      "pread", "/proc/\(pid)/pagemap, entry of page \(Units.address(address / page * page))",
      result: n == 8 ? (present ? "frame \(pfn)" : "not present") : "-1", since: start)
    return n == 8 && present && pfn != 0 ? pfn : nil
  }

  /// gettid(2): the calling thread's ID.
  public static var currentThread: Int32 { gettid() }
}
