import CLab
import Glibc

/// Why a traced thread stopped or ended, decoded from its wait status.
public enum PtraceStop: Sendable, Equatable {
  /// The thread (for a leader: the whole process) ended with exit(code).
  case exited(code: Int32)
  /// Ended by a signal.
  case killed(signal: Int32, coreDumped: Bool)
  /// At a system-call entry or exit (SIGTRAP|0x80 with PTRACE_O_TRACESYSGOOD).
  case syscall
  /// At a PTRACE_EVENT_* stop: fork, vfork, clone, exec, exit, or PTRACE_EVENT_STOP
  /// that is not a group-stop (a new tracee's first stop, PTRACE_INTERRUPT).
  case event(Ptrace.Event)
  /// In a group-stop (SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU): leave it stopped with PTRACE_LISTEN.
  case groupStop(signal: Int32)
  /// About to receive a signal: resume with it to deliver it, with 0 to suppress it.
  case signal(Int32)

  /// Decodes a wait status the way wait(2) and ptrace(2) describe it.
  public init(waitStatus s: Int32) {
    let status = WaitStatus(s)
    if status.exited {
      self = .exited(code: status.exitCode)
    } else if status.signaled {
      self = .killed(signal: status.signal, coreDumped: status.coreDumped)
    } else {
      let sig = status.stopSignal
      let event = (s >> 16) & 0xffff
      if sig == SIGTRAP | 0x80 {
        self = .syscall
      } else if event == Ptrace.Event.stop.rawValue {
        let stops: Set<Int32> = [SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU]
        self = stops.contains(sig) ? .groupStop(signal: sig) : .event(.stop)
      } else if event != 0, let e = Ptrace.Event(rawValue: event) {
        self = .event(e)
      } else {
        self = .signal(sig)
      }
    }
  }

  /// Whether the thread is gone (no further stops, nothing to resume).
  public var isEnd: Bool {
    switch self {
    case .exited, .killed: true
    default: false
    }
  }
}

extension Ptrace {
  /// __WALL: wait for every tracee, threads and clone children alike.
  static let waitAllChildren: Int32 = 0x4000_0000

  /// What waitpid returned.
  public enum Waited: Sendable, Equatable {
    case stop(tid: Int32, PtraceStop)
    /// Nothing changed yet (only with `block: false`).
    case nothing
    /// A signal arrived while waiting (EINTR): the caller checks its flags.
    case interrupted
    /// No tracee and no child is left (ECHILD).
    case none
  }

  /// waitpid(-1, &status, __WALL [| WNOHANG]): the next stop or end of any tracee or child.
  /// The calling thread must be the one that attached: the kernel reports stops to it.
  public static func waitAny(block: Bool = true) throws -> Waited {
    var status: Int32 = 0
    let tid = waitpid(-1, &status, waitAllChildren | (block ? 0 : WNOHANG))
    if tid > 0 { return .stop(tid: tid, PtraceStop(waitStatus: status)) }
    if tid == 0 { return .nothing }
    switch errno {
    case EINTR: return .interrupted
    case ECHILD: return .none
    default: throw SystemError("waitpid")
    }
  }

  /// waitpid(-1, __WALL) until no child or tracee is left (ECHILD): after a SIGKILL of a
  /// traced tree, collects every end so nothing stays a zombie.
  public static func reapAll() {
    var status: Int32 = 0
    while true {
      let r = waitpid(-1, &status, waitAllChildren)
      if r < 0 && errno != EINTR { return }
    }
  }

  /// tgkill(getpid(), tid, SIGINT): interrupts the tracer's own thread `tid` out of a blocked
  /// waitpid (the SIGINT handler is installed without SA_RESTART, so waitpid returns EINTR).
  public static func interruptWait(of tid: Int32) {
    // ESRCH only if the loop's thread is already gone: then there is nothing to interrupt.
    _ = tgkill(getpid(), tid, SIGINT)
  }

  /// waitpid(pid, &status, WSTOPPED): wait for a child of ours to stop itself
  /// (clab_observe_start's raise(SIGSTOP)) or to end first.
  public static func waitForStop(_ pid: Int32) throws -> TerminationStatus {
    var status: Int32 = 0
    try systemCall("waitpid", retryOnInterrupt: true) { waitpid(pid, &status, WUNTRACED) }
    return TerminationStatus(waitStatus: status)
  }
}
