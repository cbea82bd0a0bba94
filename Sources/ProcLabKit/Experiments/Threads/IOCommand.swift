/// `io`: K tasks that each wait for a reply — an eventfd that a server thread
/// writes WAIT ms after the task asked — one after another, with one thread
/// each, or from one thread that watches every descriptor with poll().
enum IOCommand {
  enum Mode: String, CaseIterable, Equatable {
    case serial, threads, poll
    var how: String {
      switch self {
      case .serial: "one thread, one task after another"
      case .threads: "one thread per task, each blocked in read()"
      case .poll: "one thread, every descriptor watched by poll()"
      }
    }
  }

  /// Serial waiting is capped: K × WAIT above this is not worth waiting for.
  static let serialLimitMS = 60_000

  struct Options: CommandOptions {
    var tasks = 4
    var wait = 100
    var only: Mode?
    var sweep = false

    static var declarations: [OptionDeclaration<Self>] {
      [
        .value("--tasks", \.tasks, "K", in: 1...10_000, "tasks, each waiting for one reply"),
        .value("--wait", \.wait, "MS", in: 1...5000, "how long each reply takes to arrive, in ms"),
        .choice(
          "only", \.only,
          [
            ("--serial", .serial, "only: one task after another"),
            ("--threads", .threads, "only: one thread per task"),
            ("--poll", .poll, "only: one thread multiplexing every descriptor with poll()"),
          ]),
        .flag(
          "--sweep", \.sweep,
          "threads against poll for 10, 100, 1000… tasks up to K: time and memory as the waits grow"),
      ]
    }

    func validate(command: String) throws {
      if only == .serial && tasks * wait > serialLimitMS {
        throw UsageError(
          "io: serial waiting would take \(tasks) × \(wait) ms = \(tasks * wait) ms; keep --tasks × --wait at most \(serialLimitMS)"
        )
      }
      if sweep && only != nil {
        throw UsageError("io: --sweep compares threads and poll; leave out --serial/--threads/--poll")
      }
    }
  }

  static let command = Command(
    name: "io", area: .threads,
    summary: "I/O-bound tasks: serial, one thread each, or one thread with poll; waiting costs no CPU",
    examples: [
      "io", "io --tasks 8 --wait 50", "io --poll --tasks 32", "io --sweep --tasks 10000 --wait 1000",
    ],
    options: Options.self
  ) { options, session in
    if options.sweep {
      let rows = try IOExperiment.sweep(upTo: options.tasks, waitMS: options.wait, session: session)
      return IOReport.renderSweep(rows, waitMS: options.wait)
    }
    var modes = options.only.map { [$0] } ?? Mode.allCases
    var skipped: Mode?
    if options.only == nil && options.tasks * options.wait > serialLimitMS {
      modes.removeAll { $0 == .serial }
      skipped = .serial
    }
    let results = try IOExperiment.run(
      tasks: options.tasks, waitMS: options.wait, modes: modes, session: session)
    return IOReport.render(results, tasks: options.tasks, waitMS: options.wait, skipped: skipped)
  }
}
