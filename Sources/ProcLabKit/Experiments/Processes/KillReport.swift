import Glibc

/// Turns what `kill` observed into lines, facts and an explanation.
struct KillReport {
  typealias Observation = KillExperiment.Observation
  let o: Observation
  let r = Report()

  init(_ observation: Observation) { o = observation }

  var pid: Int32 { o.pid }
  var name: String { Signals.name(o.signal) }
  var meaning: String { Signals.info(o.signal)?.meaning ?? "a signal" }
  var stateAfter: String { o.after?.state.map { String($0) } ?? "gone" }
  /// The pending signal that ended a child resumed by SIGCONT.
  var endedByPending: Int32? {
    guard o.signal == SIGCONT, o.effect == .terminated, let s = o.change?.status.signal else { return nil }
    return o.pendingBefore.contains(s) ? s : nil
  }

  func build() -> Report {
    r.fact("pid", pid)
    r.fact("signal", name)
    r.fact("number", Int(o.signal))
    if o.wasZombie {
      zombie()
      return r
    }
    lines()
    facts()
    explain()
    return r
  }

  private func zombie() {
    r.line("sent \(name) to \(r.pid(pid)): it is a zombie, so nothing happened")
    r.fact("effect", KillExperiment.Effect.nothing.rawValue)
    r.explain(
      "\(pid) has already ended; only its exit status waits to be collected. Signals cannot change that — `wait \(pid)` reaps it."
    )
  }

  // MARK: lines

  private func lines() {
    switch o.effect {
    case .terminated:
      let status = o.change?.status
      if o.keptZombie {
        r.line(
          "\(r.pid(pid)) \(status.map { "\($0)" } ?? "ended") — left unreaped as --no-reap asked: ps shows it as Z until `wait`"
        )
        return
      }
      if endedByPending != nil {
        r.line(
          "\(r.pid(pid)) continued, then \(status.map { "\($0)" } ?? "ended") (pending since it was stopped) — reaped after \(r.duration(o.elapsed))"
        )
      } else {
        r.line("\(r.pid(pid)) \(status.map { "\($0)" } ?? "ended") — reaped after \(r.duration(o.elapsed))")
      }
      if let u = o.change?.usage {
        r.line("  it used \(cpu(u)), max RSS \(r.note(Units.bytes(u.maxResidentBytes), .text))")
      }
    case .stopped:
      r.line(
        "\(r.pid(pid)) stopped by \(Signals.name(o.change?.status.stopSignal ?? o.signal)) — ps shows state \(o.after?.state.map { String($0) } ?? "T")"
      )
    case .continued:
      // A continued child is running or already back asleep, as the scheduler had it.
      r.line("\(r.pid(pid)) continued — state now \(r.varying(stateAfter, among: ["S", "R"]))")
    case .caught:
      r.line(
        "\(r.pid(pid)) caught \(name) with its handler and still runs (state \(r.varying(stateAfter, among: ["S", "R"])); it woke up \(r.count(o.woke)) time(s) to run the handler)"
      )
    case .ignored:
      if o.wasStopped {
        r.line(
          "\(r.pid(pid)) is stopped; the kernel dropped \(name) at once (its default action is to ignore)")
      } else {
        r.line(
          "\(r.pid(pid)) ignored \(name) and still runs (\(o.ignored ? "it set SIG_IGN" : "its default action is to ignore"))"
        )
      }
    case .blocked:
      r.line("\(r.pid(pid)) has \(name) blocked: the signal waits, pending, until it unblocks it")
    case .pending:
      r.line("\(r.pid(pid)) is stopped (state \(stateAfter)): \(name) was not acted on; it waits, pending")
      pendingLine()
    case .nothing:
      if o.wasStopped {
        r.line("\(r.pid(pid)) was already stopped (state \(stateAfter)): \(name) changed nothing")
        if o.after?.isPending(o.signal) ?? false { pendingLine() }
      } else if o.signal == SIGCONT {
        r.line("\(r.pid(pid)) was not stopped, so \(name) changed nothing; it still runs")
      } else {
        r.line(
          "sent \(name) to \(r.pid(pid)); no change seen within \(r.duration(o.elapsed)) (state \(r.varying(stateAfter, among: ["S", "R"])))"
        )
      }
    }
  }

  /// `  /proc/4121/status: ShdPnd 0000000000004000 = SIGTERM`
  private func pendingLine() {
    guard let after = o.after else { return }
    let names = after.pendingSignals.map(Signals.name).joined(separator: ", ")
    r.line(
      "  /proc/\(r.pid(pid))/status: ShdPnd \(r.fixed(SignalDispositions.hex(after.sharedPending))) = \(names.isEmpty ? "none" : names)"
    )
  }

  private func cpu(_ u: ResourceUsage) -> String {
    // Which form is shown depends on the clock ticks the child happened to use: one varying text.
    r.note(
      u.splitIsMeaningful
        ? "\(Units.duration(u.userTime)) user + \(Units.duration(u.systemTime)) sys CPU"
        : "\(Units.duration(u.cpuTime)) CPU (too short to split into user and sys)", .text)
  }

  // MARK: facts

  private func facts() {
    r.fact("effect", o.effect.rawValue)
    r.fact("caught_before", o.caught)
    r.fact("ignored_before", o.ignored)
    r.fact("was_stopped", o.wasStopped)
    r.fact("elapsed_ms", o.elapsed.milliseconds)
    if o.effect == .caught { r.fact("woke", o.woke) }
    if let after = o.after {
      r.fact("pending_after", after.pendingSignals.map(Signals.name))
      r.fact("shared_pending_mask", SignalDispositions.hex(after.sharedPending))
    }
    if !o.pendingBefore.isEmpty { r.fact("pending_before", o.pendingBefore.map(Signals.name)) }
    if let s = endedByPending { r.fact("ended_by_pending", Signals.name(s)) }
    if let status = o.change?.status, o.effect == .terminated {
      r.fact("status", status.json)
      r.fact("reaped", !o.keptZombie)
    }
  }

  // MARK: explanation

  private func explain() {
    let defaultAction = o.defaultAction
    switch o.effect {
    case .terminated where o.keptZombie:
      r.explain(
        "\(name) ended the child, but nobody collected its status: it is a zombie now. `wait \(pid)` reaps it."
      )
    case .terminated:
      if let s = endedByPending {
        // Stop signals still pending are discarded by SIGCONT, never delivered.
        let stops = [SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU]
        let others = o.pendingBefore.filter { $0 != s && !stops.contains($0) }
        r.explain(
          "SIGCONT resumed the child, and the \(Signals.name(s)) that had been pending while it was stopped was delivered at once: its default action (\(Signals.info(s)?.defaultAction ?? "terminate")) ended the child. SIGCONT itself ends nothing."
            + (others.isEmpty
              ? ""
              : " The kernel delivers pending standard signals lowest number first: \(Signals.name(s)) (\(s)) came before \(others.map { "\(Signals.name($0)) (\($0))" }.joined(separator: ", ")).")
        )
      } else if o.signal == SIGKILL {
        r.explain(
          "SIGKILL cannot be caught, blocked or ignored, so no process can have a handler for it: the kernel ended the child without running any of its code, and wait4 collected its status."
        )
      } else {
        r.explain(
          "\(name) (\(meaning)) has the default action \(defaultAction), and the child had no handler for it (SigCgt in /proc/\(pid)/status did not list it), so the kernel ended it and wait4 collected its status.",
          more:
            "Only SIGKILL and SIGSTOP can never be caught, blocked or ignored; a process could catch \(name) and survive it."
        )
      }
      if let u = o.change?.usage, let note = ProcessWords.inheritedPeakNote([u.maxResidentBytes]) {
        r.explain(note)
      }
    case .stopped:
      r.explain(
        "\(name) stopped the child: it keeps its memory and PID but gets no CPU until SIGCONT (`kill \(pid) CONT`). wait4 with WUNTRACED reported the stop."
      )
    case .continued:
      // Caught while stopped, and no longer pending after SIGCONT: delivered, so the handler ran.
      let handled = o.pendingBefore.filter {
        (o.before?.isCaught($0) ?? false) && !(o.after?.isPending($0) ?? true)
      }
      r.explain(
        "SIGCONT resumed the stopped child; wait4 with WCONTINUED reported it."
          + (handled.isEmpty
            ? ""
            : " The \(handled.map(Signals.name).joined(separator: ", ")) pending while it was stopped was delivered on resume and its handler ran.")
      )
    case .caught:
      r.explain(
        "The child installed a handler for \(name) (SigCgt in /proc/\(pid)/status), so the kernel ran that function instead of the default action (\(defaultAction)); afterwards it went back to sleep.",
        more:
          "proclab's children catch SIGUSR1 on purpose, to show a handler at work. Try USR2, which they do not catch."
      )
    case .ignored:
      r.explain(
        "The kernel discarded \(name): \(o.ignored ? "the child asked to ignore it (SigIgn in /proc/\(pid)/status)" : "ignoring is its default action (\(meaning))")\(o.wasStopped ? ", so even a stopped process does not keep it pending" : ""). The child never noticed."
      )
    case .blocked:
      r.explain(
        "A blocked signal stays pending (SigPnd/ShdPnd in /proc/\(pid)/status) until the process unblocks it."
      )
    case .pending:
      r.explain(
        "A stopped process runs no code, so the kernel cannot act on \(name) yet: it stays pending (ShdPnd: pending for the whole process) until SIGCONT resumes the child, and then \(o.caught ? "its handler runs" : "its default action (\(defaultAction)) applies"). Only SIGKILL (which ends it) and SIGCONT (which resumes it) act on a stopped process at once.",
        more: "Try `kill \(pid) CONT` and watch the pending \(name) act.")
    case .nothing:
      if o.wasStopped {
        r.explain(
          "The child was already stopped, so another stop signal changes nothing; when SIGCONT arrives the kernel discards stop signals still pending."
        )
      } else if o.signal == SIGCONT {
        r.explain("SIGCONT only resumes a stopped process; this one was not stopped, so nothing changed.")
      } else {
        r.explain("Nothing observable changed within \(Units.duration(o.elapsed)).")
      }
    }
  }
}
