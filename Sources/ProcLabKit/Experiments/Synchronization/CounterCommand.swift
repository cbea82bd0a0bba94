/// `counter`: counting at scale — an exact counter behind one mutex, a sloppy
/// (approximate) one, or a counter per thread — and false sharing, the same
/// per-thread counters packed in one cache line or 128 bytes apart.
enum CounterCommand {
  enum Mode: Equatable {
    case overview, exact, sloppy, perThread
  }
  enum Layout: Equatable {
    case unchosen, packed, padded
  }

  struct Options: CommandOptions {
    var mode = Mode.overview
    var sloppy: Int?
    var layout = Layout.unchosen
    var threads: Int?
    var increments: Int?

    static var declarations: [OptionDeclaration<Self>] {
      [
        .choice(
          "mode", \.mode,
          [
            ("--exact", .exact, "one global counter, a pthread mutex around every increment"),
            ("--per-thread", .perThread, "one counter per thread, summed only at the end"),
          ], unchosen: "overview"),
        .value(
          "--sloppy", \.sloppy, "S", in: 1...1_000_000,
          "approximate: each thread counts locally and adds to the global counter every S increments"),
        .choice(
          "layout", \.layout,
          [
            ("--packed", .packed, "per-thread counters side by side, 8 bytes apart: one cache line"),
            ("--padded", .padded, "per-thread counters 128 bytes apart: each on its own cache lines"),
          ], unchosen: "padded"),
        .value(
          "--threads", \.threads, "N", in: 1...64,
          "threads counting (default: the CPUs this process may use, at least 2)"),
        .value(
          "--increments", \.increments, "M", in: 1000...50_000_000,
          "increments per thread (default 1000000; 10000000 with --packed or --padded, so the threads overlap)"
        ),
      ]
    }

    /// The threads (this process's CPUs, at least 2) and increments a run will use.
    var effective: Options {
      var o = self
      o.threads = threadCount
      o.increments = effectiveIncrements
      return o
    }

    func validate(command: String) throws {
      if sloppy != nil && mode != .overview {
        throw UsageError("counter: --sloppy, --exact and --per-thread cannot be used together; choose one")
      }
      if layout != .unchosen && (mode == .exact) {
        throw UsageError("counter: --packed and --padded place the per-thread counters; --exact has none")
      }
    }

    /// The CPUs this process may use, at least 2, unless told.
    var threadCount: Int { threads ?? max(2, Threads.allowedCPUs().count) }
    var effectiveIncrements: Int { increments ?? (layout == .unchosen ? 1_000_000 : 10_000_000) }

    var effectiveMode: Mode {
      if sloppy != nil { return .sloppy }
      if mode == .overview && layout != .unchosen { return .perThread }
      return mode
    }
  }

  static let command = Command(
    name: "counter", area: .synchronization,
    summary: "counting at scale: exact (a mutex), sloppy (approximate) or per-thread counters; false sharing",
    examples: [
      "counter", "counter --exact", "counter --sloppy 1024", "counter --per-thread", "counter --packed",
      "counter --padded --threads 2",
    ],
    options: Options.self
  ) { options, session in
    let threads = options.threadCount
    let result = try CounterExperiment.run(options, threads: threads, session: session)
    return CounterReport.render(result, threadsFixed: options.threads != nil)
  }
}
