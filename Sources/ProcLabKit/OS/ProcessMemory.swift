import CLab
import Glibc

/// Reading another process's memory through /proc/PID/mem (open + pread), as a
/// debugger would: an independent check of what a process holds at an address.
public enum ProcessMemory {
  /// pread(/proc/PID/mem, 8 bytes, address): the machine word at `address` in
  /// process `pid`, or nil when the kernel refuses (ptrace rules) or the process is gone.
  public static func word(pid: Int32, at address: UInt) -> Int? {
    let start = Clock.nanoseconds()
    let fd = open("/proc/\(pid)/mem", O_RDONLY | O_CLOEXEC)
    if fd < 0 {
      Trace.record(
        "open", "/proc/\(pid)/mem, O_RDONLY", result: "-1 \(SystemError.name(of: clab_errno()))", since: start
      )
      return nil
    }
    defer { close(fd) }
    var value = 0
    let n = pread(fd, &value, MemoryLayout<Int>.size, off_t(Int64(bitPattern: UInt64(address))))
    Trace.record(
      "pread", "/proc/\(pid)/mem, 8 bytes at \(Units.address(address))",
      result: n == MemoryLayout<Int>.size ? "\(value)" : "-1 \(SystemError.name(of: clab_errno()))",
      since: start)
    return n == MemoryLayout<Int>.size ? value : nil
  }

  /// gettid(2): the calling thread's ID.
  public static var currentThread: Int32 { clab_gettid() }
}
