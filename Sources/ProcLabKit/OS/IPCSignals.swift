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

/// A /proc/PID/status mask (SigBlk, SigPnd, ShdPnd…), 0 when unreadable.
func statusMask(_ pid: Int32, _ field: String) -> UInt64 {
  UInt64(ProcFS.status(pid, field: field) ?? "", radix: 16) ?? 0
}

public enum IPCSignals {
  /// fork; the child sets a disposition with sigaction (handler / SIG_IGN) or sigprocmask
  /// (SIG_BLOCK) and reports; kill(child, signal); watch with wait4(WNOHANG|WUNTRACED),
  /// /proc/PID/status SigPnd/ShdPnd; unblock; SIGCONT a stopped child; reap.
  public static func run(_ signal: Int32, disposition: SignalResult.Disposition) throws -> SignalResult {
    try IPCChild.stoppable {
      let control = try IPCPipe()
      let report = try IPCPipe()
      let how = ["SIG_DFL", "sigaction(handler)", "sigaction(SIG_IGN)", "sigprocmask(SIG_BLOCK)"][
        Int(disposition.rawValue)]
      let args = clab_signal_args(
        signal: signal, disposition: disposition.rawValue, control_fd: control.read, report_fd: report.write)
      let child = try IPCChild.fork(
        "\(how) for \(Signals.name(signal)), then waits for commands", body: clab_child_signal, args: args,
        closing: [control.write, report.read])
      defer { child.stop() }
      control.closeRead()
      report.closeWrite()
      let setup = try report.receive((Int32, Int32).self)
      let blocked = statusMask(child.pid, "SigBlk")
      try SignalSender.send(signal, to: child.pid)

      var handlerRan = false
      if disposition == .handler && setup.0 == 0,
        let m = try report.receiveIfAny((UInt8, UInt8).self, within: .seconds(2)), m.0 == UInt8(ascii: "H")
      {
        handlerRan = Int32(m.1) == signal
      }
      var afterSend = SignalResult.AfterSend.alive
      switch try child.change(within: .milliseconds(150)) {
      case .stopped(let s)?: afterSend = .stopped(s)
      case let ended?: afterSend = .ended(ended)
      case nil: break
      }
      var pending: (UInt64, UInt64) = (0, 0)
      var afterUnblock: SignalResult.AfterSend?
      if afterSend == .alive && disposition == .block {
        pending = (statusMask(child.pid, "SigPnd"), statusMask(child.pid, "ShdPnd"))
        try control.send("u")
        if let m = try report.receiveIfAny((UInt8, UInt8).self, within: .milliseconds(300)),
          m.0 == UInt8(ascii: "U")
        {
          afterUnblock = .alive
        } else if let ended = try child.waitForEnd(within: .seconds(1)) {
          afterUnblock = .ended(ended)
        }
      }
      var continued = false
      if case .stopped = afterSend {
        try SignalSender.send(SIGCONT, to: child.pid)
        continued = true
      }
      var answered = false
      if child.reapIfEnded() == nil {
        try? control.send("q")
        if let m = try report.receiveIfAny((UInt8, UInt8).self, within: .seconds(2)), m.0 == UInt8(ascii: "A")
        {
          answered = true
        }
      }
      return SignalResult(
        signal: signal, disposition: disposition, child: child.pid,
        setupResult: setup.0 == 0 ? "0" : "-1 \(SystemError.name(of: setup.1))", blockedMask: blocked,
        handlerRan: handlerRan, afterSend: afterSend, signalPending: pending.0, sharedPending: pending.1,
        afterUnblock: afterUnblock, answeredAfterwards: answered, continued: continued, status: child.finish()
      )
    }
  }

  /// fork a middle process that blocks SIGCHLD (sigprocmask), forks a grandchild that exits 7,
  /// and takes the SIGCHLD with sigtimedwait (siginfo: sender PID, CLD_EXITED, status).
  public static func sigchld() throws -> SigchldResult {
    try IPCChild.stoppable {
      let report = try IPCPipe()
      let child = try IPCChild.fork(
        "sigprocmask(SIG_BLOCK, SIGCHLD), fork, sigtimedwait(SIGCHLD)", body: clab_child_sigchld,
        args: clab_sigchld_args(report_fd: report.write), closing: [report.read])
      defer { child.stop() }
      report.closeWrite()
      let r = try report.receive(6, of: Int64.self)
      return SigchldResult(
        middle: child.pid, grandchild: Int32(r[0]), received: r[1] != 0, senderPID: Int32(r[2]),
        code: Int32(r[3]),
        exitStatus: Int32(r[4]), waited: .nanoseconds(r[5]), status: child.finish())
    }
  }
}
