import Glibc

/// `observe PROGRAM [ARGS…]`: run a program of your own under ptrace and explain
/// what it really did: its processes and threads over time, who reaped whom,
/// the calls it made, what went through its pipes, what it left open, how it ended.
enum ObserveCommand {
  struct Options: CommandOptions {
    var timeout = 10.0
    var signal: SignalValue?
    var after = 0.5
    var all = false
    var limit = 1_000_000
    var program: [String] = []

    static var declarations: [OptionDeclaration<Self>] {
      [
        .value(
          "--timeout", \.timeout, "SECONDS", in: 0.1...300,
          "stop the program (and all it started) after this long"),
        .value(
          "--signal", \.signal, "SIGNAL", "send the program this signal once it has run --after seconds"),
        .value("--after", \.after, "SECONDS", in: 0...300, "when --signal is sent"),
        .value(
          "--limit", \.limit, "CALLS", in: 1000...100_000_000,
          "stop the program (and all it started) after this many system calls"),
        .flag("--all", \.all, "list every decoded call, not only the first ones of each process"),
        .rest(
          "program", \.program, "PROGRAM [ARGS...]", required: true, "the program to run, and its arguments"),
      ]
    }
  }

  static let command = Command(
    name: "observe", area: .programs,
    summary: "run your own program under ptrace and explain what it really did",
    examples: ["observe /bin/echo hello", "observe ./a.out", "observe --signal INT --after 1 ./server"],
    options: Options.self
  ) { options, session in try run(options, session) }

  static func run(_ options: Options, _ session: Session) throws -> Report {
    var request = try request(options, session: session, command: "observe")
    request.timeout = .milliseconds(Int64(options.timeout * 1000))
    request.signal = options.signal?.number
    request.signalAfter = .milliseconds(Int64(options.after * 1000))
    request.limit = options.limit
    let run = try observe(request, command: "observe")
    return ObserveReport(run, showAll: options.all).build()
  }

  /// Checks that a program may run and can be found; the request to trace it.
  static func request(_ options: Options, session: Session, command: String) throws -> ProgramObserver.Request
  {
    guard let name = options.program.first, !name.isEmpty else {
      throw UsageError("\(command): which program? e.g. observe /bin/echo hello, or observe ./a.out")
    }
    guard session.allowExec else {
      throw UsageError("\(command): runs an external program; from a file that needs --allow-exec")
    }
    guard let path = Spawn.resolve(program: name) else {
      throw UsageError(
        "\(command): no program '\(Printable.word(name))' found (not executable or not on PATH); try observe /bin/true"
      )
    }
    return ProgramObserver.Request(path: path, arguments: options.program)
  }

  /// Runs the tracer in a lab child and reads back what it saw. On Ctrl-C the tracer is
  /// asked (SIGINT) to kill the traced tree and reap it; if it cannot, the shell kills its
  /// process group and PTRACE_O_EXITKILL kills every process it traced.
  static func observe(_ request: ProgramObserver.Request, command: String) throws -> ObservedRun {
    let lab = try LabProcess.start("observe", request.json)
    let limit = request.timeout + .seconds(20)
    do {
      // The tracer sends one message, its result, when the traced tree is gone.
      let deadline = MonotonicClock.nanoseconds() + UInt64(limit.nanoseconds)
      while MonotonicClock.nanoseconds() < deadline {
        let asked = MonotonicClock.nanoseconds()
        if try lab.nextMessage(timeout: .milliseconds(200)) != nil { break }
        // nil at once: the tracer ended without a word.
        if MonotonicClock.since(asked) < .milliseconds(100) { break }
      }
    } catch is Interrupted {
      try? lab.signal(SIGINT)
      Interrupt.clear()
      _ = try? lab.nextMessage(timeout: .seconds(3))
      _ = try? lab.finish(timeout: limit + .seconds(5))
      throw Interrupted()
    }
    let done = try lab.finish(timeout: limit + .seconds(5))
    if let json = done.result, let run = ObservedRun(json: json) { return run }
    if let error = done.messages.last?["error"]?.stringValue {
      throw UsageError("\(command): \(error)")
    }
    let why = done.timedOut ? "did not finish" : "ended (\(done.status))"
    throw UsageError(
      "\(command): the tracer \(why) without a result\(done.lastOutput.last.map { ": \($0)" } ?? "")")
  }
}
