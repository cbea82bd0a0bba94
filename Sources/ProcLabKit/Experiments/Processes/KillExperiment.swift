import Glibc

/// The OS work of `kill`: read the child's signal state from /proc, send the
/// signal with kill(2), and watch what the kernel did with it: an end (wait4,
/// or waitid WNOWAIT for a child kept as a zombie), a stop or continue, a
/// handler run, or a signal left pending.
struct KillExperiment {
  enum Effect: String {
    case terminated, stopped, continued, caught, ignored, blocked, pending
    case nothing = "no effect"
  }

  struct Observation {
    var pid: Int32
    var signal: Int32
    /// /proc/PID/status just before kill(2), and after the change (or the wait).
    var before: SignalDispositions?
    var after: SignalDispositions?
    /// What wait4 / waitid / /proc reported, if anything changed.
    var change: ReapedChild?
    var effect = Effect.nothing
    var elapsed: Duration = .zero
    /// The child was kept as a zombie (--no-reap), so its end was not reaped.
    var keptZombie = false
    /// How many times the child woke up to run its handler (voluntary switches).
    var woke = 0

    var wasStopped: Bool { before?.state == "T" || before?.state == "t" }
    var wasZombie: Bool { before?.state == "Z" }
    var caught: Bool { before?.isCaught(signal) ?? false }
    var ignored: Bool { before?.isIgnored(signal) ?? false }
    var blocked: Bool { before?.isBlocked(signal) ?? false }
    var defaultAction: String { Signals.info(signal)?.defaultAction ?? "terminate" }
    /// Signals that were waiting in the stopped child before SIGCONT, lowest first.
    var pendingBefore: [Int32] { before?.pendingSignals ?? [] }
    /// Of those, the ones whose default action ends the process (no handler caught them).
    var lethalPending: [Int32] {
      pendingBefore.filter { sig in
        !(before?.isCaught(sig) ?? false)
          && ["terminate", "core dump"].contains(Signals.info(sig)?.defaultAction ?? "terminate")
      }
    }
  }

  let pid: Int32
  let signal: Int32
  let keepZombie: Bool

  func run() throws -> Observation {
    var o = Observation(
      pid: pid, signal: signal, before: SignalDispositions.read(pid), keptZombie: keepZombie)
    if o.wasZombie {
      try SignalSender.send(signal, to: pid)
      return o
    }
    let t0 = MonotonicClock.nanoseconds()
    try SignalSender.send(signal, to: pid)
    if o.wasStopped && signal != SIGKILL && signal != SIGCONT {
      // A stopped process runs nothing, so nothing acts on the signal now: the
      // kernel either drops it (ignored) or keeps it pending until SIGCONT.
      o.after = try settle(pending: signal, within: .milliseconds(150))
      o.elapsed = MonotonicClock.since(t0)
      o.effect = pendingEffect(o)
      return o
    }
    let expectsChange =
      signal == SIGKILL || signal == SIGSTOP || signal == SIGCONT
      || (!o.caught && !o.ignored && !o.blocked && o.defaultAction != "ignore")
    let window: Duration = expectsChange ? .seconds(3) : .milliseconds(150)
    // A child kept for --no-reap is watched without reaping it (waitid WNOWAIT), so it stays a zombie.
    o.change =
      try keepZombie
      ? watchWithoutReaping(from: o.before?.state, within: window) : Wait.change(pid, within: window)
    if signal == SIGCONT, o.change?.status == .continued, !o.lethalPending.isEmpty {
      // Resumed with signals waiting: they are delivered now, and one may end the child.
      let more =
        try keepZombie
        ? watchWithoutReaping(from: ProcFS.stat(pid)?.state, within: .seconds(3))
        : Wait.change(pid, within: .seconds(3))
      if let more, more.status.signal != nil || more.status.exitCode != nil { o.change = more }
    }
    o.elapsed = MonotonicClock.since(t0)
    o.after = SignalDispositions.read(pid)
    o.effect = try effect(&o)
    return o
  }

  /// Reads /proc/PID/status until `sig` shows as pending (or the time is up).
  private func settle(pending sig: Int32, within window: Duration) throws -> SignalDispositions? {
    let end = MonotonicClock.nanoseconds() + UInt64(window.nanoseconds)
    var now = SignalDispositions.read(pid)
    while let d = now, !d.isPending(sig), MonotonicClock.nanoseconds() < end {
      try MonotonicClock.sleep(.milliseconds(5))
      now = SignalDispositions.read(pid)
    }
    return now
  }

  /// What a signal sent to a stopped child did.
  private func pendingEffect(_ o: Observation) -> Effect {
    let stops = [SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU]
    if stops.contains(signal) { return .nothing }
    if o.after?.isPending(signal) ?? false { return .pending }
    return .ignored
  }

  private func effect(_ o: inout Observation) throws -> Effect {
    if let change = o.change {
      switch change.status {
      case .exited, .signaled: return .terminated
      case .stopped: return .stopped
      case .continued: return .continued
      }
    }
    if o.caught {
      // On a busy machine the child may not have run its handler yet: give it up to 2 s to
      // wake, run it and sleep again (its voluntary switch count goes up when it does).
      let deadline = MonotonicClock.nanoseconds() + 2_000_000_000
      while (o.after?.voluntarySwitches ?? 0) <= (o.before?.voluntarySwitches ?? 0)
        && MonotonicClock.nanoseconds() < deadline
      {
        try MonotonicClock.sleep(.milliseconds(5))
        o.after = SignalDispositions.read(pid)
      }
      o.woke = (o.after?.voluntarySwitches ?? 0) - (o.before?.voluntarySwitches ?? 0)
      return .caught
    }
    if o.ignored || o.defaultAction == "ignore" { return .ignored }
    if o.blocked { return .blocked }
    return .nothing
  }

  /// Like Wait.change, without reaping: the end is seen with waitid(WNOWAIT), a stop or
  /// continue from /proc (wait4 would reap an ended child).
  private func watchWithoutReaping(from startState: Character?, within window: Duration) throws
    -> ReapedChild?
  {
    let end = MonotonicClock.nanoseconds() + UInt64(window.nanoseconds)
    while true {
      if let s = try Wait.endedWithoutReaping(pid, noHang: true) {
        return ReapedChild(pid: pid, status: s, usage: ResourceUsage())
      }
      let state = ProcFS.stat(pid)?.state
      if state == "T" && startState != "T" {
        return ReapedChild(pid: pid, status: .stopped(signal), usage: ResourceUsage())
      }
      if startState == "T" && state != "T" {
        return ReapedChild(pid: pid, status: .continued, usage: ResourceUsage())
      }
      if MonotonicClock.nanoseconds() >= end { return nil }
      try MonotonicClock.sleep(.milliseconds(2))
    }
  }
}
