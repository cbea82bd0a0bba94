import CLab
import Glibc

/// Timing the creation and end of a thread or a process. The timed loop is C
/// (`clab_cost_loop`): Swift chooses what to time next and keeps the numbers,
/// so it adds nothing between the two clock readings.
public enum CreationCost {
  /// The ways `cost` creates something and waits for it to end.
  public enum Way: String, CaseIterable, Sendable {
    case thread
    /// fork from a small C process (proclab-forker), timed there with the same C loop.
    case forkSmall = "fork_small"
    /// fork from this shell.
    case forkShell = "fork_shell"
    /// posix_spawn of the tiny static program.
    case spawnTiny = "spawn"
    /// posix_spawn + exec of /bin/true.
    case spawnTrue = "exec"
  }

  /// What one loop in this process creates.
  public enum Kind: Sendable {
    /// pthread_create(an empty start routine) + pthread_join.
    case thread
    /// fork(); the child calls _exit(0) at once; waitpid.
    case fork
    /// posix_spawn(path, {path}, environ) without attributes + waitpid; the program must exit 0.
    case spawn(String)
  }

  /// `count` samples of one kind back to back, in nanoseconds each (clock_gettime(CLOCK_MONOTONIC)).
  public static func loop(_ kind: Kind, count: Int) throws -> [Int64] {
    try placedLoop(kind, count: count).map(\.ns)
  }

  /// One sample, and for a thread whether it ran on another CPU than the one its creator was on
  /// just before pthread_create (sched_getcpu(3) in both).
  public struct Sample: Sendable {
    public var ns: Int64
    public var otherCPU: Bool
  }

  /// `loop`, with where each new thread ran.
  public static func placedLoop(_ kind: Kind, count: Int) throws -> [Sample] {
    var out = [Int64](repeating: 0, count: count)
    var placed = [Int32](repeating: 0, count: count)
    let (code, path, name): (Int32, String?, String) =
      switch kind {
      case .thread: (Int32(CLAB_COST_THREAD), nil, "pthread_create+pthread_join")
      case .fork: (Int32(CLAB_COST_FORK), nil, "fork+_exit+waitpid")
      case .spawn(let p): (Int32(CLAB_COST_SPAWN), p, "posix_spawn+waitpid \(p)")
      }
    let start = MonotonicClock.nanoseconds()
    let rc = out.withUnsafeMutableBufferPointer { buf in
      placed.withUnsafeMutableBufferPointer { where_ in
        (path ?? "").withCString {
          clab_cost_loop(code, path == nil ? nil : $0, Int32(count), buf.baseAddress, where_.baseAddress)
        }
      }
    }
    if rc < 0 {
      Trace.record(name, "×\(count)", result: "-1 \(SystemError.name(of: -rc))", since: start)
      // Ctrl-C at a terminal reaches a spawned child too (same process group) and kills it.
      if Interrupt.isRequested { throw Interrupted() }
      if -rc == ENOEXEC {
        throw SystemError("posix_spawn \(path ?? "") (the program did not exit 0)", errno: ENOEXEC)
      }
      throw SystemError(name, errno: -rc)
    }
    Trace.record(name, "×\(count), back to back", result: "\(count) samples", since: start)
    let isThread = if case .thread = kind { true } else { false }
    return zip(out, placed).map { Sample(ns: $0, otherCPU: isThread && $1 != 0) }
  }
}

extension CreationCost {
  /// getrusage(RUSAGE_SELF).ru_minflt: page faults this process took that needed
  /// no disk (copy-on-write faults among them), over its life and its ended threads'.
  public static func minorFaults() -> Int {
    var u = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &u)
    return Int(u.ru_minflt)
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

  /// memfd_create("proclab-tiny-program", MFD_CLOEXEC | MFD_EXEC) + write + reopen read-only
  /// (execve refuses a file open for writing: ETXTBSY). Nil on machines without a tiny
  /// program (not x86_64 or aarch64) or without memfd.
  public init?() {
    guard let image = TinyProgram.image() else { return nil }
    // MFD_EXEC (0x10, Linux 6.3+) says the file is meant to be executed; older kernels refuse it.
    let start = MonotonicClock.nanoseconds()
    var fd = memfd_create("proclab-tiny-program", 0x0001 | 0x0010)
    if fd < 0 && errno == EINVAL { fd = memfd_create("proclab-tiny-program", 0x0001) }
    Trace.record(
      "memfd_create", "\"proclab-tiny-program\", MFD_CLOEXEC|MFD_EXEC",
      result: fd >= 0 ? "\(fd)" : "-1 \(SystemError.name(of: errno))", since: start)
    guard fd >= 0 else { return nil }
    defer { Descriptors.close(fd) }
    guard (try? Descriptors.writeAll(fd, image)) != nil,
      let readOnly = try? Trace.call(
        "open", "/proc/self/fd/\(fd), O_RDONLY|O_CLOEXEC",
        { Glibc.open("/proc/self/fd/\(fd)", O_RDONLY | O_CLOEXEC) })
    else { return nil }
    descriptor = readOnly
    size = image.count
  }

  /// close(fd): the in-memory file disappears with its last descriptor.
  public func close() { Descriptors.close(descriptor) }

  /// An ELF header, one PT_LOAD program header and the machine code of exit_group(0).
  static func image() -> [UInt8]? {
    #if arch(x86_64)
      // mov eax, 231 (exit_group); xor edi, edi; syscall
      let code: [UInt8] = [0xb8, 0xe7, 0x00, 0x00, 0x00, 0x31, 0xff, 0x0f, 0x05]
      let machine: UInt16 = 62  // EM_X86_64
    #elseif arch(arm64)
      // mov x0, #0; mov x8, #94 (exit_group); svc #0
      let code: [UInt8] = [0x00, 0x00, 0x80, 0xd2, 0xc8, 0x0b, 0x80, 0xd2, 0x01, 0x00, 0x00, 0xd4]
      let machine: UInt16 = 183  // EM_AARCH64
    #else
      return nil
    #endif
    let base: UInt64 = 0x40_0000
    let headers = 64 + 56
    let total = UInt64(headers + code.count)
    var b: [UInt8] = [0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0] + [UInt8](repeating: 0, count: 8)  // ELF, 64-bit, LSB, v1, SYSV
    func put<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { b += $0 } }
    put(UInt16(2))  // ET_EXEC
    put(machine)
    put(UInt32(1))  // EV_CURRENT
    put(base + UInt64(headers))  // entry: the code after the headers
    put(UInt64(64))  // program headers right after this one
    put(UInt64(0))  // no section headers
    put(UInt32(0))
    put(UInt16(64))
    put(UInt16(56))
    put(UInt16(1))
    put(UInt16(0))
    put(UInt16(0))
    put(UInt16(0))
    put(UInt32(1))  // PT_LOAD
    put(UInt32(5))  // PF_R | PF_X
    put(UInt64(0))  // from the start of the file
    put(base)
    put(base)
    put(total)
    put(total)
    put(UInt64(0x1000))
    return b + code
  }
}

/// How big a process is, as fork has to copy it: resident memory and mappings.
public enum AddressSpace {
  /// The number of lines of /proc/PID/maps: one per mapping (VMA).
  public static func mappingCount(_ pid: Int32 = getpid()) -> Int {
    (ProcFS.read("/proc/\(pid)/maps") ?? "").split(separator: "\n").count
  }

  /// Resident anonymous memory (RssAnon in /proc/PID/status), in bytes: private pages
  /// whose page-table entries fork copies one by one.
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
