/// `condvar`: a bounded buffer between producers and consumers, with one mutex
/// and two condition variables; `--if` is the classic bug.
enum CondvarCommand {
  static let command = Command(
    name: "condvar", area: .synchronization,
    summary: "a bounded buffer with a mutex and two condition variables; --if shows the classic bug",
    usage:
      "condvar [--producers P] [--consumers C] [--capacity K] [--items M] [--if | --lost-wakeup] [--timeout MS]",
    options: [
      .init("--producers", value: "P", "producer threads (1…8, default 2)"),
      .init("--consumers", value: "C", "consumer threads (1…8, default 3)"),
      .init("--capacity", value: "K", "slots in the buffer (1…64, default 4)"),
      .init("--items", value: "M", "items to pass through (1…200000, default 20000)"),
      .init("--if", "faulty consumers: check 'buffer empty' with if instead of while"),
      .init("--lost-wakeup", "faulty consumers: check 'buffer empty' without the mutex, then wait"),
      .init(
        "--timeout", value: "MS", "watchdog: give up on blocked threads after MS (100…10000, default 2000)"),
    ],
    examples: [
      "condvar", "condvar --capacity 1 --items 5000", "condvar --if",
      "condvar --lost-wakeup --producers 1 --consumers 1 --capacity 1",
    ]
  ) { args, _ in
    try args.expectPositionals(atMost: 0)
    let p = try args.int("--producers", default: 2, in: 1...8)
    let c = try args.int("--consumers", default: 3, in: 1...8)
    let k = try args.int("--capacity", default: 4, in: 1...64)
    let m = try args.int("--items", default: 20000, in: 1...200_000)
    try args.exclusive("--if", "--lost-wakeup")
    let variant: BufferVariant =
      args.flag("--if") ? .checkWithIf : args.flag("--lost-wakeup") ? .checkWithoutLock : .correct
    let useIf = variant == .checkWithIf
    let lostWakeup = variant == .checkWithoutLock
    let timeoutMS = try args.int("--timeout", default: 2000, in: 100...10_000)
    let request: JSON = [
      "producers": .int(p), "consumers": .int(c), "capacity": .int(k), "items": .int(m),
      "variant": .int(Int(variant.rawValue)),
      "timeout_ms": .int(timeoutMS),
    ]
    // In a lab child: the faulty variant can leave threads blocked forever.
    // The child's own watchdog reports at the timeout; ours kills it if even that fails.
    let run = try Lab.run(entry.name, request, timeout: .milliseconds(timeoutMS + 10_000))
    guard let res = run.result, run.status == .exited(0) else {
      let why =
        run.timedOut ? "did not answer within \(timeoutMS + 10_000) ms and was killed" : "\(run.status)"
      throw UsageError(
        "condvar: the lab child \(run.pid) \(why); its last words: \(run.lastOutput.joined(separator: " / "))"
      )
    }
    let r = Report()
    func v(_ key: String) -> Int { res[key]?.intValue ?? 0 }
    let hung = res["hung"]?.boolValue ?? false
    r.line(
      "lab child \(r.pid(run.pid)): \(Units.plural(p, "producer")) → buffer of \(Units.plural(k, "slot")) → \(Units.plural(c, "consumer")), \(r.count(m)) items, one mutex, condition variables not_full and not_empty"
        + (useIf ? " (consumers check with if: faulty)" : "")
        + (lostWakeup ? " (consumers check without the mutex: faulty)" : ""))
    var t = Table(
      ["thread", "tid", "role", "items", "waits", "wake-ups", "woke to empty"], rightAligned: [3, 4, 5, 6])
    for (i, w) in (res["workers"]?.arrayValue ?? []).enumerated() {
      let consumer = w["consumer"]?.boolValue ?? false
      t.add([
        "t\(i + 1)", r.tid(Int32(w["tid"]?.intValue ?? 0)), consumer ? "consumer" : "producer",
        r.count(w["handled"]?.intValue ?? 0), r.count(w["waits"]?.intValue ?? 0),
        r.count(w["wakeups"]?.intValue ?? 0),
        consumer ? r.count(w["empty_wakeups"]?.intValue ?? 0) : "",
      ])
    }
    r.lines(t.lines)
    r.line(
      "produced \(r.count(v("produced"))), consumed \(r.count(v("consumed"))), consumed twice \(r.count(v("duplicates"))), never consumed \(r.count(v("missing"))), taken from an empty buffer \(r.count(v("underflows")))"
    )
    r.line(
      "producers waited \(r.count(v("producer_waits"))) times (buffer full), consumers \(r.count(v("consumer_waits"))) times (buffer empty); fullest \(r.count(v("max_count"))) of \(k)"
        + (v("min_count") < 0 ? ", emptiest \(r.count(v("min_count"))) (below zero!)" : ""))
    let elapsed = Duration.nanoseconds(Int64(v("elapsed_ns")))
    r.line(
      hung
        ? "hung: \(r.count(p + c - v("finished_workers"))) threads were still blocked after \(r.duration(.milliseconds(timeoutMS))); the lab child was ended with them"
        : "all \(r.count(p + c)) threads finished in \(r.duration(elapsed))")
    for key in [
      "produced", "consumed", "duplicates", "missing", "underflows", "producer_waits", "consumer_waits",
      "producer_wakeups", "consumer_wakeups", "empty_wakeups", "max_count", "min_count", "finished_workers",
    ] { r.fact(key, v(key)) }
    r.fact("hung", hung)
    r.fact("faulty_if", useIf)
    r.fact("faulty_lost_wakeup", lostWakeup)
    r.fact("items", m)
    r.fact("capacity", k)
    r.fact("lab_pid", run.pid)
    r.fact("elapsed_ns", v("elapsed_ns"))
    r.fact("workers", res["workers"] ?? .array([]))
    let correct =
      !hung && v("produced") == m && v("consumed") == m && v("duplicates") == 0 && v("missing") == 0
    r.fact("exactly_once", correct)
    var short: String
    if correct {
      short =
        "Every one of the \(r.count(m)) items was consumed exactly once. Threads waited \(r.count(v("producer_waits") + v("consumer_waits"))) times instead of spinning: pthread_cond_wait releases the mutex and sleeps, and a signal from the other side wakes one waiter."
      if v("empty_wakeups") > 0 {
        short +=
          " \(r.count(v("empty_wakeups"))) wake-ups found the buffer empty again (another consumer got there first): "
          + (useIf
            ? "this time the if did no harm."
            : "the while loop sent them back to wait — that is why it is a while.")
      } else if useIf {
        short +=
          " With if, nothing went wrong this time: no wake-up found the buffer empty. Try more --consumers."
      }
      if lostWakeup {
        short +=
          " Checking without the mutex did no harm this time: no signal fell between a consumer's look and its wait. Try more --items or --capacity 1."
      }
    } else {
      var what: [String] = []
      if v("underflows") > 0 {
        what.append(
          "\(r.count(v("underflows"))) times a consumer woke, found the buffer empty (another consumer had stolen the item) and took from it anyway"
        )
      }
      if v("duplicates") > 0 { what.append("\(r.count(v("duplicates"))) items were consumed twice") }
      if v("missing") > 0 { what.append("\(r.count(v("missing"))) items were never consumed") }
      if hung {
        what.append(
          "\(r.count(p + c - v("finished_workers"))) threads were left waiting for a signal that would never come"
        )
      }
      short =
        "What went wrong: " + what.joined(separator: "; ") + "."
        + (useIf
          ? " The if checked 'empty' once, before waiting; after the wake-up the condition may be false again (a stolen or spurious wake-up). A while re-checks after every wake-up."
          : "")
        + (lostWakeup
          ? " A consumer saw an empty buffer without holding the mutex; before it started waiting, a producer added an item and signalled — nobody was waiting yet, so the signal was lost (a condition variable keeps no memory). The consumer then slept with an item in the buffer, the producer filled the buffer and slept too. (A 20 µs pause between the look and the wait stands in for a preemption, so the gap is hit within thousands of items.) Checking and waiting under the same mutex closes that gap: pthread_cond_wait unlocks and sleeps in one step."
          : "")
    }
    r.explain(
      short,
      more:
        "A condition variable is a waiting room tied to a mutex: wait atomically unlocks and sleeps, and relocks before it returns. It carries no memory: a signal with nobody waiting is lost, and a woken thread is not promised that the condition still holds (another thread may run first, and POSIX allows spurious wake-ups). So the rule is: change the state under the mutex, signal, and always wait in a loop that re-checks the condition."
    )
    return r
  }

  /// The lab side: runs the buffer and reports the counts.
  static let entry = LabEntry("sync.condvar") { request in
    let res = try SyncPrimitives.boundedBuffer(
      producers: request["producers"]?.intValue ?? 2, consumers: request["consumers"]?.intValue ?? 3,
      capacity: request["capacity"]?.intValue ?? 4, items: request["items"]?.intValue ?? 1000,
      variant: BufferVariant(rawValue: Int32(request["variant"]?.intValue ?? 0)) ?? .correct,
      timeout: .milliseconds(request["timeout_ms"]?.intValue ?? 2000))
    return [
      "produced": .int(res.produced), "consumed": .int(res.consumed), "duplicates": .int(res.duplicates),
      "missing": .int(res.missing), "underflows": .int(res.underflows), "hung": .bool(res.hung),
      "producer_waits": .int(res.producerWaits), "consumer_waits": .int(res.consumerWaits),
      "producer_wakeups": .int(res.producerWakeups), "consumer_wakeups": .int(res.consumerWakeups),
      "empty_wakeups": .int(res.emptyWakeups), "max_count": .int(res.maxCount),
      "min_count": .int(res.minCount),
      "elapsed_ns": .int(Int(res.elapsed)), "finished_workers": .int(res.finishedWorkers),
      "workers": .array(
        res.workers.map {
          [
            "tid": .int(Int($0.tid)), "consumer": .bool($0.consumer), "handled": .int($0.handled),
            "waits": .int($0.waits), "wakeups": .int($0.wakeups), "empty_wakeups": .int($0.emptyWakeups),
          ] as JSON
        }),
    ]
  }
}
