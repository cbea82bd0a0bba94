import Glibc

/// What `signal SIG --default|--handler|--ignore|--block` saw: the child's setup, what the
/// signal did to it, the SIGCHLD a second child's exit sent, the facts and why.
enum SignalDispositionReport {
  static func report(
    _ sig: Int32, _ disposition: SignalResult.Disposition, _ s: SignalResult, _ c: SigchldResult
  ) -> Report {
    let r = Report()
    describe(sig, disposition, s, c, in: r)
    facts(sig, disposition, s, c, in: r)
    r.explain(
      explanation(sig, disposition, s, c),
      more:
        "A signal is a tiny message: a number, plus what the kernel puts in its siginfo (who sent it, and one value "
        + "with sigqueue). Each process decides per signal what happens: the default action, a handler, or ignore; "
        + "and each thread can block signals for a while. SIGKILL and SIGSTOP are the kernel's own: nobody can "
        + "change them, so a stuck process can always be stopped. SIGCHLD's default action does nothing, and an "
        + "ended child stays a zombie until its parent waits for it (unless the parent sets SIGCHLD to SIG_IGN: "
        + "see `signal --auto-reap`).")
    return r
  }

  /// The lines: setup, the kill, what became of the child, the SIGCHLD part.
  static func describe(
    _ sig: Int32, _ disposition: SignalResult.Disposition, _ s: SignalResult, _ c: SigchldResult, in r: Report
  ) {
    let name = Signals.name(sig)
    let setup: String
    switch disposition {
    case .defaultAction:
      setup = "left \(name) at its default action (\(Signals.info(sig)?.defaultAction ?? "terminate"))"
    case .handler: setup = "sigaction(\(name), handler) = \(s.setupResult)"
    case .ignore: setup = "sigaction(\(name), SIG_IGN) = \(s.setupResult)"
    case .block:
      setup =
        "sigprocmask(SIG_BLOCK, {\(name)}) = \(s.setupResult); SigBlk "
        + (SignalResult.has(s.blockedMask, sig)
          ? "has \(name)" : "does NOT have \(name) (the kernel left it out)")
    }
    r.line("\(name): child \(r.pid(s.child)) \(setup)")
    r.line("  kill(\(r.pid(s.child)), \(name)) from the shell \(r.pid(ThisProcess.untracedID))")
    if s.handlerRan { r.line("  the child's handler ran and reported \(name) through its pipe") }
    switch s.afterSend {
    case .ended(let st): r.line("  the child was \(st)")
    case .stopped(let sg):
      r.line("  the child was stopped by \(Signals.name(sg)) (waitpid WUNTRACED); SIGCONT let it go on")
    case .alive:
      r.line("  the child is still running" + (s.handlerRan ? " after its handler returned" : ""))
    }
    if disposition == .block, case .alive = s.afterSend {
      r.line(
        "  /proc/\(r.pid(s.child))/status while blocked: ShdPnd \(r.fixed(NumberFormat.hex(s.sharedPending, width: 16))) "
          + (SignalResult.has(s.sharedPending | s.signalPending, sig)
            ? "— \(name) is pending" : "— nothing pending"))
      switch s.afterUnblock {
      case .ended(let st)?: r.line("  the child unblocked \(name): delivered at once, it was \(st)")
      case .alive?:
        r.line(
          "  the child unblocked \(name) and is still running (its default action is \(Signals.info(sig)?.defaultAction ?? "?"))"
        )
      default: break
      }
    }
    if s.answeredAfterwards { r.line("  the child answered afterwards and exited: \(s.status)") }
    r.line(
      "SIGCHLD: child \(r.pid(c.middle)) blocked SIGCHLD and forked \(r.pid(c.grandchild)), which exited 7; "
        + (c.received
          ? "sigtimedwait took SIGCHLD after \(r.duration(c.waited)): from pid \(r.pid(c.senderPID)), \(c.codeName), status \(c.exitStatus)"
          : "no SIGCHLD arrived within 3 s"))

  }

  static func facts(
    _ sig: Int32, _ disposition: SignalResult.Disposition, _ s: SignalResult, _ c: SigchldResult, in r: Report
  ) {
    let name = Signals.name(sig)
    r.fact("signal", name)
    r.fact("number", sig)
    r.fact("disposition", ["default", "handler", "ignore", "block"][Int(disposition.rawValue)])
    r.fact("child", s.child)
    r.fact("setup_result", s.setupResult)
    r.fact("blocked_in_mask", SignalResult.has(s.blockedMask, sig))
    r.fact("handler_ran", s.handlerRan)
    switch s.afterSend {
    case .alive: r.fact("after_send", "alive")
    case .ended: r.fact("after_send", "terminated")
    case .stopped: r.fact("after_send", "stopped")
    }
    if disposition == .block {
      r.fact("pending_while_blocked", SignalResult.has(s.sharedPending | s.signalPending, sig))
      r.fact("shdpnd", NumberFormat.hex(s.sharedPending, width: 16))
      switch s.afterUnblock {
      case .ended?: r.fact("after_unblock", "terminated")
      case .alive?: r.fact("after_unblock", "alive")
      default: break
      }
    }
    r.fact("answered_afterwards", s.answeredAfterwards)
    r.fact("continued", s.continued)
    r.fact("child_status", s.status.json)
    r.fact(
      "sigchld",
      [
        "received": .bool(c.received), "sender": .int(Int(c.senderPID)),
        "grandchild": .int(Int(c.grandchild)),
        "code": .string(c.codeName), "exit_status": .int(Int(c.exitStatus)),
      ] as JSON)

  }

  /// Why it happened: the disposition's rule, then what SIGCHLD tells a parent.
  static func explanation(
    _ sig: Int32, _ disposition: SignalResult.Disposition, _ s: SignalResult, _ c: SigchldResult
  ) -> String {
    let name = Signals.name(sig)
    var text: String
    let uncatchable = sig == SIGKILL || sig == SIGSTOP
    if uncatchable && disposition != .defaultAction {
      text =
        disposition == .block
        ? "sigprocmask accepted the request but quietly left \(name) out of the mask: "
        : "The kernel refused: sigaction(\(name)) = \(s.setupResult). "
      text +=
        "\(name) cannot be caught, ignored or blocked, so the child was "
        + (sig == SIGKILL ? "killed anyway." : "stopped anyway.")
    } else {
      switch disposition {
      case .handler:
        text =
          s.handlerRan
          ? "The kernel interrupted the child and ran its handler instead of the default action; the child lived on."
          : "The handler did not report — unexpected."
      case .ignore:
        text =
          s.answeredAfterwards
          ? "The kernel discarded \(name) at once because the child ignores it: the child kept running and answered."
          : "The child did not survive: \(s.status)."
      case .block:
        text =
          s.afterUnblock == nil
          ? "The signal acted at once."
          : "A blocked signal is not lost: the kernel kept it pending (ShdPnd) and delivered it the moment the child unblocked it."
      case .defaultAction:
        switch s.afterSend {
        case .ended(let st):
          text = "With no handler the default action of \(name) applied: the child was \(st)."
        case .stopped: text = "The default action of \(name) stops the process; SIGCONT resumed it."
        case .alive:
          text =
            "The default action of \(name) is to \(Signals.info(sig)?.defaultAction ?? "do nothing"): the child carried on."
        }
      }
    }
    text +=
      c.received
      ? " And a parent learns that its child ended through SIGCHLD, which carries the child's PID and status."
      : ""
    return text
  }
}
