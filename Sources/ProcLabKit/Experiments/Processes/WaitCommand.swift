import Glibc

/// `wait [PID|all]`: reap children the shell holds, decoding how each ended.
enum WaitCommand {
  static let command = Command(
    name: "wait", area: .processes,
    summary: "reap held children (waiting for those still running) and decode each exit status",
    usage: "wait [PID|all]", examples: ["spawn 2 --hold 1; wait", "spawn --no-reap; wait", "wait all"],
    completion: .children
  ) { args, session in try run(args, session) }

  static func run(_ args: Arguments, _ session: Session) throws -> Report {
    try args.expectPositionals(atMost: 1)
    let r = Report()
    // Children the shell reaped by itself since the last command still deserve a line.
    let background = session.children.takeRecentlyReaped()
    var targets = session.children.children.sorted { $0.created < $1.created }
    if let word = args.positional(0), word != "all" {
      guard let pid = Int32(word), pid > 0 else {
        throw UsageError("wait: expected a PID or 'all', got '\(Printable.word(word))'")
      }
      guard let c = session.children.child(pid) else {
        throw UsageError("wait: \(pid) is not a child this shell holds; \(KillCommand.heldList(session))")
      }
      targets = [c]
    }
    if targets.isEmpty {
      let kernelAgrees = !Wait.hasAnyChildren
      r.line(
        "nothing to wait for: this shell holds no children"
          + (kernelAgrees ? " (the kernel agrees: waitid(P_ALL) = ECHILD)" : ""))
      for b in background { r.line("  \(r.pid(b.pid)) had already ended and been reaped: \(b.status)") }
      r.fact("reaped", JSON.array([]))
      r.explain("Start children with `spawn 2 --hold 5` or `spawn --no-reap`, then `wait` reaps them.")
      return r
    }
    let book = ProcessBook.of(session)
    book.prune(keeping: session.children.pids)
    var table = Table(
      ["PID", "WAS", "REAPED AFTER", "ENDED", "CPU user/sys", "MAX RSS"], rightAligned: [0, 2])
    var reaped: [JSON] = []
    var zombiesReaped: [(Int32, Duration?)] = []
    var skipped: [String] = []
    var statuses: [TerminationStatus] = []
    var interrupted = false
    // Reap in the order the children end (like waitpid(-1)), but only ours: poll each with
    // WNOHANG, sleeping a little between rounds, so Ctrl-C is noticed at once.
    var pending: [(ChildTable.Child, Character?)] = []
    for c in targets {
      let before = ProcFS.stat(c.pid)?.state
      if before == "T" || before == "t" {
        skipped.append("\(c.pid) is stopped: it cannot end until continued (kill \(c.pid) CONT)")
      } else {
        pending.append((c, before))
      }
    }
    let t0 = MonotonicClock.nanoseconds()
    var pause = Duration.microseconds(100)
    while !pending.isEmpty {
      var progressed = false
      for (c, before) in pending {
        guard let got = try Wait.wait4(c.pid, noHang: true) else { continue }
        progressed = true
        pending.removeAll { $0.0.pid == c.pid }
        let waited = MonotonicClock.since(t0)
        session.children.remove(c.pid)
        let entry = book.entries.removeValue(forKey: c.pid)
        statuses.append(got.status)
        if before == "Z" { zombiesReaped.append((c.pid, entry?.endedAt.map { MonotonicClock.since($0) })) }
        let was =
          before.map { "\($0) \($0 == "Z" ? "zombie" : $0 == "S" ? "sleeping" : $0 == "R" ? "running" : "")" }
          ?? "?"
        // Whether a child had already ended (a zombie) or was still sleeping depends on how
        // long after its start the wait came: a replay types faster than a person.
        table.add([
          r.pid(c.pid), r.varying(was, among: ["Z zombie", "S sleeping", "R running"]), r.duration(waited),
          "\(got.status)",
          "\(r.duration(got.usage.userTime))/\(r.duration(got.usage.systemTime))",
          r.note(Units.bytes(got.usage.maxResidentBytes), .text),
        ])
        reaped.append([
          "pid": .int(Int(c.pid)), "state_before": .string(before.map { String($0) } ?? "?"),
          "waited_ms": .double(waited.milliseconds), "status": got.status.json, "usage": got.usage.json,
        ])
      }
      if pending.isEmpty { break }
      if progressed { pause = .microseconds(100) }
      do { try MonotonicClock.sleep(pause) } catch is Interrupted {
        interrupted = true
        break
      }
      pause = min(pause * 2, .milliseconds(20))
      // A child stopped meanwhile (kill from another terminal) would block us for nothing.
      for (c, _) in pending where ProcFS.stat(c.pid)?.state == "T" {
        skipped.append("\(c.pid) is stopped: it cannot end until continued (kill \(c.pid) CONT)")
        pending.removeAll { $0.0.pid == c.pid }
      }
    }
    if reaped.isEmpty {
      r.line("reaped nothing")
    } else {
      r.line("reaped \(Units.plural(reaped.count, "child", "children")) with wait4:")
      // Rows come in the order the children ended, which timing decides.
      let rows = table.lines
      r.lines(Array(rows.prefix(1)))
      r.linesInAnyOrder(Array(rows.dropFirst()))
    }
    for b in background { r.line("  \(r.pid(b.pid)) had already ended and the shell reaped it: \(b.status)") }
    for s in skipped { r.line("  " + s) }
    let left = session.children.children.count
    if interrupted {
      r.line("interrupted (Ctrl-C): \(Units.plural(left, "child", "children")) still held (see ps)")
      r.succeeded = false
    }
    r.fact("reaped", JSON.array(reaped))
    r.fact("still_held", left)
    r.fact("interrupted", interrupted)

    if interrupted {
      r.explain(
        "Ctrl-C stopped the waiting, not the children: wait4 was polling and gave up; the children still run. `kill PID` ends one, `wait` waits again."
      )
    }
    if let first = statuses.first {
      let kinds = Set(statuses.map { "\($0)" })
      r.explain(
        kinds.count == 1
          ? "\(statuses.count == 1 ? "It" : "All \(statuses.count)") \(first): \(ProcessWords.meaning(of: first))."
          : "They ended in different ways: \(kinds.sorted().joined(separator: ", ")).")
    }
    if !zombiesReaped.isEmpty {
      let longest = zombiesReaped.compactMap(\.1).max()
      r.explain(
        "\(Units.plural(zombiesReaped.count, "zombie")) reaped: \(zombiesReaped.count == 1 ? "it" : "each") had already ended"
          + (longest.map { " (up to \(Units.duration($0)) before)" } ?? "")
          + ", but the kernel kept its PID, exit status and CPU usage until wait4 collected them. Now the PID is free.",
        more:
          "A parent that never waits leaves zombies; they use no memory but each holds a PID. If the parent dies, init (or a subreaper) adopts and reaps them: see `orphan`."
      )
    } else if !statuses.isEmpty {
      r.explain(
        "wait4 blocked until each child ended, then returned its status and resource usage in one call.")
    }
    return r
  }
}
