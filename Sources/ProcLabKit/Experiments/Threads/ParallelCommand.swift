/// `parallel`: a fixed amount of CPU-bound work split over 1…N workers, as
/// threads or as processes, with or without a global lock (as with a GIL).
enum ParallelCommand {
  struct Options: CommandOptions {
    var threads: Int?
    var processes: Int?
    var work = 400
    var gil = false

    static var declarations: [OptionDeclaration<Self>] {
      [
        .value(
          "--threads", \.threads, "N", in: 1...64,
          "split the work over up to N threads (default: the CPUs this process may use, at least 2)"),
        .value("--processes", \.processes, "N", in: 1...64, "split the work over up to N forked processes"),
        .value(
          "--work", \.work, "MS", in: 10...10_000, "total work, as milliseconds of one core's computing"),
        .flag(
          "--gil", \.gil,
          "a worker computes only while it holds one global lock, handed over every 5 ms (one lock per process)"
        ),
      ]
    }

    func validate(command: String) throws {
      if threads != nil && processes != nil {
        throw UsageError("parallel: --threads and --processes cannot be used together; choose one")
      }
    }

    /// Without --threads or --processes, the threads it will start (for comparing by meaning).
    var effective: Options {
      var o = self
      if threads == nil && processes == nil { o.threads = workers }
      return o
    }

    var usesProcesses: Bool { processes != nil }
    var workers: Int { processes ?? threads ?? max(2, Threads.allowedCPUs().count) }
  }

  static let command = Command(
    name: "parallel", area: .threads,
    summary: "CPU-bound work over 1…N threads or processes: wall time, CPU time, speedup; --gil",
    examples: [
      "parallel", "parallel --gil", "parallel --processes 2 --gil", "parallel --threads 4 --work 800",
    ],
    options: Options.self
  ) { options, session in
    let runs = try ParallelExperiment.run(
      workers: options.workers, processes: options.usesProcesses, workMS: options.work, gil: options.gil,
      session: session)
    return ParallelReport.render(runs)
  }
}
