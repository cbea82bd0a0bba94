/// Everything `observe` learned about one run of a program: its processes and
/// threads over time, the calls they made, the pipes between them, the signals,
/// what was left open, and the program's own output. Times are nanoseconds
/// since the program was started.
public struct ObservedRun: Sendable {
  public var program: [String] = []
  /// The tracer's PID (proclab's lab copy that ran the program and reaped it).
  public var observer: Int32 = 0
  public var root: Int32 = 0
  public var duration: UInt64 = 0
  public var processes: [ObservedProcess] = []
  public var threads: [ObservedThread] = []
  /// Every system call, counted by name over all processes.
  public var calls: [String: Int] = [:]
  public var totalCalls = 0
  public var signals: [ObservedSignal] = []
  public var pipes: [ObservedPipe] = []
  /// dup2/dup3/dup/F_DUPFD calls: which descriptor now refers to what.
  public var redirections: [Redirection] = []
  /// Decoded calls worth reading, in order (bounded per process).
  public var log: [ObservedCall] = []
  /// Calls left out of `log` because of its bound.
  public var logDropped = 0
  public var output: [OutputChunk] = []
  public var outputDropped = 0
  public var timedOut = false
  /// The run was stopped at `observe --limit` system calls.
  public var limitReached = false
  public var interrupted = false
  /// Why the program never ran (execve failed), when it did not.
  public var startError: String?

  public init() {}

  public func process(_ pid: Int32) -> ObservedProcess? { processes.first { $0.pid == pid } }
  public func children(of pid: Int32) -> [ObservedProcess] {
    processes.filter { $0.parent == pid && $0.pid != pid }
  }
  public func threads(of pid: Int32) -> [ObservedThread] { threads.filter { $0.pid == pid } }
  /// Everything the program wrote to its standard output, in order.
  public var standardOutput: String {
    output.filter { $0.stream == 1 }.map(\.text).joined()
  }
}

public struct ObservedProcess: Sendable, Equatable {
  public struct Exec: Sendable, Equatable {
    public var at: UInt64
    public var path: String
    public var argv: [String]
  }

  public var pid: Int32
  /// The process that created it (its parent at birth); 0 for the program itself.
  public var parent: Int32
  /// `fork`, `vfork`, `clone`, `clone3`, or `start` for the program itself.
  public var createdBy: String
  public var createdAt: UInt64
  public var cloneFlags: UInt64 = 0
  public var execs: [Exec] = []
  public var exit: TerminationStatus?
  public var exitedAt: UInt64?
  /// Who collected its exit status (wait4/waitid returned it), and when.
  public var reapedBy: Int32?
  public var reapedAt: UInt64?
  /// Its parent when it exited (differs from `parent` after re-parenting).
  public var parentAtExit: Int32?
  /// When its creator exited while it still lived (it became an orphan).
  public var orphanedAt: UInt64?
  /// Descriptors still open when it exited, besides 0–2.
  public var openAtExit: [OpenDescriptor] = []
  /// Its calls counted by name.
  public var calls: [String: Int] = [:]
  /// The address of the fault that killed it (SIGSEGV, SIGBUS…), from the signal's siginfo.
  public var faultAddress: UInt64?
  /// Memory it asked for: mmap'ed bytes (anonymous, shared) and how far brk moved.
  public var mappedBytes = 0
  public var sharedMappings: [UInt64] = []
  public var heapGrowth = 0
  /// Signals it installed a handler for (rt_sigaction with a function).
  public var handlers: [Int32] = []
  /// Calls of the dynamic loader and the C library's start-up, before the program's own.
  public var startupCalls = 0

  public var name: String {
    guard let last = execs.last else { return "(copy of its parent)" }
    return last.argv.first.map { ($0 as String).split(separator: "/").last.map(String.init) ?? $0 }
      ?? last.path
  }
}

public struct OpenDescriptor: Sendable, Equatable {
  public var fd: Int32
  /// What it is: `pipe 1 read end`, `/dev/null`.
  public var target: String
  /// `openat in 4120 at 1.2 ms`, or `inherited`.
  public var origin: String
  public var openedAt: UInt64
}

public struct ObservedThread: Sendable, Equatable {
  public var tid: Int32
  public var pid: Int32
  public var createdBy: Int32
  public var createdAt: UInt64
  public var endedAt: UInt64?
  public var calls = 0
  public var futexWaits = 0
  public var futexWaited: UInt64 = 0
  public var longestWait: UInt64 = 0
  public var futexWakes = 0
  /// Whether it ended on its own (exit(2): returned from its function or pthread_exit),
  /// rather than with its whole process (exit_group, a fatal signal).
  public var endedOnItsOwn = false

  /// The process's first thread (the one that runs main).
  public var isMain: Bool { tid == pid }
}

public struct ObservedSignal: Sendable, Equatable {
  public var at: UInt64
  public var signal: Int32
  /// The process it was delivered to (or sent to, for a kill that was seen but not delivered).
  public var pid: Int32
  public var tid: Int32
  /// Who sent it with kill/tgkill; nil when the kernel raised it (a fault).
  public var sender: Int32?
  public var faultAddress: UInt64?
  /// si_code: SEGV_MAPERR (1: no mapping there), SEGV_ACCERR (2: not allowed), SI_USER (0: kill)…
  public var code: Int32 = 0
  /// The program ignores it (explicitly, or by the signal's default): untraced, the kernel
  /// would have discarded it; the tracer's presence delivered it.
  public var onlyBecauseTraced = false
}

public struct ObservedPipe: Sendable, Equatable {
  public struct Use: Sendable, Equatable {
    public var pid: Int32
    public var wrote = 0
    public var writes = 0
    public var read = 0
    public var reads = 0
    public var sawEndOfFile = false
    /// When this process closed its write end (or its last copy of it).
    public var closedWrite: UInt64?
    public var closedRead: UInt64?
  }
  public var id: Int
  public var createdBy: Int32
  public var createdAt: UInt64
  public var uses: [Use] = []

  public func use(_ pid: Int32) -> Use? { uses.first { $0.pid == pid } }
  public var bytesWritten: Int { uses.reduce(0) { $0 + $1.wrote } }
  public var bytesRead: Int { uses.reduce(0) { $0 + $1.read } }
}

public struct Redirection: Sendable, Equatable {
  public var at: UInt64
  public var pid: Int32
  public var fd: Int32
  /// What `fd` refers to now: `pipe 1 write end`.
  public var target: String
  public var pipe: Int?
  public var pipeWriteEnd = false
}

public struct ObservedCall: Sendable, Equatable {
  public var at: UInt64
  public var duration: UInt64
  public var pid: Int32
  public var tid: Int32
  public var name: String
  public var text: String
}

public struct OutputChunk: Sendable, Equatable {
  /// 1: standard output, 2: standard error.
  public var stream: Int32
  public var text: String
}
