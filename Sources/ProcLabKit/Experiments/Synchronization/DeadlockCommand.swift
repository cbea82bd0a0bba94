/// `deadlock`: two threads, two locks, opposite orders — a real deadlock in a
/// lab child, found by a watchdog and named from what the lock wrappers recorded.
enum DeadlockCommand {
  static let lockNames = ["A", "B"]

  struct Options: CommandOptions {
    var order = LockPair.Order.opposite
    var pause = 50
    var timeout = 1000

    static var declarations: [OptionDeclaration<Self>] {
      [
        .choice(
          "order", \.order,
          [
            ("--ordered", .ordered, "both threads take A before B (a global lock order): no cycle can form"),
            (
              "--trylock", .trylock,
              "take the second lock with trylock; refused, give back the first and retry"
            ),
          ], unchosen: "opposite"),
        .value("--pause", \.pause, "MS", in: 5...500, "pause between the first and the second lock"),
        .value("--timeout", \.timeout, "MS", in: 200...10_000, "watchdog: no progress for MS means stuck"),
      ]
    }

    func validate(command: String) throws {
      if timeout < 4 * pause {
        throw UsageError(
          "deadlock: --timeout \(timeout) is too short for --pause \(pause): a thread may wait up to 2 pauses for progress; use a timeout of at least \(4 * pause)"
        )
      }
    }
  }

  static let command = Command(
    name: "deadlock", area: .synchronization,
    summary:
      "two threads take locks A and B in opposite orders and deadlock, in a lab child; a watchdog names the cycle",
    examples: ["deadlock", "deadlock --ordered", "deadlock --trylock", "deadlock --timeout 500"],
    options: Options.self
  ) { options, _ in
    let watched = try DeadlockExperiment.run(
      order: options.order, pauseMS: options.pause, timeoutMS: options.timeout)
    return try DeadlockReport.render(watched)
  }
}
