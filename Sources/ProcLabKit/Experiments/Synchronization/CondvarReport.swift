/// What `condvar` prints: each thread's items, waits and wake-ups, what went
/// through the buffer, and why — from the counts the lab child sent back.
enum CondvarReport {
  static let countKeys = [
    "produced", "consumed", "duplicates", "missing", "underflows", "producer_waits", "consumer_waits",
    "producer_wakeups", "consumer_wakeups", "empty_wakeups", "full_wakeups", "max_count", "min_count",
    "finished_workers",
  ]

  static func render(_ run: CondvarExperiment.Run, options o: CondvarCommand.Options) -> Report {
    let res = run.result
    let r = Report()
    func v(_ key: String) -> Int { res[key]?.intValue ?? 0 }
    let (p, c, k, m) = (o.producers, o.consumers, o.capacity, o.items)
    let hung = res["hung"]?.boolValue ?? false
    let oneCV = o.conditionVariables == 1
    let cvs =
      oneCV ? "one condition variable for both sides" : "condition variables not_full and not_empty"
    let wake = o.broadcast ? ", woken with broadcast" : ""
    r.line(
      "lab child \(r.pid(run.labPID)): \(Units.plural(p, "producer")) → buffer of \(Units.plural(k, "slot")) → \(Units.plural(c, "consumer")), \(m) items, one mutex, \(cvs)\(wake)"
        + (o.variant == .checkWithIf ? " (consumers check with if: faulty)" : "")
        + (o.variant == .checkWithoutLock ? " (consumers check without the mutex: faulty)" : ""))
    var t = Table(
      ["thread", "tid", "role", "items", "waits", "wake-ups", "woke to empty"], rightAligned: [3, 4, 5, 6])
    for (i, w) in (res["workers"]?.arrayValue ?? []).enumerated() {
      let consumer = w["consumer"]?.boolValue ?? false
      t.add([
        "t\(i + 1)", r.tid(Int32(w["tid"]?.intValue ?? 0)), consumer ? "consumer" : "producer",
        r.count(w["handled"]?.intValue ?? 0), r.count(w["waits"]?.intValue ?? 0),
        r.count(w["wakeups"]?.intValue ?? 0), consumer ? r.count(w["empty_wakeups"]?.intValue ?? 0) : "",
      ])
    }
    r.table(t)
    // Waiting in a while loop under the mutex, with a condition variable per side (or broadcast),
    // passes every item exactly once and never hangs, on every run: those counts stay literal.
    // The faulty variants' counts vary, and whether they hang too.
    let guaranteed = o.variant == .correct && (!oneCV || o.broadcast)
    func outcome(_ key: String) -> String { guaranteed ? String(v(key)) : r.count(v(key)) }
    r.line(
      "produced \(outcome("produced")), consumed \(outcome("consumed")), consumed twice \(outcome("duplicates")), never consumed \(outcome("missing")), taken from an empty buffer \(outcome("underflows"))"
    )
    let emptiest = v("min_count") < 0 ? ", emptiest \(v("min_count")) (below zero!)" : ""
    r.line(
      "producers waited \(r.count(v("producer_waits"))) times (buffer full), consumers \(r.count(v("consumer_waits"))) times (buffer empty); fullest "
        + (guaranteed
          ? "\(r.bounded(String(v("max_count")), .int, "1..\(k)")) of \(k)"
          : r.note("\(v("max_count")) of \(k)\(emptiest)", .text)))
    r.line(
      "wake-ups that found nothing to do: \(r.count(v("empty_wakeups") + v("full_wakeups"))) (consumers to an empty buffer \(r.count(v("empty_wakeups"))), producers to a full one \(r.count(v("full_wakeups"))))"
    )
    let elapsed = Duration.nanoseconds(Int64(v("elapsed_ns")))
    let ending =
      hung
      ? "hung: \(p + c - v("finished_workers")) threads were still blocked after \(Units.duration(.milliseconds(o.timeout))); the lab child was ended with them"
      : "all \(p + c) threads finished in \(guaranteed ? r.duration(elapsed) : Units.duration(elapsed))"
    r.line(guaranteed ? ending : r.note(ending, .text))
    for key in countKeys { r.fact(key, v(key)) }
    r.fact("hung", hung)
    r.fact("faulty_if", o.variant == .checkWithIf)
    r.fact("faulty_lost_wakeup", o.variant == .checkWithoutLock)
    r.fact("cvs", o.conditionVariables)
    r.fact("broadcast", o.broadcast)
    r.fact("items", m)
    r.fact("capacity", k)
    r.fact("lab_pid", run.labPID)
    r.fact("elapsed_ns", v("elapsed_ns"))
    r.fact("workers", res["workers"] ?? .array([]))
    let correct =
      !hung && v("produced") == m && v("consumed") == m && v("duplicates") == 0 && v("missing") == 0
    r.fact("exactly_once", correct)
    r.explain(
      correct ? explainCorrect(res, o, r) : explainFaulty(res, o, r),
      more:
        "A condition variable is a waiting room tied to a mutex: wait atomically unlocks and sleeps, and relocks before it returns. It carries no memory: a signal with nobody waiting is lost. POSIX condition variables have Mesa semantics: a signal only makes a waiter runnable, and by the time it runs another thread may have changed the state (and POSIX allows spurious wake-ups), so it must re-check — the rule is: change the state under the mutex, signal, and always wait in a loop. (Under Hoare semantics the signalled thread would run at once with the condition still true; no real pthread library works that way.) signal wakes one waiter, broadcast all of them: broadcast is always correct and costs wake-ups that find nothing to do."
    )
    return r
  }

  static func explainCorrect(_ res: JSON, _ o: CondvarCommand.Options, _ r: Report) -> String {
    func v(_ key: String) -> Int { res[key]?.intValue ?? 0 }
    var short =
      "Every one of the \(r.count(o.items)) items was consumed exactly once. Threads waited \(r.count(v("producer_waits") + v("consumer_waits"))) times instead of spinning: pthread_cond_wait releases the mutex and sleeps, and a \(o.broadcast ? "broadcast" : "signal") from the other side wakes \(o.broadcast ? "every" : "one") waiter."
    let wasted = v("empty_wakeups") + v("full_wakeups")
    if wasted > 0 {
      short +=
        " \(r.count(wasted)) wake-ups found nothing to do (the buffer still empty, or still full: another thread got there first\(o.conditionVariables == 1 ? ", or the wake-up was for the other side" : "")): "
        + (o.variant == .checkWithIf
          ? "this time the if did no harm."
          : "the while loop sent them back to wait — that is why it is a while.")
    } else if o.variant == .checkWithIf {
      short +=
        " With if, nothing went wrong this time: no wake-up found the buffer empty. Try more --consumers."
    }
    if o.variant == .checkWithoutLock {
      short +=
        " Checking without the mutex did no harm this time: no signal fell between a consumer's look and its wait. Try more --items or --capacity 1."
    }
    if o.conditionVariables == 1 && !o.broadcast {
      short +=
        " With one condition variable and signal, this run got lucky: every signal happened to wake a thread of the other side. Try --capacity 1 with more consumers."
    }
    if o.conditionVariables == 1 && o.broadcast {
      short +=
        " One condition variable works with broadcast: every waiter of both sides wakes, the right one proceeds and the rest re-check and sleep again (\(r.count(wasted)) wasted wake-ups). Two condition variables let signal wake only the side that can proceed."
    }
    return short
  }

  static func explainFaulty(_ res: JSON, _ o: CondvarCommand.Options, _ r: Report) -> String {
    func v(_ key: String) -> Int { res[key]?.intValue ?? 0 }
    let hung = res["hung"]?.boolValue ?? false
    let asleep = o.producers + o.consumers - v("finished_workers")
    var what: [String] = []
    if v("underflows") > 0 {
      what.append(
        "\(r.count(v("underflows"))) times a consumer woke, found the buffer empty (another consumer had stolen the item) and took from it anyway"
      )
    }
    if v("duplicates") > 0 { what.append("\(r.count(v("duplicates"))) items were consumed twice") }
    if v("missing") > 0 { what.append("\(r.count(v("missing"))) items were never consumed") }
    if hung { what.append("\(r.count(asleep)) threads were left waiting for a signal that would never come") }
    var short = "What went wrong: " + what.joined(separator: "; ") + "."
    if o.variant == .checkWithIf {
      short +=
        " The if checked 'empty' once, before waiting; after the wake-up the condition may be false again (a stolen or spurious wake-up). A while re-checks after every wake-up."
    }
    if o.variant == .checkWithoutLock {
      short +=
        " A consumer saw an empty buffer without holding the mutex; before it started waiting, a producer added an item and signalled — nobody was waiting yet, so the signal was lost (a condition variable keeps no memory). The consumer then slept with an item in the buffer, the producer filled the buffer and slept too. (A 20 µs pause between the look and the wait stands in for a preemption, so the gap is hit within thousands of items.) Checking and waiting under the same mutex closes that gap: pthread_cond_wait unlocks and sleeps in one step."
    }
    if o.conditionVariables == 1 && !o.broadcast && o.variant == .correct && hung {
      short +=
        " With one condition variable for both sides, a signal meant for a producer ('there is room') can wake a consumer instead: it finds the buffer empty and goes back to sleep, the signal is used up, and the producer sleeps on. Once every thread sleeps, nobody is left to signal: all \(asleep) were asleep in pthread_cond_wait when the watchdog ended the lab child. Use two condition variables (not_full for producers, not_empty for consumers) or broadcast."
    }
    return short
  }
}
