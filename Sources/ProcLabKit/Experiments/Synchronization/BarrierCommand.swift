/// `barrier`: N threads work different amounts, then wait until all have
/// arrived — a barrier built from a counter, a mutex and two semaphores, or
/// pthread_barrier_wait — round after round.
enum BarrierCommand {
  struct Options: CommandOptions {
    var threads = 4
    var rounds = 3
    var pthread = false
    var work = 5

    static var declarations: [OptionDeclaration<Self>] {
      [
        .value("--threads", \.threads, "N", in: 2...16, "threads that meet"),
        .value("--rounds", \.rounds, "R", in: 1...16, "times they meet"),
        .flag("--pthread", \.pthread, "pthread_barrier_wait instead of the barrier built from semaphores"),
        .value(
          "--work", \.work, "MS", in: 1...20,
          "the unit of work before each meeting (thread i works a different multiple)"),
      ]
    }
  }

  static let command = Command(
    name: "barrier", area: .synchronization,
    summary:
      "threads wait until all have arrived: a barrier from a counter and semaphores, or pthread_barrier",
    examples: ["barrier", "barrier --threads 6 --rounds 2", "barrier --pthread"],
    options: Options.self
  ) { options, _ in
    let result = try MeetingExperiment.run(
      options.pthread ? .pthreadBarrier : .barrier, threads: options.threads, rounds: options.rounds,
      work: .milliseconds(options.work))
    return MeetingReport.renderBarrier(result)
  }
}
