/// `rwlock`: readers share, a writer is alone — and who goes first when both
/// wait (glibc prefers readers by default). `rwlock --starve`: a writer against
/// a steady relay of readers, for three kinds of lock.
enum RWLockCommand {
  enum Preference: String, OptionChoice {
    case readers, writers
  }

  struct Options: CommandOptions {
    var readers = 4
    var writers = 1
    var hold = 20
    var rounds = 2
    var prefer = Preference.readers
    var starve = false
    var limit = 300

    static var declarations: [OptionDeclaration<Self>] {
      [
        .value("--readers", \.readers, "R", in: 1...12, "reader threads"),
        .value("--writers", \.writers, "W", in: 1...4, "writer threads"),
        .value("--hold", \.hold, "MS", in: 1...200, "milliseconds each turn holds the lock"),
        .value("--rounds", \.rounds, "N", in: 1...16, "turns per thread"),
        .value(
          "--prefer", \.prefer, "WHO",
          "readers (PTHREAD_RWLOCK_PREFER_READER_NP, glibc's default) or writers (…PREFER_WRITER_NONRECURSIVE_NP)"
        ),
        .flag(
          "--starve", \.starve,
          "a writer against readers who take overlapping turns: glibc's default, the writer-preferring kind, and a lock built from semaphores"
        ),
        .value(
          "--for", \.limit, "MS", in: 50...5000, "with --starve: the readers stop after MS milliseconds"),
      ]
    }

    func validate(command: String) throws {
      if starve && (writers != 1 || rounds != 2 || prefer != .readers) {
        throw UsageError(
          "rwlock: --starve runs one writer against --readers R with --hold MS; leave out --writers, --rounds and --prefer"
        )
      }
      if starve && readers < 2 {
        throw UsageError(
          "rwlock: --starve needs at least 2 readers so that their turns overlap, got --readers \(readers)")
      }
    }
  }

  static let command = Command(
    name: "rwlock", area: .synchronization,
    summary:
      "a pthread rwlock: readers overlap, a writer is alone; glibc lets new readers pass a waiting writer",
    examples: ["rwlock", "rwlock --readers 6 --writers 2", "rwlock --prefer writers", "rwlock --starve"],
    options: Options.self
  ) { options, _ in
    if options.starve {
      var rows: [RWLockExperiment.Starvation] = []
      for kind in RWLockExperiment.Kind.allCases {
        try Interrupt.check()
        rows.append(
          try RWLockExperiment.starve(
            kind, readers: options.readers, hold: .milliseconds(options.hold),
            limit: .milliseconds(options.limit)))
      }
      return RWLockReport.renderStarvation(rows, hold: options.hold, limit: options.limit)
    }
    let result = try SyncPrimitives.takeTurns(
      kind: .rwlock, workers: options.readers + options.writers, rounds: options.rounds,
      hold: .milliseconds(options.hold), writers: options.writers, preferWriters: options.prefer == .writers,
      timeout: .seconds(30))
    let probes = [
      try RWLockExperiment.probe(preferWriters: false), try RWLockExperiment.probe(preferWriters: true),
    ]
    return RWLockReport.render(result, options: options, probes: probes)
  }
}
