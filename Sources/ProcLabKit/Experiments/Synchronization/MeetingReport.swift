/// What `barrier` and `semaphore --rendezvous | --join` print: who arrived
/// when, who waited, and that nobody went on before the last one arrived.
enum MeetingReport {
  typealias Result = MeetingExperiment.Result

  /// `workersWait`: false for fork/join, where a worker posts and is done (sem_post never
  /// blocks): no waiting cell is drawn after its work.
  static func timeline(_ res: Result, r: Report, workersWait: Bool = true, label: (Int) -> String) -> Timeline
  {
    var t = Timeline(width: 48)
    for (i, visits) in res.visits.enumerated() {
      var intervals: [Timeline.Interval] = []
      var from = res.start
      for v in visits {
        intervals.append(.init(start: from, end: max(v.arrived, from + 1), mark: "▒"))
        if workersWait {
          intervals.append(.init(start: v.arrived, end: max(v.left, v.arrived + 1), mark: "░"))
        }
        from = v.left
      }
      t.add("\(label(i)) \(r.tid(res.tids[i]))", intervals)
    }
    if let joined = res.joined {
      t.add("main", [.init(start: res.start, end: max(joined, res.start + 1), mark: "░")])
    }
    t.legend = [("▒", "working"), ("░", "waiting"), ("·", "done")]
    return t
  }

  static func visitFacts(_ res: Result, into r: Report) {
    r.fact("threads", res.threads)
    r.fact("rounds", res.rounds)
    r.fact("tids", res.tids.map { Int($0) })
    r.fact("left_before_last_arrival", res.leftEarly)
    r.fact("longest_wait_ns", Int(res.longestWait))
    r.fact(
      "visits",
      JSON.array(
        res.visits.map { row in
          .array(
            row.map {
              ["arrived_ns": .int(Int($0.arrived &- res.start)), "left_ns": .int(Int($0.left &- res.start))]
                as JSON
            })
        }))
  }

  static func renderBarrier(_ res: Result) -> Report {
    let r = Report()
    let how =
      res.kind == .pthreadBarrier
      ? "pthread_barrier_wait"
      : "a barrier built from a counter, a mutex and two turnstile semaphores"
    r.line("\(res.threads) threads meet \(Units.plural(res.rounds, "time")) at \(how)")
    r.timeline(timeline(res, r: r) { "t\($0 + 1)" })
    var t = Table(
      ["round", "first arrived", "last arrived", "first left", "went on early"], rightAligned: [1, 2, 3, 4])
    for round in 0..<res.rounds {
      let arrivals = res.visits.map { $0[round].arrived }
      let departures = res.visits.map { $0[round].left }
      let last = arrivals.max() ?? 0
      t.add([
        "\(round + 1)", r.duration(.ns((arrivals.min() ?? 0) &- res.start)),
        r.duration(.ns(last &- res.start)),
        // A departure is timed after the wait returns, the last arrival before it began: with a
        // working barrier none is earlier, on any run.
        r.duration(.ns((departures.min() ?? 0) &- res.start)), String(departures.filter { $0 < last }.count),
      ])
    }
    r.table(t)
    visitFacts(res, into: r)
    r.fact("pthread", res.kind == .pthreadBarrier)
    let short =
      res.leftEarly == 0
      ? "In every round no thread went on before the last one arrived: each waited (░) from its own arrival until the slowest thread's, then all went on together. The longest wait was \(Units.duration(.ns(res.longestWait)))."
      : "Surprise: \(res.leftEarly) times a thread went on before the last one arrived."
    r.explain(
      short
        + (res.kind == .barrier
          ? " Built from semaphores: each arrival counts itself under a mutex; the last one posts the first turnstile once per thread, and everyone passes it. A second turnstile, opened by the last to leave, keeps a fast thread from lapping the others into the next round: one turnstile alone is not reusable."
          : " pthread_barrier_wait does the same inside glibc (a futex): the last of the N callers wakes the others."),
      more:
        "A barrier is for phases: every thread finishes step k before any starts step k+1 (simulations, parallel loops). Its cost is the wait of the fast threads for the slowest one, which is why parallel programs try to give every thread the same amount of work."
    )
    return r
  }

  static func renderRendezvous(_ res: Result) -> Report {
    let r = Report()
    r.line(
      "two threads, two semaphores at 0: each posts its own ('I have arrived') and waits on the other's, \(res.rounds) time\(res.rounds == 1 ? "" : "s")"
    )
    r.timeline(timeline(res, r: r) { "t\($0 + 1)" })
    visitFacts(res, into: r)
    r.explain(
      res.leftEarly == 0
        ? "Neither thread went on before the other had arrived: the early one waited (░) in sem_wait until the late one's sem_post. Posting before waiting matters: if both waited first, both would wait for ever (a deadlock)."
        : "Surprise: a thread went on before the other arrived \(res.leftEarly) times.",
      more:
        "A rendezvous is a barrier for two. A semaphore remembers a post even when nobody is waiting yet (its count goes up), unlike a condition variable's signal, so the order of the two threads' arrivals does not matter."
    )
    return r
  }

  static func renderJoin(_ res: Result) -> Report {
    let r = Report()
    r.line(
      "the main thread starts \(res.threads) workers and calls sem_wait \(res.threads) times on one semaphore at 0; each worker posts it when done"
    )
    r.timeline(timeline(res, r: r, workersWait: false) { "w\($0 + 1)" })
    let lastPost = res.visits.map { $0[0].arrived }.max() ?? 0
    let joined = res.joined ?? 0
    r.line(
      "the last worker posted at \(r.duration(.ns(lastPost &- res.start))); the main thread got past its waits at \(r.duration(.ns(joined &- res.start)))"
    )
    visitFacts(res, into: r)
    r.fact("joined_ns", Int(joined &- res.start))
    r.fact("last_post_ns", Int(lastPost &- res.start))
    r.fact("joined_after_last_post", joined >= lastPost)
    r.explain(
      joined >= lastPost
        ? "The main thread went on only after every worker had posted: each sem_wait took one post, and the \(res.threads)th could not return before the last worker's. That is fork/join with a semaphore: the count of posts is the count of finished workers, in any order."
        : "Surprise: the main thread went on before the last worker posted.",
      more:
        "pthread_join waits for one particular thread to end; a semaphore waits for 'N things done', whoever does them, and the workers may go on running afterwards (a thread pool)."
    )
    return r
  }
}
