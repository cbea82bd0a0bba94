import Glibc

/// `signal`: a signal sent to a child that handles, ignores, blocks it or leaves the default.
enum SignalCommand {
  enum Experiment: Equatable, Sendable { case disposition, merge, threads, noReader, autoReap }

  struct Options: CommandOptions {
    var signal: SignalValue?
    var disposition = SignalResult.Disposition.defaultAction
    var experiment = Experiment.disposition
    var count: Int?

    static var declarations: [OptionDeclaration<Self>] {
      [
        .positional(
          "signal", \.signal, "SIGNAL", "the signal to send (default USR1)",
          completion: .words(["USR1", "USR2", "TERM", "INT", "HUP", "KILL", "STOP", "SEGV", "ALRM", "QUIT"])),
        .choice(
          "disposition", \.disposition,
          [
            ("--handler", .handler, "the child installs a handler (sigaction) that reports the signal"),
            ("--ignore", .ignore, "the child ignores the signal (SIG_IGN)"),
            (
              "--block", .block, "the child blocks the signal (sigprocmask): it stays pending until unblocked"
            ),
          ], unchosen: "default"),
        .choice(
          "experiment", \.experiment,
          [
            (
              "--merge", .merge,
              "blocked, a standard signal sent N times arrives once; a real-time one N times, in order"
            ),
            (
              "--threads", .threads,
              "which thread of a process takes a signal sent to the process; a sigwait thread"
            ),
            (
              "--no-reader", .noReader,
              "writing to a pipe nobody reads: SIGPIPE, and EPIPE for a writer that survives it"
            ),
            (
              "--auto-reap", .autoReap, "SIGCHLD set to SIG_IGN: the kernel reaps children itself, no zombies"
            ),
          ], unchosen: "disposition"),
        .value(
          "--count", \.count, "N", in: 1...32,
          "signals to send with --merge (default 5) or --threads (default 3)"),
      ]
    }

    /// The signal and count the experiment will use, so `signal USR1 --threads` and
    /// `signal --threads` mean the same to a lesson.
    var effective: Options {
      var o = self
      if [.disposition, .merge, .threads].contains(experiment) { o.signal = SignalValue(signalNumber) }
      if experiment == .merge || experiment == .threads { o.count = sendCount }
      return o
    }

    /// The signal sent: SIGUSR1 unless told.
    var signalNumber: Int32 { signal?.number ?? SIGUSR1 }
    /// How many times --merge (5) or --threads (3) sends it, unless told.
    var sendCount: Int { count ?? (experiment == .merge ? 5 : 3) }

    func validate(command: String) throws {
      if experiment != .disposition && disposition != .defaultAction {
        throw UsageError(
          "signal: --handler, --ignore and --block go without --merge, --threads, --no-reader, --auto-reap")
      }
      if count != nil && experiment != .merge && experiment != .threads {
        throw UsageError("signal: --count goes with --merge or --threads")
      }
      if let sig = signal?.number {
        if sig == 32 || sig == 33 {
          throw UsageError(
            "signal: signals 32 and 33 belong to glibc's threads; try \(Signals.namesForHelp) or 34…64")
        }
        if experiment == .noReader || experiment == .autoReap {
          throw UsageError(
            "signal: --no-reader is about SIGPIPE and --auto-reap about SIGCHLD; they take no SIGNAL")
        }
        if (experiment == .merge || experiment == .threads) && (sig == SIGKILL || sig == SIGSTOP || sig >= 32)
        {
          throw UsageError(
            "signal: --merge and --threads need a standard signal a process can handle (USR1, USR2, TERM, HUP…), got \(Signals.name(sig))"
          )
        }
      }
    }
  }

  static let command = Command(
    name: "signal", area: .ipc,
    summary:
      "send a signal to a child that handles, ignores or blocks it; --merge, --threads, --no-reader, --auto-reap",
    examples: [
      "signal", "signal USR1 --handler", "signal TERM --ignore", "signal USR2 --block",
      "signal KILL --handler",
      "signal --merge", "signal --threads", "signal --no-reader", "signal --auto-reap",
    ],
    options: Options.self
  ) { options, _ in
    let sig = options.signalNumber
    switch options.experiment {
    case .disposition: return try dispositionReport(sig, options.disposition)
    case .merge: return try SignalDeliveryReport.merge(sig, count: options.sendCount)
    case .threads: return try SignalDeliveryReport.threads(sig, count: options.sendCount)
    case .noReader: return try SignalDeliveryReport.noReader()
    case .autoReap: return try SignalDeliveryReport.autoReap()
    }
  }

  static func dispositionReport(_ sig: Int32, _ disposition: SignalResult.Disposition) throws -> Report {
    let s = try IPCSignals.run(sig, disposition: disposition)
    try Interrupt.check()
    let c = try IPCSignals.sigchld()
    return SignalDispositionReport.report(sig, disposition, s, c)
  }
}
