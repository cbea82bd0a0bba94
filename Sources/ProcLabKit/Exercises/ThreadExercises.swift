import Glibc

/// The thread and signal exercises: a mutex, a bounded buffer with condition
/// variables, a clean exit on SIGINT.
enum ThreadExercises {
  static let mutex = Exercise(
    "mutex", "two threads, one counter, not one update lost", repeats: 20,
    checks: [
      ExerciseCheck("two threads in the one process", points: 2) { c in twoThreads(c) },
      ExerciseCheck("the threads run at the same time", points: 1) { c in concurrent(c) },
      ExerciseCheck("both return from their function and are joined", points: 1) { c in joined(c) },
      ExerciseCheck("the count is exact (1000000) in 20 runs", points: 5) { c in
        exact(
          c, label: "counter =", expected: 1_000_000,
          what:
            "updates were lost: counter++ is a load, an add and a store, and another thread can store in between; hold the mutex around it"
        )
      },
      ExerciseCheck("the program exits with status 0", points: 1) { c in exitsCleanly(c) },
    ])

  static let boundedBuffer = Exercise(
    "bounded-buffer", "producer and consumer on condition variables", repeats: 5,
    checks: [
      ExerciseCheck("a producer and a consumer thread running at the same time", points: 2) { c in
        let t = twoThreads(c)
        return t.met ? concurrent(c) : t
      },
      ExerciseCheck("the sum is exact (50005000) in the traced run and 5 more", points: 4) { c in
        exact(
          c, label: "sum =", expected: 50_005_000,
          what:
            "items were lost or counted twice: check count, in and out only while holding the mutex, and wait in a while loop"
        )
      },
      ExerciseCheck("the threads wait in the kernel (futex) instead of spinning", points: 3) { c in
        let waits = c.workers.filter { $0.futexWaits > 0 }
        guard c.workers.count >= 2 else {
          return .notMet("fewer than two threads", "create the producer and the consumer")
        }
        if !waits.isEmpty {
          return .met(
            waits.map { "\($0.tid) waited \(Units.plural($0.futexWaits, "time")) (\(c.ms($0.futexWaited)))" }
              .joined(separator: ", "))
        }
        return .notMet(
          "no futex wait in any thread: they never slept while the buffer was full or empty",
          "while (count == SLOTS) pthread_cond_wait(&not_full, &m); and the same for empty with not_empty")
      },
      ExerciseCheck("both threads are joined and the program exits 0", points: 1) { c in
        let j = joined(c)
        return j.met ? exitsCleanly(c) : j
      },
    ])

  static let sigint = Exercise(
    "sigint", "a clean exit on Ctrl-C", timeout: .seconds(5), signal: (SIGINT, .milliseconds(500)),
    checks: [
      ExerciseCheck("a SIGINT handler is installed (rt_sigaction)", points: 3) { c in
        if c.root.handlers.contains(SIGINT) { return .met("rt_sigaction(SIGINT, handler) in \(c.run.root)") }
        return .notMet(
          "no handler for SIGINT was installed",
          "struct sigaction sa = {0}; sa.sa_handler = on_interrupt; sigaction(SIGINT, &sa, NULL);")
      },
      ExerciseCheck("SIGINT is delivered and the process survives it", points: 2) { c in
        guard let s = c.run.signals.first(where: { $0.signal == SIGINT && $0.pid == c.run.root }) else {
          return .notMet(
            "SIGINT never reached the program (did it end before the 0.5 s mark?)",
            "wait with pause() in a loop until the flag is set")
        }
        if case .signaled(SIGINT, _) = c.root.exit {
          return .notMet(
            "killed by SIGINT at \(c.ms(s.at)): with no handler, its default action ends the process",
            "install a handler with sigaction before you wait")
        }
        return .met("SIGINT delivered at \(c.ms(s.at)); the process went on")
      },
      ExerciseCheck("then it exits with status 0 within a second", points: 3) { c in
        guard let s = c.run.signals.first(where: { $0.signal == SIGINT && $0.pid == c.run.root }) else {
          return .notMet("no SIGINT was delivered", "keep the program waiting until SIGINT arrives")
        }
        guard c.root.exit == .exited(0), let end = c.root.exitedAt else {
          return .notMet(
            "the program \(c.root.exit.map { "\($0)" } ?? "was still running at the timeout")",
            "after the flag is set, leave the loop and return 0 from main")
        }
        let after = end >= s.at ? end - s.at : 0
        return after < 1_000_000_000
          ? .met("exited 0, \(c.ms(after)) after the signal")
          : .notMet("exited \(c.ms(after)) after the signal", "check the flag right after pause() returns")
      },
      ExerciseCheck("it waits in the kernel, not in a busy loop", points: 1) { c in
        let waits = [
          "pause", "rt_sigsuspend", "nanosleep", "clock_nanosleep", "ppoll", "pselect6", "poll", "select",
        ]
        if let used = waits.first(where: { (c.root.calls[$0] ?? 0) > 0 }) {
          return .met("it slept in \(used)()")
        }
        return .notMet(
          "it made no sleeping call: a loop that only tests the flag keeps a CPU busy",
          "while (!stop) pause();")
      },
      ExerciseCheck("it prints clean exit", points: 1) { c in
        c.output.contains("clean exit")
          ? .met("\"clean exit\" on stdout")
          : .notMet(
            "no \"clean exit\" in the output", "printf(\"clean exit\\n\") in main, not in the handler")
      },
    ])

  // MARK: shared checks

  static func twoThreads(_ c: VerifyContext) -> Verdict {
    let mine = c.workers.filter { $0.pid == c.run.root }
    if mine.count == 2 && c.descendants.isEmpty {
      return .met("threads \(c.list(mine.map(\.tid))) in process \(c.run.root) (clone with CLONE_THREAD)")
    }
    if !c.descendants.isEmpty {
      return .notMet(
        "\(Units.plural(c.descendants.count, "process", "processes")) created: processes do not share the counter",
        "use pthread_create, not fork")
    }
    return .notMet(
      "\(Units.plural(mine.count, "thread")) besides main",
      "pthread_create two threads (compile with -pthread)")
  }

  static func concurrent(_ c: VerifyContext) -> Verdict {
    let w = c.workers
    guard w.count >= 2 else { return .notMet("fewer than two threads", "create two threads") }
    if c.overlap(w[0], w[1]) {
      return .met(
        "\(w[0].tid) and \(w[1].tid) were alive together from \(c.ms(max(w[0].createdAt, w[1].createdAt)))")
    }
    return .notMet(
      "\(w[0].tid) ended before \(w[1].tid) began: they took turns",
      "create both threads first, then join both")
  }

  static func joined(_ c: VerifyContext) -> Verdict {
    let w = c.workers
    guard !w.isEmpty else { return .notMet("no thread", "create the threads") }
    let cut = w.filter { !$0.endedOnItsOwn }
    if cut.isEmpty { return .met("\(c.list(w.map(\.tid))) returned and ended before main did") }
    return .notMet(
      "\(c.list(cut.map(\.tid))) still ran when the process exited: exit ended them",
      "pthread_join each thread before main returns")
  }

  static func exitsCleanly(_ c: VerifyContext) -> Verdict {
    c.root.exit == .exited(0)
      ? .met("exited 0")
      : .notMet("the program \(c.root.exit.map { "\($0)" } ?? "did not end")", "return 0 from main")
  }

  /// The traced run and every repeat printed `label expected`.
  static func exact(_ c: VerifyContext, label: String, expected: Int, what: String) -> Verdict {
    let outputs = [c.output] + c.repeats.map(\.output)
    let values = outputs.map { c.printed(label, in: $0) }
    let wrong = values.enumerated().filter { $0.element != expected }
    if wrong.isEmpty { return .met("\(outputs.count) of \(outputs.count) runs printed \(label) \(expected)") }
    let (i, value) = wrong[0]
    let run = i == 0 ? "the traced run" : "run \(i + 1)"
    guard let value else {
      return .notMet("\(run) printed no \"\(label) N\" line", "print \"\(label) N\" at the end of main")
    }
    let detail =
      value < expected && value > 0
      ? "; \(expected - value) \(what)" : value == 0 ? "; nothing was counted: fill in the TODOs" : ""
    return .notMet(
      "\(wrong.count) of \(outputs.count) runs were wrong: \(run) printed \(value), not \(expected)",
      String(detail.dropFirst(2)).isEmpty ? "every run must print \(expected)" : String(detail.dropFirst(2)))
  }
}
