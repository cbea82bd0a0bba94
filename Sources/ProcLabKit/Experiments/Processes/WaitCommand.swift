import Glibc

/// `wait [PID|all]`: reap children the shell holds, decoding how each ended.
enum WaitCommand {
  /// `wait 4121` or `wait all` (the same as plain `wait`).
  enum Target: OptionValue {
    case all
    case pid(Int32)

    static func parse(_ word: String) -> Target? {
      if word.lowercased() == "all" { return .all }
      guard let pid = Int32(word), pid > 0 else { return nil }
      return .pid(pid)
    }
    static var expected: String { "a PID or 'all'" }
    static func refusal(of word: String, for what: String) -> String {
      "expected a PID or 'all', got '\(Printable.word(word))'"
    }
    static var completions: [String] { ["all"] }
    var canonicalWord: String {
      switch self {
      case .all: "all"
      case .pid(let pid): String(pid)
      }
    }
    var json: JSON {
      switch self {
      case .all: "all"
      case .pid(let pid): .int(Int(pid))
      }
    }
  }

  struct Options: CommandOptions {
    var target = Target.all

    static var declarations: [OptionDeclaration<Self>] {
      [.positional("target", \.target, "PID|all", "which held child to reap", completion: .children)]
    }
  }

  static let command = Command(
    name: "wait", area: .processes,
    summary: "reap held children (waiting for those still running) and decode each exit status",
    examples: ["spawn 2 --hold 1; wait", "spawn --no-reap; wait", "wait all"],
    options: Options.self
  ) { options, session in try run(options, session) }

  static func run(_ options: Options, _ session: Session) throws -> Report {
    var targets = session.children.children.sorted { $0.created < $1.created }
    var only: Int32?
    if case .pid(let pid) = options.target {
      only = pid
      if let gone = session.children.recentlyReaped.last(where: { $0.pid == pid }) {
        throw UsageError(
          "wait: \(pid) has already ended (\(gone.status)) and the shell reaped it between commands; nothing to wait for"
        )
      }
      if session.children.wasReaped(pid) {
        throw UsageError(
          "wait: \(pid) was this shell's child, and it has been reaped already; nothing to wait for")
      }
      guard let c = session.children.child(pid) else {
        throw UsageError("wait: \(pid) is not a child this shell holds; \(KillCommand.heldList(session))")
      }
      targets = [c]
    }
    let observation = try WaitExperiment(targets: targets, only: only).run(session)
    return WaitReport(observation).build()
  }
}

/// The OS work of `wait`: reap the targets in the order they end (like
/// waitpid(-1), but only these), noticing Ctrl-C and children stopped meanwhile.
struct WaitExperiment {
  struct Reaped {
    var pid: Int32
    /// State letter just before waiting (`Z`, `S`…), nil for a child the shell reaped earlier.
    var before: Character?
    var waited: Duration?
    var status: TerminationStatus
    var usage: ResourceUsage
    /// How long it had been a zombie, when `spawn --no-reap` saw it end.
    var zombieFor: Duration?
    var earlier: Bool { before == nil }
  }

  struct Observation {
    var reaped: [Reaped] = []
    var stopped: [Int32] = []
    var interrupted = false
    var stillHeld = 0
    var hadTargets = true
    /// waitid(P_ALL) = ECHILD: the kernel says this process has no children.
    var kernelSaysNone = false
    var now: [Reaped] { reaped.filter { !$0.earlier } }
    var earlier: [Reaped] { reaped.filter(\.earlier) }
  }

  let targets: [ChildTable.Child]
  /// `wait PID`: only that child is reported, not others the shell happened to reap meanwhile.
  var only: Int32? = nil

  func run(_ session: Session) throws -> Observation {
    var o = Observation()
    // Children the shell reaped by itself since the last command are part of the answer
    // (of `wait PID`, only that one's).
    o.reaped = session.children.takeRecentlyReaped(pid: only).map {
      Reaped(pid: $0.pid, before: nil, waited: nil, status: $0.status, usage: $0.usage)
    }
    guard !targets.isEmpty else {
      o.hadTargets = false
      o.kernelSaysNone = !Wait.hasAnyChildren
      return o
    }
    let book = session.processBook
    book.prune(keeping: session.children.pids)
    var pending: [(pid: Int32, before: Character?)] = []
    for c in targets {
      let before = ProcFS.stat(c.pid)?.state
      if before == "T" || before == "t" { o.stopped.append(c.pid) } else { pending.append((c.pid, before)) }
    }
    let t0 = MonotonicClock.nanoseconds()
    var pause = Duration.microseconds(100)
    while !pending.isEmpty {
      var progressed = false
      for (pid, before) in pending {
        guard let got = try Wait.wait4(pid, noHang: true) else { continue }
        progressed = true
        pending.removeAll { $0.pid == pid }
        session.children.remove(pid)
        let entry = book.entries.removeValue(forKey: pid)
        o.reaped.append(
          Reaped(
            pid: pid, before: before ?? "?", waited: MonotonicClock.since(t0), status: got.status,
            usage: got.usage,
            zombieFor: before == "Z" ? entry?.endedAt.map { MonotonicClock.since($0) } : nil))
      }
      if pending.isEmpty { break }
      if progressed { pause = .microseconds(100) }
      do { try MonotonicClock.sleep(pause) } catch is Interrupted {
        o.interrupted = true
        break
      }
      pause = min(pause * 2, .milliseconds(20))
      // A child stopped meanwhile (kill from another terminal) would block us for nothing.
      for p in pending where ProcFS.stat(p.pid)?.state == "T" {
        o.stopped.append(p.pid)
        pending.removeAll { $0.pid == p.pid }
      }
    }
    o.stillHeld = session.children.children.count
    return o
  }
}
