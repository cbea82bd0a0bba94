/// `semaphore`: a counting semaphore lets at most K of N threads in at once.
enum SemaphoreCommand {
  enum Pattern: Equatable {
    case throttle, rendezvous, join
  }

  struct Options: CommandOptions {
    var permits = 2
    var threads: Int?
    var hold = 20
    var rounds = 2
    var pattern = Pattern.throttle

    static var declarations: [OptionDeclaration<Self>] {
      [
        .value(
          "--permits", \.permits, "K", in: 1...8, "how many may be inside at once (fewer than --threads)"),
        .value(
          "--threads", \.threads, "N", in: 2...16,
          "threads that want in (default 5; with --join, workers, default 4)"),
        .value("--hold", \.hold, "MS", in: 1...200, "milliseconds each stays inside"),
        .value(
          "--rounds", \.rounds, "R", in: 1...16, "times each thread enters (or meets, with --rendezvous)"),
        .choice(
          "pattern", \.pattern,
          [
            (
              "--rendezvous", .rendezvous,
              "two threads, two semaphores: neither goes on until both have arrived"
            ),
            ("--join", .join, "fork/join: the main thread waits on one semaphore once per worker"),
          ], unchosen: "throttle"),
      ]
    }

    /// The threads a run will start: 2 to meet, 4 workers to join, else 5.
    var effective: Options {
      var o = self
      o.threads = threadCount
      return o
    }

    var threadCount: Int { threads ?? (pattern == .rendezvous ? 2 : pattern == .join ? 4 : 5) }

    func validate(command: String) throws {
      switch pattern {
      case .throttle:
        let n = threadCount
        if permits >= n {
          throw UsageError(
            "semaphore: --permits \(permits) lets all \(n) threads in at once, so nothing is limited; use --permits below --threads"
          )
        }
      case .rendezvous:
        if let threads, threads != 2 {
          throw UsageError("semaphore: --rendezvous is for exactly 2 threads, got --threads \(threads)")
        }
      case .join:
        break
      }
    }
  }

  static let command = Command(
    name: "semaphore", aliases: ["sem"], area: .synchronization,
    summary:
      "a counting semaphore (sem_init) lets at most K of N threads into a section; --rendezvous, --join",
    examples: [
      "semaphore", "semaphore --permits 3 --threads 6", "semaphore --permits 1 --threads 3",
      "semaphore --rendezvous",
      "semaphore --join --threads 4",
    ],
    options: Options.self
  ) { options, _ in
    switch options.pattern {
    case .rendezvous:
      return MeetingReport.renderRendezvous(
        try MeetingExperiment.run(
          .rendezvous, threads: 2, rounds: options.rounds, work: .milliseconds(options.hold / 4 + 1)))
    case .join:
      return MeetingReport.renderJoin(
        try MeetingExperiment.run(
          .join, threads: options.threadCount, rounds: 1, work: .milliseconds(options.hold / 2 + 1)))
    case .throttle:
      return try throttle(
        permits: options.permits, threads: options.threadCount, holdMS: options.hold, rounds: options.rounds)
    }
  }

  static func throttle(permits k: Int, threads n: Int, holdMS: Int, rounds: Int) throws -> Report {
    let hold = Duration.milliseconds(holdMS)
    let result = try SyncPrimitives.takeTurns(
      kind: .semaphore, workers: n, rounds: rounds, hold: hold, permits: k, timeout: .seconds(30))
    let view = SyncTurnsView(result: result, noun: "thread")
    let r = Report()
    r.line(
      "\(n * rounds) entries by \(n) threads through a semaphore of \(Units.plural(k, "permit")) (sem_init, sem_wait, sem_post), each inside \(r.fixed(Units.duration(hold)))"
    )
    r.timeline(view.timeline(report: r))
    r.table(view.table(report: r))
    let observed = SyncTurnsView.maxConcurrent(view.heldIntervals)
    let elapsed = Duration.ns(result.end &- result.start)
    r.line(
      // Never more than the permits (what a semaphore is for), never fewer than one: on every run.
      "most inside at once: \(r.bounded(String(result.maxInside), .int, "1..\(k)")) (counted by an atomic counter inside the section), \(r.bounded(String(observed), .int, "1..\(k)")) (from the timeline); permits \(k)"
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
      " \(r.count(view.waiters.count)) threads waited for a permit (longest single wait \(r.duration(.ns(view.longestWait)))), \(r.count(view.sleepers.count)) of them asleep in the kernel; \(n * rounds) entries of \(r.duration(hold)) took \(r.duration(elapsed)), about \(n * rounds) ÷ \(k) = \(Units.plain(Double(n * rounds) / Double(k))) holds back to back."
    r.explain(
      short,
      more:
        "This is throttling: a semaphore of K permits caps how many threads use something at once. A semaphore is a counter with a waiting room: it limits how many may use something at once (a pool of connections, K slots of a buffer), where a mutex allows exactly one. A free permit costs one atomic decrement; with none left, sem_wait sleeps in a futex until a sem_post. It does not know who holds a permit, so any thread can post: useful for signalling, easy to get wrong as a lock."
    )
    return r
  }
}
