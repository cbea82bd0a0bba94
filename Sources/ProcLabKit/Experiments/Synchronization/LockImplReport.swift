/// `lock --impl`: what each lock built from scratch did — violations, turns per
/// thread (fairness), the longest wait, and CPU time spent spinning against
/// time off the CPU — and why, from those numbers.
enum LockImplReport {
  typealias Result = LockBench.Result

  static func ms(_ ns: Int) -> String { Units.duration(.nanoseconds(Int64(ns))) }

  static func name(_ res: Result) -> String {
    res.implementation == .peterson
      ? "peterson\(res.fence ? "" : " (no fence)")" : res.implementation.rawValue
  }

  static func render(_ results: [Result], threads n: Int, budget: Int, limitMS: Int) -> Report {
    let r = Report()
    r.line(
      "\(r.fixed(String(n))) thread\(n == 1 ? "" : "s") per lock on \(r.count(Threads.allowedCPUs().count)) CPUs; each turn: take the lock, check nobody else is inside, add 1 with a plain load and store, release; until \(ThreadWork.grouped(budget)) turns or \(r.fixed("\(limitMS) ms"))"
    )
    if results.contains(where: { $0.implementation == .peterson }) {
      r.line(
        "(peterson: before every turn both threads meet at a barrier, then race into the entry code together)"
      )
    }
    if results.count == 1, let res = results.first {
      single(res, r: r)
    } else {
      compare(results, r: r)
    }
    facts(results, threads: n, into: r)
    explain(results, threads: n, r: r)
    return r
  }

  static func single(_ res: Result, r: Report) {
    var t = Table(
      ["thread", "TID", "turns", "longest wait", "on CPU", "off CPU", "slept", "preempted"],
      rightAligned: [2, 3, 4, 5, 6, 7])
    for (i, w) in res.workers.enumerated() {
      t.add([
        "t\(i + 1)", r.tid(w.tid), r.note(ThreadWork.grouped(w.turns), .int),
        r.duration(.nanoseconds(Int64(w.longestWait))),
        r.duration(.nanoseconds(Int64(w.cpu))), r.duration(.nanoseconds(Int64(max(0, w.wall - w.cpu)))),
        r.count(w.voluntary), r.count(w.involuntary),
      ])
    }
    t.short = [3: "max wait", 7: "preempt"]
    r.table(t)
    r.line(
      "\(name(res)): \(r.same(ThreadWork.grouped(res.turns), .int)) turns in \(r.duration(.nanoseconds(Int64(res.wall)))); violations \(violations(res, r)); counter \(r.note(ThreadWork.grouped(res.counter), .int)) of \(r.same(ThreadWork.grouped(res.turns), .int))"
    )
    // (The turns vary, the time limit deciding as much as --turns; both mentions are one value.)
  }

  static func compare(_ results: [Result], r: Report) {
    var t = Table(
      ["lock", "turns", "time", "violations", "turns each", "longest wait", "CPU/turn", "slept"],
      rightAligned: [1, 2, 3, 4, 5, 6, 7])
    for res in results {
      t.add([
        name(res), r.note(ThreadWork.grouped(res.turns), .int), r.duration(.nanoseconds(Int64(res.wall))),
        violations(res, r), r.note(spread(res), .text),
        r.duration(.nanoseconds(Int64(res.workers.map(\.longestWait).max() ?? 0))),
        r.note(perTurn(res), .duration), r.count(res.workers.reduce(0) { $0 + $1.voluntary }),
      ])
    }
    t.short = [5: "max wait"]
    r.table(t)
    r.line(
      "turns each: the fewest and the most turns one thread got; CPU/turn: CPU time of all threads ÷ turns")
  }

  /// A correct lock lets nobody in beside its holder on any run: 0 stays literal. Peterson's
  /// lock without its fence lets the CPU reorder its store and load, sometimes.
  static func violations(_ res: Result, _ r: Report) -> String {
    res.implementation == .peterson && !res.fence ? r.count(res.violations) : String(res.violations)
  }

  /// `812–1,204`: the fewest and the most turns of one thread.
  static func spread(_ res: Result) -> String {
    let turns = res.workers.map(\.turns)
    return "\(ThreadWork.grouped(turns.min() ?? 0))–\(ThreadWork.grouped(turns.max() ?? 0))"
  }

  /// Most turns ÷ fewest turns among the threads.
  static func fairness(_ res: Result) -> Double {
    let turns = res.workers.map(\.turns)
    guard let most = turns.max(), let fewest = turns.min() else { return 1 }
    return fewest == 0 ? Double.infinity : Double(most) / Double(fewest)
  }

  static func cpu(_ res: Result) -> Int { res.workers.reduce(0) { $0 + $1.cpu } }

  /// Whether reading before exchanging paid off here: said from the time per turn of both
  /// locks in this run, and only when one was clearly (1.2×) quicker.
  static func ttasAgainstTAS(_ ttas: Result, _ results: [Result]) -> String {
    guard let tas = results.first(where: { $0.implementation == .tas }), ttas.turns > 0, tas.turns > 0 else {
      return "`lock --impl all` shows whether that pays off here."
    }
    let a = Double(ttas.wall) / Double(ttas.turns)
    let b = Double(tas.wall) / Double(tas.turns)
    let each = "\(Units.duration(seconds: a / 1e9)) a turn against \(Units.duration(seconds: b / 1e9))"
    if a * 1.2 <= b { return "here it was quicker: \(each)." }
    if b * 1.2 <= a { return "here it was slower: \(each)." }
    return "here that did not show (\(each)): the difference in traffic is too small to see at this size."
  }

  static func perTurn(_ res: Result) -> String {
    RaceReport.perOperation(Double(cpu(res)) / Double(max(1, res.turns)))
  }

  static func facts(_ results: [Result], threads n: Int, into r: Report) {
    func object(_ res: Result) -> JSON {
      var o = JSONObject()
      o["impl"] = .string(res.implementation.rawValue)
      o["fence"] = .bool(res.fence)
      o["violations"] = .int(res.violations)
      o["turns_total"] = .int(res.turns)
      o["counter"] = .int(res.counter)
      o["lost"] = .int(res.lost)
      o["wall_ns"] = .int(res.wall)
      o["cpu_ns"] = .int(cpu(res))
      o["off_cpu_ns"] = .int(res.workers.reduce(0) { $0 + max(0, $1.wall - $1.cpu) })
      o["voluntary_switches"] = .int(res.workers.reduce(0) { $0 + $1.voluntary })
      o["involuntary_switches"] = .int(res.workers.reduce(0) { $0 + $1.involuntary })
      o["fairness"] = .double(fairness(res).isFinite ? fairness(res) : -1)
      o["turns"] = .array(res.workers.map { .int($0.turns) })
      o["longest_wait_ns"] = .array(res.workers.map { .int($0.longestWait) })
      o["cpu_each_ns"] = .array(res.workers.map { .int($0.cpu) })
      o["tids"] = .array(res.workers.map { .int(Int($0.tid)) })
      return .object(o)
    }
    r.fact("threads", n)
    r.fact("cpus", Threads.allowedCPUs().count)
    if results.count == 1, let res = results.first, case .object(let o) = object(res) {
      for f in o.fields { r.facts[f.key] = f.value }
    }
    r.fact("locks", JSON.array(results.map(object)))
  }

  static func explain(
    _ results: [Result], threads n: Int, r: Report, cpus: Int = Threads.allowedCPUs().count
  ) {
    var parts: [String] = []
    for res in results {
      let slept = res.workers.reduce(0) { $0 + $1.voluntary }
      switch res.implementation {
      case .peterson where !res.fence:
        parts.append(
          res.violations > 0
            ? "Peterson without a fence broke mutual exclusion: \(ThreadWork.grouped(res.violations)) times the checker found the other thread inside, and \(ThreadWork.grouped(res.lost)) increments were lost. On x86 a store waits in the CPU's store buffer while a later load from another address goes ahead: each thread wrote 'I am interested', then read the other's flag before its own write was visible, both read 0, and both went in."
            : "Peterson without a fence happened to hold this time (no violation in \(ThreadWork.grouped(res.turns)) turns): the store→load reordering that breaks it needs both threads on different CPUs at the same moment; run it again."
        )
      case .peterson:
        parts.append(
          res.violations == 0
            ? "Peterson with a full fence (on x86 a locked instruction or mfence; here __atomic_thread_fence) held: no violation in \(ThreadWork.grouped(res.turns)) turns — the fence makes each thread's 'I am interested' visible before it reads the other's."
            : "Surprise: Peterson with a fence saw \(res.violations) violations.")
      case .tas:
        parts.append(
          "Test-and-set: every try is an atomic exchange that writes the lock's cache line, so spinners keep taking the line from each other and from the holder. "
            + (fairness(res) > 1.2
              ? (n > cpus
                ? "It is not fair (turns per thread \(spread(res))): with \(n) threads on \(cpus) CPUs at most \(cpus) run at once, so the scheduler decides who even gets to try; among those running, whoever's exchange lands first wins."
                : "It is not fair (turns per thread \(spread(res))): whoever's exchange lands first wins.")
              : "Turns came out about even this time (\(spread(res))), but nothing in test-and-set makes them so: whoever's exchange lands first wins.")
        )
      case .ttas:
        parts.append(
          "Test-and-test-and-set spins on a plain read, which leaves the line shared in every waiter's cache, and tries the exchange only when the lock looks free, to move the line less than plain test-and-set; "
            + ttasAgainstTAS(res, results) + " No more order either (turns per thread \(spread(res)))."
        )
      case .ticket:
        parts.append(
          "The ticket lock serves waiting threads in the order they took a number (FIFO; a thread that is not running takes no number): turns per thread \(spread(res))\(n > cpus ? "; with more threads than CPUs that order hurts: the next number may belong to a thread that is not running, and everyone spins until the scheduler runs it" : "")."
        )
      case .mutex:
        parts.append(
          "The pthread mutex does not spin: a thread that finds it taken sleeps in the kernel (futex) until the holder's unlock wakes it — \(ThreadWork.grouped(slept)) sleeps (voluntary switches) for \(ThreadWork.grouped(res.turns)) turns, \(perTurn(res)) of CPU per turn."
        )
      case .yield:
        parts.append(
          "Test-and-set with sched_yield gives the CPU to another runnable thread when refused, so a holder that was preempted gets to run sooner (a yield leaves the thread runnable, so the kernel counts it as an involuntary switch: \(ThreadWork.grouped(res.workers.reduce(0) { $0 + $1.involuntary })))."
        )
      }
      if res.implementation != .peterson && res.violations > 0 {
        parts.append("Surprise: \(name(res)) let two threads in \(res.violations) times.")
      }
    }
    if n > cpus,
      let spinner = results.first(where: { $0.implementation == .tas || $0.implementation == .ticket }),
      let sleeper = results.first(where: { $0.implementation == .mutex })
    {
      let spinning = Double(cpu(spinner)) / Double(max(1, spinner.turns))
      let sleeping = Double(cpu(sleeper)) / Double(max(1, sleeper.turns))
      parts.append(
        "With \(n) threads on \(cpus) CPUs, \(name(spinner)) spent \(perTurn(spinner)) of CPU per turn (\(Units.duration(.nanoseconds(Int64(cpu(spinner))))) in all, \(ThreadWork.grouped(spinner.turns)) turns in \(Units.duration(.nanoseconds(Int64(spinner.wall))))), the mutex \(perTurn(sleeper)) (\(Units.duration(.nanoseconds(Int64(cpu(sleeper))))), \(ThreadWork.grouped(sleeper.turns)) turns in \(Units.duration(.nanoseconds(Int64(sleeper.wall)))))"
          + (spinning > 1.2 * sleeping
            ? ": a spinner burns its time slice while the holder waits for a CPU; a sleeper gives it back."
            : ". This run does not show spinning costing more CPU per turn than sleeping; another run, or more threads, would show whether it does.")
      )
    } else if n > cpus, let only = results.first, results.count == 1 {
      let busy = Double(cpu(only)) / Double(max(1, only.wall))
      parts.append(
        "\(n) threads on \(cpus) CPUs: \(Units.fixed(busy, digits: 1)) CPUs busy on average, \(perTurn(only)) of CPU per turn, \(ThreadWork.grouped(only.workers.reduce(0) { $0 + $1.voluntary })) sleeps and \(ThreadWork.grouped(only.workers.reduce(0) { $0 + $1.involuntary })) preemptions."
      )
    }
    r.explain(
      parts.joined(separator: " "),
      more:
        "Practical locks use an atomic read-modify-write instruction, which reads and writes memory as one step (xchg, lock cmpxchg, lock xadd on x86). Plain loads and stores can build a lock too, but only with fences on today's CPUs (Peterson's algorithm needs a full fence on x86, mfence or a locked instruction: `lock --impl peterson --no-fence` can fail without it) and only for a fixed set of threads known in advance (Peterson's for two). Spinning is cheap when the holder is running on another CPU and about to let go; it wastes whole time slices when it is not. So real locks (glibc's pthread_mutex, Linux's futex) spin little or not at all and then sleep in the kernel, and ticket-like queues (MCS, qspinlock in the kernel) give fairness without every waiter hammering one cache line. 'on CPU' is the thread's CPU time (CLOCK_THREAD_CPUTIME_ID); 'off CPU' is the rest of its wall time, asleep or waiting for a CPU; 'slept' counts voluntary context switches and 'preempted' involuntary ones (getrusage RUSAGE_THREAD)."
    )
  }
}
