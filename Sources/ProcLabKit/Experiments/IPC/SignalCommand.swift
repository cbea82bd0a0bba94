import Glibc

/// `signal`: a signal sent to a child that handles, ignores, blocks it or leaves the default.
enum SignalCommand {
  static let command = Command(
    name: "signal", area: .ipc,
    summary:
      "send a signal to a child that handles, ignores or blocks it (or has the default); SIGCHLD to a parent",
    usage: "signal [SIGNAL] [--handler | --ignore | --block]",
    options: [
      .init("--handler", "the child installs a handler (sigaction) that reports the signal"),
      .init("--ignore", "the child ignores the signal (SIG_IGN)"),
      .init("--block", "the child blocks the signal (sigprocmask): it stays pending until unblocked"),
    ],
    examples: [
      "signal", "signal USR1 --handler", "signal TERM --ignore", "signal USR2 --block",
      "signal KILL --handler",
    ],
    completion: .words(["USR1", "USR2", "TERM", "INT", "HUP", "KILL", "STOP", "SEGV", "ALRM", "QUIT"])
  ) { args, _ in
    try args.expectPositionals(atMost: 1)
    try args.exclusive("--handler", "--ignore", "--block")
    var sig = SIGUSR1
    if let word = args.positional(0) {
      guard let n = Signals.parse(word), n != 32, n != 33 else {
        throw UsageError(
          "signal: unknown signal '\(Printable.word(word))'; try \(Signals.namesForHelp) or a number 1…64"
        )
      }
      sig = n
    }
    let disposition: SignalResult.Disposition =
      args.flag("--handler")
      ? .handler : args.flag("--ignore") ? .ignore : args.flag("--block") ? .block : .defaultAction
    let s = try IPCSignals.run(sig, disposition: disposition)
    try Interrupt.check()
    let c = try IPCSignals.sigchld()
    let name = Signals.name(sig)
    let r = Report()
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
    r.line("  kill(\(r.pid(s.child)), \(name)) from the shell \(r.pid(getpid()))")
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
        "  /proc/\(r.pid(s.child))/status while blocked: ShdPnd \(String(format: "%016llx", s.sharedPending)) "
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
          ? "sigtimedwait took SIGCHLD after \(r.duration(c.waited)): from pid \(r.pid(c.senderPID)), \(c.codeName), status \(r.count(Int(c.exitStatus)))"
          : "no SIGCHLD arrived within 3 s"))

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
      r.fact("shdpnd", String(format: "%016llx", s.sharedPending))
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
    r.explain(
      text,
      more:
        "A signal is a tiny message from the kernel: just a number, no data. Each process decides per signal what "
        + "happens: the default action, a handler, or ignore; and each thread can block signals for a while. "
        + "SIGKILL and SIGSTOP are the kernel's own: nobody can change them, so a stuck process can always be stopped. "
        + "SIGCHLD is ignored by default, which is why a shell must still wait() to collect its children.")
    return r
  }
}
