/// `spawn`: create child processes for real (posix_spawn of a lab copy, fork, or
/// an external program), then report each one's birth, end and resource usage.
///
/// Command (options, validation) here; the OS work in SpawnExperiment.swift;
/// lines, facts and explanation in SpawnReport.swift.
enum SpawnCommand {
  struct Options: CommandOptions {
    var count = 1
    var hold: Double?
    var method = Method.posixSpawn
    var noReap = false
    var program: [String]?

    static var declarations: [OptionDeclaration<Self>] {
      [
        .positional("count", \.count, "N", in: 1...64, "how many children to create"),
        .value(
          "--hold", \.hold, "SECONDS", in: 0...3600,
          "children sleep this long; the shell returns and keeps them (ps, kill, wait)"),
        .choice(
          "method", \.method,
          [("--fork", .fork, "fork() copies of the shell instead of posix_spawn of a fresh proclab")],
          unchosen: "posix_spawn"),
        .flag("--no-reap", \.noReap, "let children end but do not reap them: they stay zombies until wait"),
        .rest("--exec", \.program, "PROGRAM ARGS...", "run an external program (its arguments follow it)"),
      ]
    }

    func validate(command: String) throws {
      if method == .fork && program != nil {
        throw UsageError("spawn: --fork and --exec cannot be used together; choose one")
      }
      if program != nil && hold != nil {
        throw UsageError(
          "spawn: --hold applies to lab and --fork children; to keep a program running give it the time itself (spawn --exec sleep 5)"
        )
      }
      if let program, program.first?.isEmpty ?? true {
        throw UsageError("spawn: --exec needs a program, e.g. spawn --exec /bin/echo hello")
      }
    }
  }

  enum Method: String {
    case posixSpawn = "posix_spawn"
    case fork = "fork"
    case exec = "exec"
  }

  static let command = Command(
    name: "spawn", area: .processes,
    summary: "create N child processes and report how each was made, how it ended and what it used",
    examples: [
      "spawn 3", "spawn 2 --hold 30", "spawn 2 --fork", "spawn --no-reap", "spawn --exec /bin/echo hello",
    ],
    options: Options.self
  ) { options, session in
    let plan = try plan(options, session)
    let observation = try SpawnExperiment(plan: plan).run(session)
    return SpawnReport(observation).build()
  }

  /// The options checked against the session (held-children cap, --exec policy) and the program found on PATH.
  static func plan(_ options: Options, _ session: Session) throws -> SpawnExperiment.Plan {
    if options.hold != nil || options.noReap {
      try SessionLimits.checkHeldChildren(adding: options.count, command: "spawn", session: session)
    }
    var plan = SpawnExperiment.Plan(
      method: options.program != nil ? .exec : options.method, count: options.count, hold: options.hold,
      noReap: options.noReap)
    if let program = options.program, let name = program.first {
      guard session.allowExec else {
        throw UsageError("spawn: --exec runs an external program; from a file that needs --allow-exec")
      }
      guard let path = Spawn.resolve(program: name) else {
        throw UsageError(
          "spawn: no program '\(Printable.word(name))' found (not executable or not on PATH); try /bin/true")
      }
      plan.program = program
      plan.resolved = path
    }
    return plan
  }
}
