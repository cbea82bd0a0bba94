/// What `deadlock` prints: a timeline of holds and waits, and either the cycle
/// the watchdog found or how the threads finished.
enum DeadlockReport {
  static let lockNames = DeadlockCommand.lockNames

  static func render(_ w: DeadlockExperiment.Watched) throws -> Report {
    let (order, pauseMS, timeoutMS, states, finalMessage, stuck, watchdogAt, run) = (
      w.order, w.pauseMS, w.timeoutMS, w.states, w.finalMessage, w.stuck, w.watchdogAt, w.run
    )
    let modeName = order == .ordered ? "ordered" : order == .trylock ? "trylock" : "opposite"
    let r = Report()
    let last = states.last
    let tids = last?.tids ?? [0, 0]
    let orderText =
      order == .ordered
      ? "both take A then B"
      : order == .trylock
        ? "t1 A then B, t2 B then A, second lock by trylock" : "t1 takes A then B, t2 takes B then A"
    r.line(
      "lab child \(r.pid(run.pid)): two threads, two pthread mutexes A and B; \(orderText), \(r.fixed(Units.duration(.milliseconds(pauseMS)))) pause in between"
    )
    if let t = timeline(states, end: watchdogAt, tids: tids, report: r) { r.timeline(t) }
    r.fact("mode", modeName)
    r.fact("lab_pid", run.pid)
    r.fact("tids", tids.map { Int($0) })
    r.fact("states_recorded", states.count)
    r.fact("deadlocked", stuck)
    r.fact("status", run.status.description)
    r.fact("refusals", last?.refusals ?? [0, 0])
    if stuck {
      let cycle = last.map(findCycle) ?? []
      let named = cycle.map {
        "thread \(r.tid(tids[$0.thread])) holds \(lockNames[$0.holds]) and waits for \(lockNames[$0.waitsFor])"
      }
      let silence = Duration.nanoseconds(Int64(watchdogAt &- (last?.time ?? watchdogAt)))
      r.line(
        "watchdog: no progress for \(r.duration(silence)) (timeout \(r.fixed(Units.duration(.milliseconds(timeoutMS))))); lab child \(run.status), reaped"
      )
      if named.isEmpty {
        r.line("stuck, but the recorded state shows no cycle (last state: \(last?.summary ?? "none"))")
        r.explain(
          "The threads stopped making progress, but what the wrappers recorded does not form a cycle: something else blocked them (a very slow machine?). Try a longer --timeout."
        )
      } else {
        r.line("deadlock: " + named.joined(separator: "; "))
        r.explain(
          "A cycle of waiting: " + named.joined(separator: "; ")
            + ". Neither can go on until the other gives up its lock, and neither will, so both would sleep in pthread_mutex_lock forever (the kernel sees two sleeping threads, not an error). The watchdog ended the lab child; the shell goes on.",
          more:
            "Four conditions make a deadlock: mutual exclusion, hold-and-wait, no preemption and a circular wait. Remove any one: --ordered removes the circular wait (everyone takes locks in one global order), --trylock removes hold-and-wait (refused, give back what you hold and retry). Finding deadlocks costs bookkeeping like the wait-for graph these wrappers kept; avoiding them costs discipline (a lock order) or retries."
        )
      }
      r.fact(
        "cycle",
        JSON.array(
          cycle.map {
            [
              "tid": .int(Int(tids[$0.thread])), "holds": .string(lockNames[$0.holds]),
              "waits_for": .string(lockNames[$0.waitsFor]),
            ] as JSON
          }))
    } else {
      guard let res = finalMessage?["result"] else {
        throw UsageError(
          "deadlock: the lab child \(run.pid) ended without a result: \(run.status) \(run.lastOutput.joined(separator: " / "))"
        )
      }
      let elapsed = Duration.nanoseconds(Int64(res["elapsed_ns"]?.intValue ?? 0))
      let refusals = (res["refusals"]?.arrayValue ?? []).compactMap(\.intValue)
      r.line("both threads finished in \(r.duration(elapsed)); lab child \(run.status)")
      r.fact("elapsed_ns", res["elapsed_ns"]?.intValue ?? 0)
      r.fact("refusals", refusals)
      if order == .ordered {
        r.explain(
          "Both threads took A before B, so whoever got A first could always get B too; the other simply waited for A. A cycle needs someone holding B while waiting for A, which a global order rules out. It cost some parallelism: the thread that lost the race for A waited while the other held both."
        )
      } else if order == .trylock {
        let total = refusals.reduce(0, +)
        r.explain(
          "trylock was refused \(r.count(total)) \(total == 1 ? "time" : "times") (t1 \(r.count(refusals.first ?? 0)), t2 \(r.count(refusals.last ?? 0))); each refused thread gave back the lock it held and tried again after a back-off, so it never held one lock while sleeping for the other: no cycle could last. The cost: wasted work and retries, and with equal back-offs the two could keep colliding (livelock), which is why the back-offs differ."
        )
      } else {
        r.explain(
          "This time the threads did not deadlock: one got both locks before the other took its first. Deadlocks depend on timing; try a longer --pause."
        )
      }
    }
    return r
  }

  struct CycleEdge {
    var thread: Int
    var holds: Int
    var waitsFor: Int
  }

  /// Follows "waits for a lock held by" from thread to thread until it comes back.
  static func findCycle(_ s: LockStateRecord) -> [CycleEdge] {
    for start in s.holds.indices {
      var path: [CycleEdge] = []
      var visited: Set<Int> = []
      var t = start
      while let lock = s.waits[t], !visited.contains(t) {
        visited.insert(t)
        guard let holder = s.holds.indices.first(where: { s.holds[$0].contains(lock) && $0 != t }),
          let held = s.holds[t].first
        else { break }
        path.append(CycleEdge(thread: t, holds: held, waitsFor: lock))
        if holder == start { return path }
        t = holder
      }
    }
    return []
  }

  /// One row per thread and lock: █ held, ░ waiting for it.
  static func timeline(_ states: [LockStateRecord], end: UInt64, tids: [Int32], report r: Report) -> Timeline?
  {
    guard let first = states.first else { return nil }
    var t = Timeline(width: 44)
    for thread in 0..<2 {
      for lock in 0..<2 {
        var intervals: [Timeline.Interval] = []
        var heldSince: UInt64?
        var waitSince: UInt64?
        for s in states {
          let holds = s.holds[thread].contains(lock)
          let waits = s.waits[thread] == lock
          if holds, heldSince == nil { heldSince = s.time }
          if !holds, let h = heldSince {
            intervals.append(.init(start: h, end: s.time, mark: "█"))
            heldSince = nil
          }
          if waits, waitSince == nil { waitSince = s.time }
          if !waits, let w = waitSince {
            intervals.append(.init(start: w, end: s.time, mark: "░"))
            waitSince = nil
          }
        }
        let stop = max(end, states.last!.time)
        if let h = heldSince { intervals.append(.init(start: h, end: stop, mark: "█")) }
        if let w = waitSince { intervals.append(.init(start: w, end: stop, mark: "░")) }
        intervals.append(.init(start: first.time, end: first.time, mark: "·"))
        intervals.append(.init(start: stop, end: stop, mark: "·"))
        t.add(
          "t\(thread + 1) \(r.tid(tids[thread])) \(lockNames[lock])", intervals.filter { $0.end >= $0.start })
      }
    }
    t.legend = [("█", "holds"), ("░", "waits for"), ("·", "neither")]
    return t
  }
}
/// What the lock wrappers recorded at one moment, as the shell receives it.
struct LockStateRecord {
  var time: UInt64
  var tids: [Int32]
  var holds: [[Int]]
  var waits: [Int?]
  var done: [Bool]
  var refusals: [Int]

  init(state s: LockPair.State, time: UInt64) {
    self.time = time
    tids = s.tids
    holds = s.holds
    waits = s.waits
    done = s.done
    refusals = s.refusals
  }

  init?(json: JSON) {
    guard let t = json["t_ns"]?.intValue, let tids = json["tids"]?.arrayValue, tids.count == 2 else {
      return nil
    }
    time = UInt64(t)
    self.tids = tids.map { Int32($0.intValue ?? 0) }
    holds = (json["holds"]?.arrayValue ?? []).map { ($0.arrayValue ?? []).compactMap(\.intValue) }
    waits = (json["waits"]?.arrayValue ?? []).map { $0.intValue.flatMap { $0 >= 0 ? $0 : nil } }
    done = (json["done"]?.arrayValue ?? []).map { $0.boolValue ?? false }
    refusals = (json["refusals"]?.arrayValue ?? []).map { $0.intValue ?? 0 }
    guard holds.count == 2, waits.count == 2 else { return nil }
  }

  var json: JSON {
    [
      "t_ns": .int(Int(time)), "tids": .array(tids.map { .int(Int($0)) }),
      "holds": .array(holds.map { .array($0.map { .int($0) }) }),
      "waits": .array(waits.map { .int($0 ?? -1) }),
      "done": .array(done.map { .bool($0) }), "refusals": .array(refusals.map { .int($0) }),
    ]
  }

  var summary: String {
    (0..<2).map { i in
      "t\(i + 1) holds \(holds[i].map { DeadlockCommand.lockNames[$0] }.joined(separator: ",")) waits \(waits[i].map { DeadlockCommand.lockNames[$0] } ?? "-")"
    }.joined(separator: "; ")
  }
}
