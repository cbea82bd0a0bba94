/// `bugs --atomicity | --order [--fixed]`: the two most common concurrency
/// bugs that are not deadlocks, each made to fail for real in a lab child, then fixed.
enum BugsCommand {
  enum Bug: String, Equatable {
    case atomicity, order
  }

  struct Options: CommandOptions {
    var bug = Bug.atomicity
    var fixed = false
    var checks = 2_000_000
    var rounds = 20

    static var declarations: [OptionDeclaration<Self>] {
      [
        .choice(
          "bug", \.bug,
          [
            (
              "--atomicity", .atomicity,
              "check-then-use of a shared pointer while another thread clears it (the default)"
            ),
            ("--order", .order, "a new thread uses a pointer before the thread that created it has set it"),
          ], unchosen: "atomicity"),
        .flag(
          "--fixed", \.fixed, "the same code with the fix: a mutex (atomicity), a condition variable (order)"),
        .value("--checks", \.checks, "N", in: 1000...50_000_000, "atomicity: check-then-use rounds"),
        .value("--rounds", \.rounds, "R", in: 1...1000, "order: times a thread is created and initialised"),
      ]
    }
  }

  static let command = Command(
    name: "bugs", area: .synchronization,
    summary: "an atomicity violation and an order violation, failing for real in a lab child, then fixed",
    examples: ["bugs --atomicity", "bugs --atomicity --fixed", "bugs --order", "bugs --order --fixed"],
    options: Options.self
  ) { options, _ in
    let run = try BugsExperiment.run(options)
    return BugsReport.render(run, options: options)
  }
}
