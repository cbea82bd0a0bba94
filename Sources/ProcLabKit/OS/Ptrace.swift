import CLab
import Glibc

/// ptrace(2): one process (the tracer) stops another at its system calls,
/// forks, execs, signals and exit, and reads its registers and memory. This
/// is how `observe` and the kernel side of `set trace on` see what the kernel
/// really ran, and how strace and gdb work.
///
/// Every request here uses the PTRACE_SEIZE family (Linux 3.4): attaching
/// does not stop the tracee or send it a SIGSTOP, group-stops are reported as
/// PTRACE_EVENT_STOP, and PTRACE_INTERRUPT and PTRACE_LISTEN exist.
public enum Ptrace {
  /// The requests, from <sys/ptrace.h> (the same numbers on every architecture).
  enum Request: Int32 {
    case cont = 7
    case detach = 17
    case syscall = 24
    case getEventMessage = 0x4201
    case getSignalInfo = 0x4202
    case seize = 0x4206
    case interrupt = 0x4207
    case listen = 0x4208
    case getSyscallInfo = 0x420e
  }

  /// PTRACE_O_* options given to PTRACE_SEIZE.
  public struct Options: OptionSet, Sendable {
    public let rawValue: UInt
    public init(rawValue: UInt) { self.rawValue = rawValue }
    /// Syscall stops are reported as SIGTRAP|0x80, told apart from a real SIGTRAP.
    public static let traceSysGood = Options(rawValue: 0x01)
    public static let traceFork = Options(rawValue: 0x02)
    public static let traceVfork = Options(rawValue: 0x04)
    public static let traceClone = Options(rawValue: 0x08)
    public static let traceExec = Options(rawValue: 0x10)
    public static let traceExit = Options(rawValue: 0x40)
    /// Every tracee gets SIGKILL if the tracer exits: nothing of a traced program outlives `observe`.
    public static let exitKill = Options(rawValue: 0x10_0000)

    /// Follow every process and thread, stop at exec and exit.
    public static let followAll: Options = [
      .traceSysGood, .traceFork, .traceVfork, .traceClone, .traceExec, .traceExit,
    ]
  }

  /// The PTRACE_EVENT_* a stop reports in bits 16… of its wait status.
  public enum Event: Int32, Sendable {
    case fork = 1, vfork = 2, clone = 3, exec = 4, vforkDone = 5, exit = 6
    /// PTRACE_EVENT_STOP: a group-stop, a PTRACE_INTERRUPT, or a new tracee's first stop.
    case stop = 128
  }

  /// ptrace(PTRACE_SEIZE, tid, 0, options): attach to one thread without stopping it.
  public static func seize(_ tid: Int32, options: Options) throws {
    try request(.seize, tid, data: options.rawValue)
  }

  /// ptrace(PTRACE_INTERRUPT, tid): stop a seized thread (it reports PTRACE_EVENT_STOP).
  public static func interrupt(_ tid: Int32) throws { try request(.interrupt, tid) }

  /// ptrace(PTRACE_SYSCALL, tid, 0, signal): resume until the next system-call entry or exit,
  /// delivering `signal` (0: none). With `syscalls` false, PTRACE_CONT: no syscall stops.
  public static func resume(_ tid: Int32, signal: Int32 = 0, syscalls: Bool = true) throws {
    try request(syscalls ? .syscall : .cont, tid, data: UInt(signal))
  }

  /// ptrace(PTRACE_LISTEN, tid): leave a thread in its group-stop, but let the tracer
  /// see the SIGCONT that ends it (PTRACE_SEIZE only).
  public static func listen(_ tid: Int32) throws { try request(.listen, tid) }

  /// ptrace(PTRACE_DETACH, tid, 0, signal): let go of a stopped thread, delivering `signal`.
  public static func detach(_ tid: Int32, signal: Int32 = 0) throws {
    try request(.detach, tid, data: UInt(signal))
  }

  /// ptrace(PTRACE_GETEVENTMSG): the new task's TID after a fork/clone event, the exit
  /// status at an exit event, the former TID at an exec event.
  public static func eventMessage(_ tid: Int32) throws -> UInt {
    var message: UInt = 0
    _ = try withUnsafeMutablePointer(to: &message) {
      try request(.getEventMessage, tid, data: UInt(bitPattern: $0))
    }
    return message
  }

  /// What a signal-delivery-stop is about, from PTRACE_GETSIGINFO.
  public struct SignalInfo: Sendable, Equatable {
    public var signal: Int32
    /// si_code: SI_USER (kill), SI_TKILL, SEGV_MAPERR…
    public var code: Int32
    /// Who sent it (kill, tgkill, sigqueue); nil when the kernel raised it (a fault, SIGCHLD).
    public var sender: Int32?
    /// The faulting address for SIGSEGV, SIGBUS, SIGFPE and SIGILL.
    public var address: UInt?

    /// Whether the kernel raised it for a fault in the thread itself.
    public var isFault: Bool { address != nil && code > 0 }
  }

  /// ptrace(PTRACE_GETSIGINFO): the siginfo_t of the signal a thread is stopped for.
  public static func signalInfo(_ tid: Int32) throws -> SignalInfo {
    var info = siginfo_t()
    _ = try withUnsafeMutablePointer(to: &info) {
      try request(.getSignalInfo, tid, data: UInt(bitPattern: $0))
    }
    let faults: Set<Int32> = [SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP]
    // si_code > 0 means the kernel generated it (a fault); ≤ 0 means a process sent it.
    let sent = info.si_code <= 0
    let address =
      faults.contains(info.si_signo) && !sent
      ? UInt(bitPattern: info._sifields._sigfault.si_addr) : nil
    return SignalInfo(
      signal: info.si_signo, code: info.si_code, sender: sent ? info._sifields._kill.si_pid : nil,
      address: address)
  }

  /// Where a thread is in a system call, from PTRACE_GET_SYSCALL_INFO (Linux 5.3):
  /// architecture-independent, unlike reading registers.
  public enum SyscallInfo: Sendable, Equatable {
    case entry(number: Int, arguments: SyscallArguments, arch: UInt32)
    case exit(value: Int64, isError: Bool)
    /// Not at a syscall stop (or a seccomp stop, which proclab does not use).
    case none
  }

  /// ptrace(PTRACE_GET_SYSCALL_INFO, tid, sizeof info, &info).
  public static func syscallInfo(_ tid: Int32) throws -> SyscallInfo {
    var info = clab_syscall_info()
    let size = UInt(MemoryLayout<clab_syscall_info>.size)
    let rc = withUnsafeMutablePointer(to: &info) {
      clab_ptrace(Request.getSyscallInfo.rawValue, tid, size, UInt(bitPattern: $0))
    }
    if rc < 0 { throw SystemError("ptrace(PTRACE_GET_SYSCALL_INFO)") }
    let d = info.data
    switch info.op {
    case 1:
      return .entry(
        number: Int(d.0), arguments: SyscallArguments(d.1, d.2, d.3, d.4, d.5, d.6), arch: info.arch)
    case 2: return .exit(value: Int64(bitPattern: d.0), isError: (d.1 & 0xff) != 0)
    default: return .none
    }
  }

  /// The architecture this tracer was built for, as PTRACE_GET_SYSCALL_INFO reports it (AUDIT_ARCH_*).
  public static var nativeArch: UInt32 {
    #if arch(x86_64)
      0xC000_003E
    #elseif arch(arm64)
      0xC000_00B7
    #else
      0
    #endif
  }

  /// prctl(PR_SET_PTRACER, pid): under Yama's ptrace_scope 1, allow `pid` (not a
  /// descendant) to trace the calling process. Without Yama the kernel answers EINVAL and
  /// nothing needs allowing, so that answer is not an error; false for any other failure.
  @discardableResult
  public static func allowTracer(_ pid: Int32) -> Bool {
    clab_allow_tracer(pid) == 0 || errno == EINVAL
  }

  /// Why ptrace may be refused here, for the one-line error: Yama's scope, or a container's policy.
  public static func refusalReason(_ error: SystemError) -> String {
    let scope = ProcFS.read("/proc/sys/kernel/yama/ptrace_scope")?.split(separator: "\n").first
    switch (error.errno, scope) {
    case (EPERM, "3"):
      return
        "ptrace is disabled on this machine (kernel.yama.ptrace_scope = 3); only a reboot with a lower scope allows it"
    case (EPERM, "2"):
      return
        "ptrace needs CAP_SYS_PTRACE here (kernel.yama.ptrace_scope = 2): run as root, or set the scope to 1 (sysctl kernel.yama.ptrace_scope=1)"
    case (EPERM, _), (EACCES, _):
      return
        "ptrace is not permitted here (\(error.name)): a container needs --cap-add SYS_PTRACE or a seccomp profile that allows ptrace"
    default:
      return "ptrace failed: \(error.name) (\(error.message))"
    }
  }

  @discardableResult
  private static func request(_ r: Request, _ tid: Int32, address: UInt = 0, data: UInt = 0) throws -> Int {
    let rc = clab_ptrace(r.rawValue, tid, address, data)
    if rc < 0 { throw SystemError("ptrace(\(r))") }
    return rc
  }
}

/// The six argument registers of a system call, as the kernel saw them at entry.
public struct SyscallArguments: Sendable, Equatable {
  public var values: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)

  public init(
    _ a0: UInt64 = 0, _ a1: UInt64 = 0, _ a2: UInt64 = 0, _ a3: UInt64 = 0, _ a4: UInt64 = 0, _ a5: UInt64 = 0
  ) {
    values = (a0, a1, a2, a3, a4, a5)
  }

  public subscript(_ i: Int) -> UInt64 {
    switch i {
    case 0: values.0
    case 1: values.1
    case 2: values.2
    case 3: values.3
    case 4: values.4
    default: values.5
    }
  }

  /// An argument read as a C int (descriptors, signal numbers, PIDs).
  public func int(_ i: Int) -> Int32 { Int32(truncatingIfNeeded: self[i]) }

  public static func == (a: Self, b: Self) -> Bool {
    (0..<6).allSatisfy { a[$0] == b[$0] }
  }
}
