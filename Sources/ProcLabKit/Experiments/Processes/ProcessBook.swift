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

  static func cpu(_ u: ResourceUsage) -> String {
    "\(Units.duration(u.userTime)) user, \(Units.duration(u.systemTime)) sys"
  }
}
