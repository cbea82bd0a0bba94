/// `semaphore`: a counting semaphore lets at most K of N threads in at once.
enum SemaphoreCommand {
  static let command = Command(
    name: "semaphore", aliases: ["sem"], area: .synchronization,
    summary: "a counting semaphore (sem_init) lets at most K of N threads into a section",
    usage: "semaphore [--permits K] [--threads N] [--hold MS] [--rounds R]",
    options: [
      .init("--permits", value: "K", "how many may be inside at once (1…8, default 2; fewer than --threads)"),
      .init("--threads", value: "N", "threads that want in (2…16, default 5)"),
      .init("--hold", value: "MS", "milliseconds each stays inside (1…200, default 20)"),
      .init("--rounds", value: "R", "times each thread enters (1…16, default 2)"),
    ],
    examples: ["semaphore", "semaphore --permits 3 --threads 6", "semaphore --permits 1 --threads 3"]
  ) { args, _ in
    try args.expectPositionals(atMost: 0)
    let k = try args.int("--permits", default: 2, in: 1...8)
    let n = try args.int("--threads", default: 5, in: 2...16)
    let holdMS = try args.int("--hold", default: 20, in: 1...200)
    let rounds = try args.int("--rounds", default: 2, in: 1...16)
    if k >= n {
      throw UsageError(
        "semaphore: --permits \(k) lets all \(n) threads in at once, so nothing is limited; use --permits below --threads"
      )
    }
    let hold = Duration.milliseconds(holdMS)
    let result = try SyncPrimitives.takeTurns(
      kind: .semaphore, workers: n, rounds: rounds, hold: hold, permits: k, timeout: .seconds(30))
    let view = SyncTurnsView(result: result, noun: "thread")
    let r = Report()
    r.line(
      "\(r.count(n * rounds)) entries by \(r.count(n)) threads through a semaphore of \(r.count(k)) permits (sem_init, sem_wait, sem_post), each inside \(r.duration(hold))"
    )
    r.lines(view.timeline(report: r))
    r.lines(view.table(report: r))
    let observed = SyncTurnsView.maxConcurrent(view.heldIntervals)
    let elapsed = Duration.ns(result.end &- result.start)
    r.line(
      "most inside at once: \(r.count(result.maxInside)) (counted by an atomic counter inside the section), \(r.count(observed)) (from the timeline); permits \(r.count(k))"
    )
    r.line("elapsed \(r.duration(elapsed)); waiting in total \(r.duration(.ns(view.totalWait)))")
    r.fact("permits", k)
    r.fact("threads", n)
    r.fact("hold_ms", holdMS)
    r.fact("rounds", rounds)
    r.fact("elapsed_ns", result.end &- result.start)
    view.facts(into: r)
    var short: String
    if result.maxInside > k {
      short =
        "Surprise: \(r.count(result.maxInside)) threads were inside at once, more than the \(k) permits."
    } else if result.maxInside == k {
      short =
        "At most \(r.count(result.maxInside)) of \(n) threads were inside at once — exactly the \(k) permits, never more: sem_wait takes a permit, blocks at zero, and sem_post gives it back."
    } else {
      short =
        "At most \(r.count(result.maxInside)) were inside at once, below the \(k) permits: the threads did not collide enough this time (try a longer --hold)."
    }
    short +=
      " \(r.count(view.waiters.count)) threads waited for a permit (longest \(r.duration(.ns(view.longestWait)))), \(r.count(view.sleepers.count)) of them asleep in the kernel; \(n * rounds) entries of \(r.duration(hold)) took \(r.duration(elapsed)), about \(n * rounds) ÷ \(k) = \(Units.plain(Double(n * rounds) / Double(k))) holds back to back."
    r.explain(
      short,
      more:
        "A semaphore is a counter with a waiting room: it limits how many may use something at once (a pool of connections, K slots of a buffer), where a mutex allows exactly one. A free permit costs one atomic decrement; with none left, sem_wait sleeps in a futex until a sem_post. It does not know who holds a permit, so any thread can post: useful for signalling, easy to get wrong as a lock."
    )
    return r
  }
}
