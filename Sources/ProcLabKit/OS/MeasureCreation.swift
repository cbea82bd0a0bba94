import CLab
import Glibc

/// Timing the creation and end of a thread or a process, one sample at a time.
/// The timed work is C (CLab `clab_cost_*`): the Swift layer only chooses what to
/// time next and keeps the numbers, so it adds nothing between the two clock readings.
public enum CreationCost {
  /// The ways `cost` creates something and waits for it to end.
  public enum Way: String, CaseIterable, Sendable {
    case thread
    /// fork from a small C process (proclab-forker), timed there with the same C function.
    case forkSmall = "fork_small"
    /// fork from this shell.
    case forkShell = "fork_shell"
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
    let start = MonotonicClock.nanoseconds()
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
    let start = MonotonicClock.nanoseconds()
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

  /// Resident anonymous memory (RssAnon in /proc/PID/status), in bytes: the private
  /// pages whose page-table entries fork copies one by one (file pages it mostly skips).
  public static func anonymousResidentBytes(_ pid: Int32 = getpid()) -> Int? {
    guard let v = ProcFS.status(pid, field: "RssAnon"), let kb = Int(v.split(separator: " ").first ?? "")
    else {
      return nil
    }
    return kb * 1024
  }

  /// The resident memory whose page-table entries fork copies, from /proc/PID/smaps: the
  /// Rss of every mapping that holds private (anonymous or copied-on-write) pages. fork
  /// skips the others (program text, read-only file data): the child faults them in anew.
  /// Returns the bytes and the number of such mappings.
  public static func forkCopiedResident(_ pid: Int32 = getpid()) -> (bytes: Int, mappings: Int)? {
    guard let text = ProcFS.read("/proc/\(pid)/smaps") else { return nil }
    var total = 0
    var count = 0
    var rss = 0
    var anonymous = 0
    var special = false
    func flush() {
      if anonymous > 0 || special {
        total += rss
        count += 1
      }
    }
    var first = true
    for line in text.split(separator: "\n") {
      let head = line.split(separator: " ", maxSplits: 1).first ?? ""
      if head.contains("-") && head.allSatisfy({ $0.isHexDigit || $0 == "-" }) {
        // A mapping's header line: "start-end perms offset dev inode [name]".
        if !first { flush() }
        first = false
        rss = 0
        anonymous = 0
        special = line.hasSuffix("[heap]") || line.hasSuffix("[stack]")
        continue
      }
      guard let colon = line.firstIndex(of: ":") else { continue }
      let key = line[..<colon]
      let value = Int(line[line.index(after: colon)...].split(separator: " ").first ?? "") ?? 0
      if key == "Rss" { rss = value * 1024 } else if key == "Anonymous" { anonymous = value }
    }
    if !first { flush() }
    return (total, count)
  }

  /// Whether the CPU tags TLB entries by address space (the `pcid` flag in /proc/cpuinfo),
  /// so switching page tables need not flush the TLB.
  public static func cpuHasPCID() -> Bool? {
    guard let text = ProcFS.read("/proc/cpuinfo") else { return nil }
    guard let flags = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return nil }
    return flags.split(separator: " ").contains("pcid")
  }
}
