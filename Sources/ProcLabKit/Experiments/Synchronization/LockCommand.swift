/// `lock`: threads (or processes) take turns in one pthread mutex; or
/// `lock --impl …`: locks built from scratch raced side by side on the real CPU.
enum LockCommand {
  enum ImplChoice: String, OptionChoice {
    case tas, ttas, ticket, peterson, mutex, yield, all
  }

  struct Options: CommandOptions {
    var threads: Int?
    var hold = 20
    var rounds = 2
    var tryLock = false
    var processes = false
    var impl: ImplChoice?
    var noFence = false
    var turns = 200_000
    var limit = 1000

    static var declarations: [OptionDeclaration<Self>] {
      [
        .value(
          "--threads", \.threads, "N", in: 1...64,
          "workers: 2…16 taking turns (default 3); with --impl, threads racing (default 2; Peterson: 2)"),
        .value("--hold", \.hold, "MS", in: 1...200, "milliseconds each turn holds the mutex"),
        .value("--rounds", \.rounds, "R", in: 1...16, "turns per worker"),
        .flag("--try", \.tryLock, "pthread_mutex_trylock with back-off instead of sleeping in the lock"),
        .flag(
          "--processes", \.processes,
          "separate processes sharing a PTHREAD_PROCESS_SHARED mutex in a MAP_SHARED mapping"),
        .value(
          "--impl", \.impl, "KIND",
          "a lock built from scratch: tas, ttas, ticket, peterson, mutex (futex), yield (tas + sched_yield), or all side by side"
        ),
        .flag(
          "--no-fence", \.noFence,
          "with --impl peterson: leave out the full fence between its stores and loads"),
        .value("--turns", \.turns, "T", in: 100...10_000_000, "with --impl: turns to hand out in all"),
        .value(
          "--ms", \.limit, "MS", in: 10...10_000,
          "with --impl: stop after MS milliseconds even if turns are left"),
      ]
    }

    /// The threads a run will start: 2 racing with --impl, else 3 taking turns.
    var effective: Options {
      var o = self
      o.threads = threadCount
      return o
    }

    var threadCount: Int { threads ?? (impl != nil ? 2 : 3) }

    func validate(command: String) throws {
      if let impl {
        if tryLock || processes {
          throw UsageError("lock: --impl races locks between threads; leave out --try and --processes")
        }
        if impl == .peterson, let threads, threads != 2 {
          throw UsageError("lock: Peterson's algorithm is for exactly 2 threads, got --threads \(threads)")
        }
        if noFence && impl != .peterson && impl != .all {
          throw UsageError("lock: --no-fence only changes --impl peterson")
        }
      } else {
        if noFence { throw UsageError("lock: --no-fence goes with --impl peterson") }
        if let threads, !(2...16).contains(threads) {
          throw UsageError("lock: --threads must be 2…16, got \(threads) (with --impl: 1…64)")
        }
        if tryLock && processes {
          throw UsageError("lock: --try and --processes cannot be used together; choose one")
        }
      }
    }
  }

  static let command = Command(
    name: "lock", area: .synchronization,
    summary:
      "threads take turns in one pthread mutex; --impl races locks built from scratch (tas, ticket, peterson…)",
    examples: [
      "lock", "lock --threads 4 --hold 10", "lock --try", "lock --processes --threads 3", "lock --impl tas",
      "lock --impl peterson --no-fence", "lock --impl all", "lock --impl tas --threads 8",
    ],
    options: Options.self
  ) { options, _ in
    if let impl = options.impl {
      let kinds: [LockBench.Implementation] =
        impl == .all
        ? [.tas, .ttas, .ticket, .peterson, .mutex, .yield]
        : [LockBench.Implementation(rawValue: impl.rawValue)!]
      let threads = options.threadCount
      var results: [LockBench.Result] = []
      for kind in kinds {
        try Interrupt.check()
        // Peterson's algorithm is for two threads: in a comparison with more, it sits out.
        if kind == .peterson && threads != 2 && impl == .all { continue }
        results.append(
          try LockBench.run(
            kind, threads: threads, fence: !(options.noFence && kind == .peterson), budget: options.turns,
            limit: .milliseconds(options.limit)))
      }
      return LockImplReport.render(results, threads: threads, budget: options.turns, limitMS: options.limit)
    }
    return try LockTurnsReport.run(
      threads: options.threadCount, holdMS: options.hold, rounds: options.rounds, tryLock: options.tryLock,
      processes: options.processes)
  }
}
