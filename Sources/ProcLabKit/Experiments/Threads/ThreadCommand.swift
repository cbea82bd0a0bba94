/// `thread [N] [--hold SECONDS]`, `thread --release`, `thread N --fork [--atfork]`:
/// N real pthreads, each reporting what is its own (TID, stack, registers) and
/// what is shared (process ID, heap); or a fork from a process with N threads.
enum ThreadCommand {
  static let keeperKey = "threads"

  struct Options: CommandOptions {
    var count: Int?
    var hold: Double?
    var release = false
    var fork = false
    var atfork = false

    static var declarations: [OptionDeclaration<Self>] {
      [
        .positional("count", \.count, "N", in: 1...64, "threads to create (default 2)"),
        .value(
          "--hold", \.hold, "SECONDS", in: 0.1...3600,
          "keep the threads blocked for up to SECONDS after the command returns"),
        .flag("--release", \.release, "wake and join the threads kept by --hold"),
        .flag(
          "--fork", \.fork,
          "fork from a process with N threads (in a lab child): the child has one thread; a held mutex stays held"
        ),
        .flag(
          "--atfork", \.atfork,
          "with --fork: register pthread_atfork handlers that take and release the mutex"),
      ]
    }

    /// `thread` starts 2 threads (`--release` starts none).
    var effective: Options {
      var o = self
      if !release { o.count = threadCount }
      return o
    }

    var threadCount: Int { count ?? 2 }

    func validate(command: String) throws {
      if release && (count != nil || hold != nil || fork || atfork) {
        throw UsageError("thread: --release takes no count, --hold or --fork; usage: thread --release")
      }
      if fork && hold != nil {
        throw UsageError("thread: --fork and --hold cannot be used together; choose one")
      }
      if atfork && !fork {
        throw UsageError("thread: --atfork only goes with --fork; usage: thread N --fork --atfork")
      }
    }
  }

  static let command = Command(
    name: "thread", area: .threads,
    summary: "create N threads: own TID, stack and registers; shared PID and heap; --fork from N threads",
    examples: [
      "thread", "thread 4", "thread 3 --hold 60", "thread --release", "thread 4 --fork",
      "thread 4 --fork --atfork",
    ],
    options: Options.self
  ) { options, session in
    if options.release { return ThreadReport.release(session) }
    let n = options.threadCount
    if options.fork {
      let result = try ThreadForkExperiment.run(threads: n, atfork: options.atfork)
      return ThreadForkReport.render(result)
    }
    if options.hold != nil, let held = session.keepers[keeperKey], held.heldThreads == 0 {
      // The earlier held threads ended at their time limit: join them now.
      held.release()
      session.keepers[keeperKey] = nil
    }
    if options.hold != nil, let held = session.keepers[keeperKey] {
      throw UsageError("thread: \(held.heldThreads) thread(s) are already held; run 'thread --release' first")
    }
    let result = try ThreadExperiment.run(count: n, hold: options.hold)
    let report = ThreadReport.render(result)
    if let keeper = result.kept {
      session.keepers[keeperKey] = keeper
    }
    return report
  }
}
