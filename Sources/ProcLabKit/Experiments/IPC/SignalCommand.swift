import Glibc

/// `signal`: a signal sent to a child that handles, ignores, blocks it or leaves the default.
enum SignalCommand {
  enum Experiment: Equatable, Sendable { case disposition, merge, threads, noReader, autoReap }

  struct Options: CommandOptions {
    var signal: SignalValue?
    var disposition = SignalResult.Disposition.defaultAction
    var experiment = Experiment.disposition
    var count: Int?

    static var declarations: [OptionDeclaration<Self>] {
      [
        .positional(
          "signal", \.signal, "SIGNAL", "the signal to send (default USR1)",
          completion: .words(["USR1", "USR2", "TERM", "INT", "HUP", "KILL", "STOP", "SEGV", "ALRM", "QUIT"])),
        .choice(
          "disposition", \.disposition,
          [
            ("--handler", .handler, "the child installs a handler (sigaction) that reports the signal"),
            ("--ignore", .ignore, "the child ignores the signal (SIG_IGN)"),
            (
              "--block", .block, "the child blocks the signal (sigprocmask): it stays pending until unblocked"
            ),
          ], unchosen: "default"),
        .choice(
          "experiment", \.experiment,
          [
            (
              "--merge", .merge,
              "blocked, a standard signal sent N times arrives once; a real-time one N times, in order"
            ),
            (
              "--threads", .threads,
              "which thread of a process takes a signal sent to the process; a sigwait thread"
            ),
            (
              "--no-reader", .noReader, "writing to a pipe nobody reads: SIGPIPE, or EPIPE when it is ignored"
            ),
            (
              "--auto-reap", .autoReap, "SIGCHLD set to SIG_IGN: the kernel reaps children itself, no zombies"
            ),
          ], unchosen: "disposition"),
        .value(
          "--count", \.count, "N", in: 1...32,
          "signals to send with --merge (default 5) or --threads (default 3)"),
      ]
    }

    func validate(command: String) throws {
      if experiment != .disposition && disposition != .defaultAction {
        throw UsageError(
          "signal: --handler, --ignore and --block go without --merge, --threads, --no-reader, --auto-reap")
      }
      if count != nil && experiment != .merge && experiment != .threads {
        throw UsageError("signal: --count goes with --merge or --threads")
      }
      if let sig = signal?.number {
        if sig == 32 || sig == 33 {
          throw UsageError(
            "signal: signals 32 and 33 belong to glibc's threads; try \(Signals.namesForHelp) or 34…64")
        }
        if experiment == .noReader || experiment == .autoReap {
          throw UsageError(
            "signal: --no-reader is about SIGPIPE and --auto-reap about SIGCHLD; they take no SIGNAL")
        }
        if (experiment == .merge || experiment == .threads) && (sig == SIGKILL || sig == SIGSTOP || sig >= 32)
        {
          throw UsageError(
            "signal: --merge and --threads need a standard signal a process can handle (USR1, USR2, TERM, HUP…), got \(Signals.name(sig))"
          )
        }
      }
    }
  }

  static let command = Command(
    name: "signal", area: .ipc,
    summary:
      "send a signal to a child that handles, ignores or blocks it; --merge, --threads, --no-reader, --auto-reap",
    examples: [
      "signal", "signal USR1 --handler", "signal TERM --ignore", "signal USR2 --block",
      "signal KILL --handler",
      "signal --merge", "signal --threads", "signal --no-reader", "signal --auto-reap",
    ],
    options: Options.self
  ) { options, _ in
    let sig = options.signal?.number ?? SIGUSR1
    switch options.experiment {
    case .disposition: return try dispositionReport(sig, options.disposition)
    case .merge: return try SignalDeliveryReport.merge(sig, count: options.count ?? 5)
    case .threads: return try SignalDeliveryReport.threads(sig, count: options.count ?? 3)
    case .noReader: return try SignalDeliveryReport.noReader()
    case .autoReap: return try SignalDeliveryReport.autoReap()
    }
  }

  static func dispositionReport(_ sig: Int32, _ disposition: SignalResult.Disposition) throws -> Report {
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
        "A signal is a tiny message: a number, plus what the kernel puts in its siginfo (who sent it, and one value "
        + "with sigqueue). Each process decides per signal what happens: the default action, a handler, or ignore; "
        + "and each thread can block signals for a while. SIGKILL and SIGSTOP are the kernel's own: nobody can "
        + "change them, so a stuck process can always be stopped. SIGCHLD's default action does nothing, and an "
        + "ended child stays a zombie until its parent waits for it (unless the parent sets SIGCHLD to SIG_IGN: "
        + "see `signal --auto-reap`).")
    return r
  }
}
