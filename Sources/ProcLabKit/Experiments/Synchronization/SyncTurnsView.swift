/// What the synchronization commands compute from recorded turns, and how
/// they draw them: a timeline row per worker, a table of waits and holds.
struct SyncTurnsView {
  let result: SyncTurnsResult
  /// "thread" or "process"
  let noun: String

  var turns: [SyncTurn] { result.workers.flatMap(\.turns) }

  /// Pairs of turns whose held intervals overlapped in time.
  static func overlaps(_ intervals: [(UInt64, UInt64)]) -> Int {
    var count = 0
    for i in intervals.indices {
      for j in intervals.indices where j > i {
        if intervals[i].0 < intervals[j].1 && intervals[j].0 < intervals[i].1 { count += 1 }
      }
    }
    return count
  }

  /// The most intervals open at one instant.
  static func maxConcurrent(_ intervals: [(UInt64, UInt64)]) -> Int {
    IntervalSweep(intervals.map { (start: $0.0, end: $0.1) }).maxConcurrent
  }

  var heldIntervals: [(UInt64, UInt64)] { turns.map { ($0.acquired, $0.released) } }

  /// Workers that waited measurably (> 0.5 ms) for at least one turn.
  var waiters: [SyncWorker] { result.workers.filter { $0.turns.contains { $0.waited > 500_000 } } }
  /// Of those, the ones that slept in the kernel while waiting.
  var sleepers: [SyncWorker] { waiters.filter { $0.turns.contains { $0.waitSwitches > 0 } } }
  var totalWait: UInt64 { turns.reduce(0) { $0 + $1.waited } }
  var totalHeld: UInt64 { turns.reduce(0) { $0 + $1.held } }
  var longestWait: UInt64 { turns.map(\.waited).max() ?? 0 }
  var refusals: Int { turns.reduce(0) { $0 + $1.refusals } }

  /// `3 threads`, `2 processes`
  func nouns(_ n: Int) -> String { Units.plural(n, noun, noun == "process" ? "processes" : nil) }

  /// A worker's TID, or its PID when the workers are processes.
  func id(_ w: SyncWorker, _ r: Report) -> String { noun == "process" ? r.pid(w.tid) : r.tid(w.tid) }

  func timeline(report r: Report, held: Character = "█", mark: ((SyncWorker) -> Character)? = nil) -> Timeline
  {
    var t = Timeline(width: 48)
    for (i, w) in result.workers.enumerated() {
      let m = mark?(w) ?? held
      var intervals: [Timeline.Interval] = []
      for turn in w.turns {
        if turn.waited > 500_000 {
          intervals.append(.init(start: turn.requested, end: turn.acquired, mark: "░"))
        }
        intervals.append(.init(start: turn.acquired, end: max(turn.released, turn.acquired + 1), mark: m))
      }
      t.add("\(noun.prefix(1))\(i + 1) \(id(w, r))", intervals)
    }
    t.legend = [(held, "inside"), ("░", "waiting"), ("·", "elsewhere")]
    return t
  }

  func table(report r: Report, role: ((SyncWorker) -> String)? = nil, showRefusals: Bool = false) -> Table {
    var headers = [noun, noun == "process" ? "pid" : "tid"]
    if role != nil { headers.append("role") }
    headers += ["turns", "waited", "held", "switches while waiting"]
    if showRefusals { headers.append("refused") }
    var t = Table(headers, rightAligned: Set((role == nil ? 2 : 3)..<(headers.count)))
    for (i, w) in result.workers.enumerated() {
      var row = ["\(noun.prefix(1))\(i + 1)", id(w, r)]
      if let role { row.append(role(w)) }
      let waited = w.turns.reduce(0) { $0 + $1.waited }
      let held = w.turns.reduce(0) { $0 + $1.held }
      row += [
        // Every worker takes the turns it was given (--rounds).
        String(w.turns.count), r.duration(.nanoseconds(Int64(waited))),
        r.duration(.nanoseconds(Int64(held))),
        r.count(w.turns.reduce(0) { $0 + $1.waitSwitches }),
      ]
      if showRefusals { row.append(r.count(w.turns.reduce(0) { $0 + $1.refusals })) }
      t.add(row)
    }
    t.short = [headers.count - (showRefusals ? 2 : 1): "switches"]
    return t
  }

  /// The facts every turn-taking command reports for --json.
  func facts(into r: Report) {
    let t0 = result.start
    r.fact(
      "workers",
      JSON.array(
        result.workers.map { w in
          [
            "tid": .int(Int(w.tid)), "writer": .bool(w.writer), "voluntary_switches": .int(w.voluntary),
            "involuntary_switches": .int(w.involuntary),
            "turns": .array(
              w.turns.map { t in
                [
                  "requested_ns": .int(Int(t.requested &- t0)), "acquired_ns": .int(Int(t.acquired &- t0)),
                  "released_ns": .int(Int(t.released &- t0)), "wait_switches": .int(t.waitSwitches),
                  "refusals": .int(t.refusals), "inside": .int(t.inside),
                ] as JSON
              }),
          ] as JSON
        }))
    r.fact("max_inside", result.maxInside)
    r.fact("overlapping_holds", SyncTurnsView.overlaps(heldIntervals))
    r.fact("max_concurrent_holds", SyncTurnsView.maxConcurrent(heldIntervals))
    r.fact("total_wait_ns", totalWait)
    r.fact("total_held_ns", totalHeld)
    r.fact("waiters", waiters.count)
    r.fact("waiters_that_slept", sleepers.count)
  }
}

extension Duration {
  static func ns(_ n: UInt64) -> Duration { .nanoseconds(Int64(clamping: n)) }
}
