import CLab
import Glibc

/// Timing the creation and end of a thread or a process, one sample at a time.
/// The timed work is C (CLab `clab_cost_*`): the Swift layer only chooses what to
/// time next and keeps the numbers, so it adds nothing between the two clock readings.
public enum CreationCost {
  /// The ways `cost` creates something and waits for it to end.
  public enum Way: String, CaseIterable, Sendable {
    case thread
    case fork
    /// posix_spawn of the tiny static program.
    case spawnTiny = "spawn"
    /// posix_spawn + exec of /bin/true.
    case spawnTrue = "exec"
  }

  /// pthread_create(an empty start routine) + pthread_join, timed with clock_gettime(CLOCK_MONOTONIC).
  public static func thread() throws -> Int64 {
    try sample("pthread_create+pthread_join", "empty start routine") { clab_cost_thread() }
  }

  /// fork(); the child calls _exit(0) at once; the parent waitpid()s. Timed in C:
  /// no Swift runs in the child.
  public static func fork() throws -> Int64 {
    try sample("fork+waitpid", "child calls _exit(0)") { clab_cost_fork() }
  }

  /// posix_spawn(path, {path}, environ) without attributes, then waitpid.
  public static func spawn(_ path: String) throws -> Int64 {
    var code: Int32 = -1
    let ns = try sample("posix_spawn+waitpid", path) { clab_cost_spawn(path, &code) }
    if code != 0 {
      // Ctrl-C at a terminal reaches the child too (same process group) and kills it.
      if Interrupt.isRequested { throw Interrupted() }
      throw SystemError("posix_spawn \(path) (the program did not exit 0)", errno: ENOEXEC)
    }
    return ns
  }

  private static func sample(_ name: String, _ arguments: String, _ body: () -> Int64) throws -> Int64 {
    let start = Clock.nanoseconds()
    let ns = body()
    if ns < 0 {
      Trace.record(name, arguments, result: "-1 \(SystemError.name(of: Int32(-ns)))", since: start)
      throw SystemError(name, errno: Int32(-ns))
    }
    Trace.record(name, arguments, result: Units.duration(.nanoseconds(ns)), since: start)
    return ns
  }
}

/// The smallest program this machine can run: a static ELF file of about 130
/// bytes whose three instructions call exit_group(0), held in an anonymous
/// in-memory file (memfd_create) so nothing is written to disk. Spawning it
/// measures what posix_spawn and execve cost with no dynamic loader and no libc.
public final class TinyProgram {
  public let descriptor: Int32
  public let size: Int
  /// The path execve opens: /proc/self/fd/N (the child has a copy of the descriptor until exec).
  public var path: String { "/proc/self/fd/\(descriptor)" }

  /// memfd_create("proclab-tiny-program", MFD_CLOEXEC | MFD_EXEC) + write + reopen read-only.
  /// Nil on machines without a tiny program (not x86_64 or aarch64) or without memfd.
  public init?() {
    var size: Int32 = 0
    let start = Clock.nanoseconds()
    let fd = clab_tiny_program_create(&size)
    Trace.record(
      "memfd_create", "\"proclab-tiny-program\", MFD_CLOEXEC|MFD_EXEC",
      result: fd >= 0
        ? "\(fd) (\(size) bytes written, reopened O_RDONLY)" : "-1 \(SystemError.name(of: -fd))",
      since: start)
    if fd < 0 { return nil }
    descriptor = fd
    self.size = Int(size)
  }

  /// close(fd): the in-memory file disappears with its last descriptor.
  public func close() {
    Descriptors.close(descriptor)
  }
}

/// How big a process is, as fork has to copy it: resident memory and mappings.
public enum AddressSpace {
  /// The number of lines of /proc/self/maps: one per mapping (VMA) fork must copy.
  public static func mappingCount() -> Int {
    (ProcFS.read("/proc/self/maps") ?? "").split(separator: "\n").count
  }

  /// Whether the CPU tags TLB entries by address space (the `pcid` flag in /proc/cpuinfo),
  /// so switching page tables need not flush the TLB.
  public static func cpuHasPCID() -> Bool? {
    guard let text = ProcFS.read("/proc/cpuinfo") else { return nil }
    guard let flags = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return nil }
    return flags.split(separator: " ").contains("pcid")
  }
}
