import Glibc

/// `kill PID [SIGNAL]`: send a real signal to a child this shell holds, and say what it did.
enum KillCommand {
  struct Options: CommandOptions {
    var pid: Int32?
    var signal = SignalValue(SIGTERM)

    static var declarations: [OptionDeclaration<Self>] {
      [
        .positional(
          "pid", \.pid, "PID", in: 1...Int32.max, "a child this shell created (ps lists them)",
          completion: .children),
        .positional("signal", \.signal, "SIGNAL", "the signal to send, by name or number"),
      ]
    }
  }

  static let command = Command(
    name: "kill", area: .processes,
    summary: "send a signal to a child this shell created and report what it did",
    examples: [
      "spawn 2 --hold 30; kill PID", "kill PID STOP", "kill PID CONT", "kill PID USR1", "kill PID 9",
    ],
    options: Options.self
  ) { options, session in try run(options, session) }

  /// `its children: 4101, 4102` or how to get some.
  static func heldList(_ session: Session) -> String {
    let pids = session.children.pids
    return pids.isEmpty
      ? "it holds none (start some with spawn 2 --hold 30)"
      : "it holds: \(pids.prefix(8).map(String.init).joined(separator: ", "))\(pids.count > 8 ? ", … (\(pids.count) in all; see ps)" : "")"
  }

  enum Effect: String {
    case terminated, stopped, continued, caught, ignored, blocked, nothing = "no effect"
  }

  /// Like Wait.change, without reaping: the end is seen with waitid(WNOWAIT), a stop or
  /// continue from /proc (wait4 would reap an ended child).
  static func watchWithoutReaping(
    _ pid: Int32, sent sig: Int32, from startState: Character?, within window: Duration
  ) throws
    -> ReapedChild?
  {
    let end = MonotonicClock.nanoseconds() + UInt64(window.nanoseconds)
    while true {
      if let s = try Wait.endedWithoutReaping(pid, noHang: true) {
        return ReapedChild(pid: pid, status: s, usage: ResourceUsage())
      }
      let state = ProcFS.stat(pid)?.state
      if state == "T" && startState != "T" {
        return ReapedChild(pid: pid, status: .stopped(sig), usage: ResourceUsage())
      }
      if startState == "T" && state != "T" {
        return ReapedChild(pid: pid, status: .continued, usage: ResourceUsage())
      }
      if MonotonicClock.nanoseconds() >= end { return nil }
      try MonotonicClock.sleep(.milliseconds(2))
    }
  }

  static func run(_ options: Options, _ session: Session) throws -> Report {
    guard let pid = options.pid else {
      throw UsageError("kill: which process? usage: kill PID [SIGNAL]; \(heldList(session))")
    }
    if let gone = session.children.recentlyReaped.last(where: { $0.pid == pid }) {
      throw UsageError(
        "kill: \(pid) has already ended (\(gone.status)) and the shell reaped it; nothing to signal")
    }
    guard session.children.contains(pid) else {
      throw UsageError(
        "kill: \(pid) is not a process this shell created, so it will not signal it; \(heldList(session))")
    }
    let sig = options.signal.number
    let name = Signals.name(sig)
    let before = SignalDispositions.read(pid)
    let r = Report()
    if before?.state == "Z" {
      try SignalSender.send(sig, to: pid)
      r.line("sent \(name) to \(r.pid(pid)): it is a zombie, so nothing happened")
      r.fact("pid", pid)
      r.fact("signal", name)
      r.fact("effect", Effect.nothing.rawValue)
      r.explain(
        "\(pid) has already ended; only its exit status waits to be collected. Signals cannot change that — `wait \(pid)` reaps it."
      )
      return r
    }
    let t0 = MonotonicClock.nanoseconds()
    try SignalSender.send(sig, to: pid)
    let defaultAction = Signals.info(sig)?.defaultAction ?? "terminate"
    let caught = before?.isCaught(sig) ?? false
    let ignored = before?.isIgnored(sig) ?? false
    let blocked = before?.isBlocked(sig) ?? false
    let expectsChange =
      sig == SIGKILL || sig == SIGSTOP || sig == SIGCONT
      || (!caught && !ignored && !blocked && defaultAction != "ignore")
    let window: Duration = expectsChange ? .seconds(3) : .milliseconds(150)
    let keepZombie = session.children.child(pid)?.keepZombie ?? false
    // A child kept for --no-reap is watched without reaping it (waitid WNOWAIT), so it stays a zombie.
    let change =
      try keepZombie
      ? watchWithoutReaping(pid, sent: sig, from: before?.state, within: window)
      : Wait.change(pid, within: window)
    let elapsed = MonotonicClock.since(t0)
    let after = SignalDispositions.read(pid)
    if keepZombie, let change, change.status.signal != nil || change.status.exitCode != nil {
      r.line(
        "\(r.pid(pid)) \(change.status) — left unreaped as --no-reap asked: ps shows it as Z until `wait`")
      r.fact("pid", pid)
      r.fact("signal", name)
      r.fact("effect", Effect.terminated.rawValue)
      r.fact("status", change.status.json)
      r.fact("reaped", false)
      r.explain(
        "\(name) ended the child, but nobody collected its status: it is a zombie now. `wait \(pid)` reaps it."
      )
      return r
    }

    var effect = Effect.nothing
    if let change {
      switch change.status {
      case .exited, .signaled:
        effect = .terminated
        session.children.remove(pid)
        ProcessBook.of(session).entries[pid] = nil
        r.line("\(r.pid(pid)) \(change.status) — reaped after \(r.duration(elapsed))")
        r.line(
          "  it used \(r.duration(change.usage.userTime)) user + \(r.duration(change.usage.systemTime)) sys CPU, max RSS \(r.note(Units.bytes(change.usage.maxResidentBytes), .text))"
        )
        r.fact("status", change.status.json)
      case .stopped(let s):
        effect = .stopped
        r.line(
          "\(r.pid(pid)) stopped by \(Signals.name(s)) — ps shows state \(after?.state.map { String($0) } ?? "T")"
        )
      case .continued:
        effect = .continued
        // A continued child is running or already back asleep, as the scheduler had it.
        r.line(
          "\(r.pid(pid)) continued — state now \(r.varying(after?.state.map { String($0) } ?? "?", among: ["S", "R"]))"
        )
      }
    } else if caught {
      effect = .caught
      // On a busy machine the child may not have run its handler yet: give it up to 2 s to
      // wake, run it and sleep again (its voluntary switch count goes up when it does).
      var after = after
      let deadline = MonotonicClock.nanoseconds() + 2_000_000_000
      while (after?.voluntarySwitches ?? 0) <= (before?.voluntarySwitches ?? 0)
        && MonotonicClock.nanoseconds() < deadline
      {
        try MonotonicClock.sleep(.milliseconds(5))
        after = SignalDispositions.read(pid)
      }
      let woke = (after?.voluntarySwitches ?? 0) - (before?.voluntarySwitches ?? 0)
      r.line(
        "\(r.pid(pid)) caught \(name) with its handler and still runs (state \(after?.state.map { String($0) } ?? "?"); it woke up \(r.count(woke)) time(s) to run the handler)"
      )
      r.fact("woke", woke)
    } else if ignored || (defaultAction == "ignore") {
      effect = .ignored
      r.line(
        "\(r.pid(pid)) ignored \(name) and still runs (\(ignored ? "it set SIG_IGN" : "its default action is to ignore"))"
      )
    } else if blocked {
      effect = .blocked
      r.line("\(r.pid(pid)) has \(name) blocked: the signal waits, pending, until it unblocks it")
    } else if sig == SIGCONT {
      effect = .nothing
      r.line("\(r.pid(pid)) was not stopped, so \(name) changed nothing; it still runs")
    } else {
      r.line(
        "sent \(name) to \(r.pid(pid)); no change seen within \(r.duration(elapsed)) (state \(after?.state.map { String($0) } ?? "gone"))"
      )
    }
    r.fact("pid", pid)
    r.fact("signal", name)
    r.fact("number", Int(sig))
    r.fact("effect", effect.rawValue)
    r.fact("caught_before", caught)
    r.fact("ignored_before", ignored)
    r.fact("elapsed_ms", elapsed.milliseconds)

    let meaning = Signals.info(sig)?.meaning ?? "a signal"
    switch effect {
    case .terminated:
      r.explain(
        "\(name) (\(meaning)) has the default action \(defaultAction); the child had no handler for it, so the kernel ended it and wait4 collected its status.",
        more:
          "Only SIGKILL and SIGSTOP can never be caught or ignored; a process could catch \(name) and survive it."
      )
    case .stopped:
      r.explain(
        "\(name) stopped the child: it keeps its memory and PID but gets no CPU until SIGCONT (`kill \(pid) CONT`). wait4 with WUNTRACED reported the stop."
      )
    case .continued:
      r.explain("SIGCONT resumed the stopped child; wait4 with WCONTINUED reported it.")
    case .caught:
      r.explain(
        "The child installed a handler for \(name) (SigCgt in /proc/\(pid)/status), so the kernel ran that function instead of the default action (\(defaultAction)); afterwards it went back to sleep.",
        more:
          "proclab's children catch SIGUSR1 on purpose, to show a handler at work. Try USR2, which they do not catch."
      )
    case .ignored:
      r.explain(
        "The kernel discarded \(name): \(ignored ? "the child asked to ignore it (SigIgn in /proc/\(pid)/status)" : "ignoring is its default action (\(meaning))"). The child never noticed."
      )
    case .blocked:
      r.explain(
        "A blocked signal stays pending (SigPnd/ShdPnd in /proc/\(pid)/status) until the process unblocks it."
      )
    case .nothing:
      r.explain("SIGCONT only matters to a stopped process.")
    }
    return r
  }
}
