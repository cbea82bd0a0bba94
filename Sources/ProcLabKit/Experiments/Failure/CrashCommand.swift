import Glibc

/// `crash [KIND] [--in-thread] [--threads N] [--siblings N] [--core] [--backtrace]`:
/// a lab child crashes for real, and the shell shows what died and what survived.
enum CrashCommand {
  static let command = Command(
    name: "crash", area: .failure,
    summary: "crash a child process (or one thread of it) for real: what dies, what survives",
    usage: "crash [KIND] [--in-thread] [--threads N] [--siblings N] [--core] [--backtrace] [--delay MS]",
    options: [
      .init("--in-thread", "one thread of a multi-threaded child crashes: watch every thread die with it"),
      .init("--threads", value: "N", "threads started in the child with --in-thread (1…32, default 4)"),
      .init("--siblings", value: "N", "other lab processes running when it crashes (1…16): all survive"),
      .init("--core", "ask for a core dump: raise RLIMIT_CORE in that child, in a private directory"),
      .init("--backtrace", "turn the Swift backtracer on in the child and show its crash report"),
      .init("--delay", value: "MS", "let the child live MS milliseconds before it crashes (0…60000)"),
    ],
    examples: [
      "crash", "crash fpe --siblings 3", "crash segv --in-thread --threads 4", "crash abort --core",
      "crash exit 3", "crash oom", "crash kill", "crash stack --backtrace",
    ],
    completion: .words(CrashKind.allCases.map(\.rawValue))
  ) { args, session in
    let options = try parse(args)
    let observation = try CrashExperiment(options: options).run()
    return CrashReport(observation).build()
  }

  static func parse(_ args: Arguments) throws -> CrashExperiment.Options {
    var o = CrashExperiment.Options()
    if let word = args.positional(0) {
      guard let kind = CrashKind(rawValue: word.lowercased()) else {
        throw UsageError(
          "crash: unknown kind '\(Printable.word(word))'; kinds: \(CrashKind.listForHelp)")
      }
      o.kind = kind
    }
    if o.kind == .exit {
      try args.expectPositionals(atMost: 2)
      o.exitCode = Int32(try args.positionalInt(1, named: "exit status N", default: 1, in: 0...255))
    } else {
      try args.expectPositionals(atMost: 1)
    }
    o.inThread = args.flag("--in-thread")
    if args.string("--threads") != nil && !o.inThread {
      throw UsageError(
        "crash: --threads needs --in-thread (crash \(o.kind.rawValue) --in-thread --threads N)")
    }
    o.threads = try args.int("--threads", default: 4, in: 1...32)
    o.siblings = try args.int("--siblings", default: 0, in: 1...16)
    o.core = args.flag("--core")
    o.backtrace = args.flag("--backtrace")
    o.delay = .milliseconds(try args.int("--delay", default: 0, in: 0...60_000))
    if o.inThread && !o.kind.canRunInThread {
      throw UsageError(
        "crash: \(o.kind.rawValue) cannot run --in-thread (malloc returning NULL is not a crash); with --in-thread use: "
          + CrashKind.allCases.filter(\.canRunInThread).map { $0 == .exit ? "exit N" : $0.rawValue }.joined(
            separator: ", "))
    }
    return o
  }
}
