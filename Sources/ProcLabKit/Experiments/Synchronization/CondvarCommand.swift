/// `condvar`: a bounded buffer between producers and consumers, with one mutex
/// and two condition variables (or one); `--if`, `--lost-wakeup` and `--cvs 1`
/// with signal are classic bugs.
enum CondvarCommand {
  struct Options: CommandOptions {
    var producers = 2
    var consumers = 3
    var capacity = 4
    var items = 20000
    var variant = BufferVariant.correct
    var conditionVariables = 2
    var broadcast = false
    var timeout = 2000

    static var declarations: [OptionDeclaration<Self>] {
      [
        .value("--producers", \.producers, "P", in: 1...8, "producer threads"),
        .value("--consumers", \.consumers, "C", in: 1...8, "consumer threads"),
        .value("--capacity", \.capacity, "K", in: 1...64, "slots in the buffer"),
        .value("--items", \.items, "M", in: 1...200_000, "items to pass through"),
        .choice(
          "bug", \.variant,
          [
            ("--if", .checkWithIf, "faulty consumers: check 'buffer empty' with if instead of while"),
            (
              "--lost-wakeup", .checkWithoutLock,
              "faulty consumers: check 'buffer empty' without the mutex, then wait"
            ),
          ], unchosen: "none"),
        .value(
          "--cvs", \.conditionVariables, "1|2", in: 1...2,
          "condition variables: 2 (not_full, not_empty) or 1 shared by producers and consumers"),
        .choice(
          "wake", \.broadcast,
          [
            ("--signal", false, "wake one waiter (pthread_cond_signal), the default"),
            ("--broadcast", true, "wake every waiter (pthread_cond_broadcast)"),
          ], unchosen: "signal"),
        .value(
          "--timeout", \.timeout, "MS", in: 100...10_000, "watchdog: give up on blocked threads after MS"),
      ]
    }
  }

  static let command = Command(
    name: "condvar", area: .synchronization,
    summary:
      "a bounded buffer with a mutex and condition variables; --if, --lost-wakeup and --cvs 1 show classic bugs",
    examples: [
      "condvar", "condvar --capacity 1 --items 5000", "condvar --if",
      "condvar --lost-wakeup --producers 1 --consumers 1 --capacity 1",
      "condvar --cvs 1 --capacity 1 --consumers 2", "condvar --cvs 1 --capacity 1 --consumers 2 --broadcast",
    ],
    options: Options.self
  ) { options, _ in
    let run = try CondvarExperiment.run(options)
    return CondvarReport.render(run, options: options)
  }
}
