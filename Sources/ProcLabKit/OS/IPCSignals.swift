import CLab
import Glibc

/// What a child with one disposition for a signal did when the signal came.
public struct SignalResult: Sendable {
  public enum Disposition: Int32, Sendable {
    case defaultAction = 0
    case handler = 1
    case ignore = 2
    case block = 3
  }
  public enum AfterSend: Sendable, Equatable {
    case alive
    case ended(TerminationStatus)
    case stopped(Int32)
  }
  public var signal: Int32
  public var disposition: Disposition
  public var child: Int32
  /// sigaction (or sigprocmask for block) as the child called it: 0, or the errno name.
  public var setupResult: String
  public var blockedMask: UInt64
  public var handlerRan: Bool
  public var afterSend: AfterSend
  public var signalPending: UInt64
  public var sharedPending: UInt64
  /// block: what unblocking did (nil when not tried).
  public var afterUnblock: AfterSend?
  public var answeredAfterwards: Bool
  public var continued: Bool
  public var status: TerminationStatus

  /// Whether bit `signal` is set in a /proc mask.
  public static func has(_ mask: UInt64, _ signal: Int32) -> Bool { mask & (1 << UInt64(signal - 1)) != 0 }
}

public struct SigchldResult: Sendable {
  public var middle: Int32
  public var grandchild: Int32
  public var received: Bool
  public var senderPID: Int32
  public var code: Int32
  public var exitStatus: Int32
  public var waited: Duration
  public var status: TerminationStatus
  public var codeName: String {
    switch code {
    case 1: "CLD_EXITED"
    case 2: "CLD_KILLED"
    case 3: "CLD_DUMPED"
    case 5: "CLD_STOPPED"
    case 6: "CLD_CONTINUED"
    default: "code \(code)"
    }
  }
}

public enum IPCSignals {
  /// fork; the child sets a disposition with sigaction (handler / SIG_IGN) or sigprocmask
  /// (SIG_BLOCK) and reports; kill(child, signal); watch with waitpid(WNOHANG|WUNTRACED),
  /// /proc/PID/status SigPnd/ShdPnd; unblock; SIGCONT a stopped child; reap.
  public static func run(_ signal: Int32, disposition: SignalResult.Disposition) throws -> SignalResult {
    var s = clab_ipc_signal()
    s.signal = signal
    s.disposition = disposition.rawValue
    let start = MonotonicClock.nanoseconds()
    let rc = {
      IPCCallLog.begin()
      defer { IPCCallLog.end() }
      return clab_ipc_signal_run(&s)
    }()
    let failed = s.failed_call.map { String(cString: $0) }
    let how = ["SIG_DFL", "sigaction(handler)", "sigaction(SIG_IGN)", "sigprocmask(SIG_BLOCK)"][
      Int(disposition.rawValue)]
    Trace.record(
      "fork+kill", "child: \(how) for \(Signals.name(signal)); kill(child, \(Signals.name(signal)))",
      result: rc == 0
        ? "child \(s.child): \(TerminationStatus(waitStatus: s.status))"
        : rc == -2 ? "interrupted" : "-1 \(SystemError.name(of: s.failed_errno)) in \(failed ?? "?")",
      since: start)
    if rc == -2 { throw Interrupted() }
    if rc != 0 { throw SystemError(failed ?? "signal", errno: s.failed_errno) }
    func after(_ code: Int32, _ status: Int32) -> SignalResult.AfterSend {
      switch code {
      case 1: .ended(TerminationStatus(waitStatus: status))
      case 2: .stopped(TerminationStatus(waitStatus: status).stoppedSignal ?? SIGSTOP)
      default: .alive
      }
    }
    return SignalResult(
      signal: signal, disposition: disposition, child: s.child,
      setupResult: s.sigaction_rc == 0 ? "0" : "-1 \(SystemError.name(of: s.sigaction_errno))",
      blockedMask: s.blocked_mask, handlerRan: s.handler_ran == signal,
      afterSend: after(s.after_send, s.status_after_send),
      signalPending: s.sigpnd, sharedPending: s.shdpnd,
      afterUnblock: s.after_unblock < 0
        ? nil : (s.after_unblock == 1 ? .ended(TerminationStatus(waitStatus: s.status)) : .alive),
      answeredAfterwards: s.answered != 0, continued: s.continued != 0,
      status: TerminationStatus(waitStatus: s.status))
  }

  /// fork a middle process that blocks SIGCHLD (sigprocmask), forks a grandchild that exits 7,
  /// and takes the SIGCHLD with sigtimedwait (siginfo: sender PID, CLD_EXITED, status).
  public static func sigchld() throws -> SigchldResult {
    var c = clab_ipc_sigchld()
    let start = MonotonicClock.nanoseconds()
    let rc = {
      IPCCallLog.begin()
      defer { IPCCallLog.end() }
      return clab_ipc_sigchld_run(&c)
    }()
    let failed = c.failed_call.map { String(cString: $0) }
    Trace.record(
      "fork+sigtimedwait", "middle: sigprocmask(SIG_BLOCK, SIGCHLD), fork, sigtimedwait(SIGCHLD)",
      result: rc == 0
        ? "SIGCHLD from \(c.sender_pid), status \(c.exit_status)"
        : "-1 \(SystemError.name(of: c.failed_errno))",
      since: start)
    if rc == -2 { throw Interrupted() }
    if rc != 0 { throw SystemError(failed ?? "sigchld", errno: c.failed_errno) }
    return SigchldResult(
      middle: c.middle, grandchild: c.grandchild, received: c.received != 0, senderPID: c.sender_pid,
      code: c.code,
      exitStatus: c.exit_status, waited: .nanoseconds(c.wait_ns),
      status: TerminationStatus(waitStatus: c.status))
  }
}

extension TerminationStatus {
  var stoppedSignal: Int32? {
    if case .stopped(let s) = self { return s }
    return nil
  }
}
