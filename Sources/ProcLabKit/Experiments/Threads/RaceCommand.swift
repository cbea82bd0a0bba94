import CLab

/// `race`: N threads add 1 to one shared counter M times each — without
/// protection (a real load, add, store that other threads interleave with),
/// with a mutex, or with an atomic add — and count what was lost.
/// `race --schedule "…"`: the learner is the scheduler of two threads' steps.
enum RaceCommand {
  enum Variant: String, CaseIterable {
    case unsafe = "no protection", mutex = "mutex", atomic = "atomic"
    var mode: Int32 {
      switch self {
      case .unsafe: Int32(CLAB_RACE_UNSAFE)
      case .mutex: Int32(CLAB_RACE_MUTEX)
      case .atomic: Int32(CLAB_RACE_ATOMIC)
      }
    }
    var key: String {
      switch self {
      case .unsafe: "racy"
      case .mutex: "mutex"
      case .atomic: "atomic"
      }
    }
    var how: String {
      switch self {
      case .unsafe: "load, add 1, store (volatile, in C)"
      case .mutex: "pthread_mutex_lock; load, add, store; unlock"
      case .atomic: "atomic_fetch_add (one locked instruction)"
      }
    }
  }

  static let maxTotal = 200_000_000
  /// Increments per thread of the free run that follows a schedule.
  static let freeRunIterations = 5_000_000

  struct Options: CommandOptions {
    var threads = 2
    var iterations = 30_000_000
    var only: Variant?
    var schedule: ScheduleValue?

    static var declarations: [OptionDeclaration<Self>] {
      [
        .value("--threads", \.threads, "N", in: 1...64, "threads incrementing the counter"),
        .value("--iterations", \.iterations, "M", in: 1...100_000_000, "increments per thread"),
        .choice(
          "only", \.only,
          [
            ("--racy", .unsafe, "only the unprotected increment"),
            ("--lock", .mutex, "only the increment protected by a pthread mutex"),
            ("--atomic", .atomic, "only the C11 atomic_fetch_add increment"),
          ]),
        .value(
          "--schedule", \.schedule, "STEPS",
          "be the scheduler: two threads run their load/add/store steps in this order (\"t1:load t2:load t1:store t2:store\"), then one free run"
        ),
      ]
    }

    func validate(command: String) throws {
      if threads * iterations > maxTotal {
        throw UsageError(
          "race: --threads × --iterations must be at most \(maxTotal), got \(threads) × \(iterations) = \(threads * iterations)"
        )
      }
      if schedule != nil && (only != nil || threads != 2) {
        throw UsageError(
          "race: --schedule runs two threads without protection; leave out --threads and --racy/--lock/--atomic"
        )
      }
    }
  }

  static let command = Command(
    name: "race", area: .threads,
    summary: "threads add to one counter: lost updates without protection, none with a mutex or atomic",
    examples: [
      "race", "race --racy", "race --lock", "race --threads 4 --iterations 100000 --atomic",
      "race --schedule 't1:load t2:load t1:store t2:store'",
    ],
    options: Options.self
  ) { options, session in
    if let schedule = options.schedule {
      let scheduled = try RaceExperiment.runSchedule(schedule)
      let free = try RaceExperiment.runOnce(
        .unsafe, threads: 2, iterations: min(options.iterations, freeRunIterations))
      return RaceReport.renderSchedule(scheduled, free: free)
    }
    let variants = options.only.map { [$0] } ?? Variant.allCases
    let results = try RaceExperiment.run(
      threads: options.threads, iterations: options.iterations, variants: variants, session: session)
    return RaceReport.render(results, threads: options.threads, iterations: options.iterations)
  }
}
