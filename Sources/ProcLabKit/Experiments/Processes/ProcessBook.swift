/// What the processes verbs remember about the children they started, beyond
/// the shell's ChildTable: how each was made and when it was seen to end.
final class ProcessBook {
  struct Entry {
    var method: String
    /// When `spawn --no-reap` saw the child end (it has been a zombie since).
    var endedAt: UInt64?
    var endStatus: TerminationStatus?
  }
  var entries: [Int32: Entry] = [:]

  static func of(_ session: Session) -> ProcessBook { session.processBook }

  /// Forgets children the shell no longer holds (reaped in the background or by `wait`/`kill`).
  func prune(keeping pids: [Int32]) {
    let keep = Set(pids)
    entries = entries.filter { keep.contains($0.key) }
  }
}

/// Wording shared by the processes verbs.
enum ProcessWords {
  /// `exited 0`, `killed by SIGTERM`, with what it means.
  static func meaning(of status: TerminationStatus) -> String {
    switch status {
    case .exited(0): "ended normally (exit status 0 means success)"
    case .exited(let c): "ended by itself with exit status \(c) (non-zero usually means failure)"
    case .signaled(let s, let core):
      "ended by the signal \(Signals.name(s)) (\(Signals.info(s)?.meaning ?? "no description"))"
        + (core ? "; the kernel wrote a core dump" : "")
    case .stopped: "stopped; SIGCONT continues it"
    case .continued: "resumed by SIGCONT"
    }
  }

  /// `41.2 ms user + 12.0 ms sys CPU`, or for a short life only the total: the
  /// split is sampled at the clock tick and means nothing below a few ticks.
  static func cpu(_ u: ResourceUsage) -> String {
    u.splitIsMeaningful
      ? split(user: u.userTime, system: u.systemTime)
      : "\(Units.duration(u.cpuTime)) CPU (too short to split into user and sys)"
  }

  /// `41.2 ms user + 12.0 ms sys CPU`; a side no clock tick caught is not "0 ns" (the
  /// kernel's sampling saw none of it, which is not the same as none happening).
  static func split(
    user: Duration, system: Duration, format: (Duration) -> String = { Units.duration($0) }
  ) -> String {
    if system == .zero { return "\(format(user)) user CPU, sys not caught by any clock tick" }
    if user == .zero { return "\(format(system)) sys CPU, user not caught by any clock tick" }
    return "\(format(user)) user + \(format(system)) sys CPU"
  }

  /// A table cell: `4.13 ms`, or `41.0 ms (74% user)` when the split means something.
  static func cpuCell(_ u: ResourceUsage) -> String {
    guard u.splitIsMeaningful else { return Units.duration(u.cpuTime) }
    if u.systemTime == .zero || u.userTime == .zero {
      return "\(Units.duration(u.cpuTime)) (no tick in \(u.systemTime == .zero ? "sys" : "user"))"
    }
    return "\(Units.duration(u.cpuTime)) (\(Units.percent(u.userTime.seconds / u.cpuTime.seconds)) user)"
  }

  /// How much of the CPU time was in the kernel, or that no clock tick caught it there.
  static func kernelShare(user: Duration, system: Duration) -> String {
    let cpu = user + system
    if system == .zero {
      return
        "no clock tick caught it in the kernel, which means little kernel time, not none (the split is sampled at each tick)"
    }
    if user == .zero {
      return
        "no clock tick caught it in user space, which means little user time, not none (the split is sampled at each tick)"
    }
    return "\(Units.percent(system.seconds / cpu.seconds)) of it in the kernel"
  }

  /// A reaped child's MAX RSS (wait4's ru_maxrss) includes the memory it had before execve: a
  /// posix_spawn child ran in this shell's memory until then (CLONE_VM), a fork child in a copy,
  /// and at execve Linux keeps the old memory's high-water mark (exec_mmap; KernelFactsTests).
  /// Said when a figure is as big as this shell's own peak, where a learner would take it for
  /// the child's.
  static func inheritedPeakNote(_ maxResident: [Int]) -> String? {
    guard let shell = ProcFS.peakResidentBytes(Threads.processID), let most = maxResident.max(),
      most >= shell * 9 / 10
    else { return nil }
    return
      "MAX RSS (wait4's ru_maxrss) is the most a child ever had resident, shared pages counted in full: a child made by posix_spawn ran in this shell's memory until execve (\(Units.bytes(shell)) at its peak, VmHWM), and Linux keeps that high-water mark across execve; a forked child maps this shell's pages, shared copy-on-write, from its start. So the figure says more about this shell than about the child."
  }

  /// Why a short CPU time is not split, for explanations.
  static let tickNote =
    "The kernel splits CPU time into user and system by sampling at each clock tick (every 1 to 10 ms), so below about 30 ms the split is noise: the total is exact, the split is not."
}
