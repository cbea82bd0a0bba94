/// `crash [KIND] [N] [--in-thread] [--threads N] [--siblings N] [--core] [--backtrace] [--delay MS]`:
/// a lab child crashes for real, and the shell shows what died and what survived.
enum CrashCommand {
  struct Options: CommandOptions {
    var kind = CrashKind.segv
    var exitCode: Int?
    var inThread = false
    var handled = false
    var cloneVM = false
    var threads: Int?
    var siblings = 0
    var core = false
    var backtrace = false
    var delay = 0

    static var declarations: [OptionDeclaration<Self>] {
      [
        .positional("kind", \.kind, "KIND", "how the child ends: \(CrashKind.listForHelp)"),
        .positional(
          "exit_status", \.exitCode, "N", in: 0...255, "the exit status for `crash exit N` (default 1)"),
        .flag(
          "--in-thread", \.inThread,
          "one thread of a multi-threaded child crashes: watch every thread die with it"),
        .flag(
          "--handled", \.handled,
          "with --in-thread: the thread catches the signal in a handler and jumps back; the process lives on"),
        .flag(
          "--clone-vm", \.cloneVM,
          "a task made with clone(CLONE_VM) shares the child's memory but not its thread group: it dies alone"
        ),
        .value(
          "--threads", \.threads, "N", in: 1...32, "threads started in the child with --in-thread (default 4)"
        ),
        .value(
          "--siblings", \.siblings, "N", in: 0...16,
          "other lab processes running when it crashes: all survive"),
        .flag(
          "--core", \.core, "ask for a core dump: raise RLIMIT_CORE in that child, in a private directory"),
        .flag(
          "--backtrace", \.backtrace, "turn the Swift backtracer on in the child and show its crash report"),
        .value(
          "--delay", \.delay, "MS", in: 0...60_000, "let the child live MS milliseconds before it crashes"),
      ]
    }

    /// `crash exit` is `crash exit 1`; `--in-thread` starts 4 threads unless told.
    var effective: Options {
      var o = self
      if kind == .exit { o.exitCode = exitStatus }
      if inThread { o.threads = threadCount }
      return o
    }

    var exitStatus: Int { exitCode ?? 1 }
    var threadCount: Int { threads ?? 4 }

    func validate(command: String) throws {
      if exitCode != nil && kind != .exit {
        throw UsageError("crash: only `crash exit N` takes a number; kinds: \(CrashKind.listForHelp)")
      }
      if threads != nil && !inThread {
        throw UsageError(
          "crash: --threads needs --in-thread (crash \(kind.rawValue) --in-thread --threads N)")
      }
      if handled && !inThread {
        throw UsageError("crash: --handled needs --in-thread (crash \(kind.rawValue) --in-thread --handled)")
      }
      if cloneVM && inThread {
        throw UsageError("crash: --clone-vm and --in-thread cannot be used together; choose one")
      }
      if handled && !CrashKind.survivable.contains(kind) {
        throw UsageError(
          "crash: --handled works for faults a handler can return from: \(CrashKind.survivable.map(\.rawValue).joined(separator: ", "))"
        )
      }
      if cloneVM && !CrashKind.cloneable.contains(kind) {
        throw UsageError(
          "crash: --clone-vm works for \(CrashKind.cloneable.map(\.rawValue).joined(separator: ", ")) (the task may not touch the C library's state)"
        )
      }
      if inThread && !kind.canRunInThread {
        throw UsageError(
          "crash: \(kind.rawValue) cannot run --in-thread (malloc returning NULL is not a crash); with --in-thread use: "
            + CrashKind.allCases.filter(\.canRunInThread).map { $0 == .exit ? "exit N" : $0.rawValue }.joined(
              separator: ", "))
      }
    }

    /// What the experiment needs, with the defaults filled in.
    var experiment: CrashExperiment.Options {
      CrashExperiment.Options(
        kind: kind, exitCode: Int32(exitStatus),
        mode: cloneVM ? .cloneVM : handled ? .handled : inThread ? .thread : .process, threads: threadCount,
        siblings: siblings,
        core: core, backtrace: backtrace, delay: .milliseconds(delay))
    }
  }

  static let command = Command(
    name: "crash", area: .failure,
    summary: "crash a child process (or one thread of it) for real: what dies, what survives",
    examples: [
      "crash", "crash fpe --siblings 3", "crash segv --in-thread --threads 4",
      "crash segv --in-thread --handled",
      "crash segv --clone-vm", "crash abort --core",
      "crash exit 3", "crash oom", "crash kill", "crash stack --backtrace",
    ],
    options: Options.self
  ) { options, session in
    let observation = try CrashExperiment(options: options.experiment).run()
    return CrashReport(observation).build()
  }
}

extension CrashKind: OptionChoice {
  static func refusal(of word: String, for what: String) -> String {
    "unknown kind '\(Printable.word(word))'; kinds: \(listForHelp)"
  }
}
