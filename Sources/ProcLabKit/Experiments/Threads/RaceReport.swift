/// What `race` prints: the counts, times, per-thread timelines and an
/// explanation of what was lost and why.
enum RaceReport {
  typealias Result = RaceExperiment.Result

  /// `0.42 ns`, `3.1 ns`, `12.4 ns`: a per-increment time is often below one nanosecond.
  static func perOperation(_ ns: Double) -> String {
    if ns < 10 { return Units.fixed(ns, digits: ns < 1 ? 2 : 1) + " ns" }
    return Units.duration(seconds: ns / 1e9)
  }

  static func render(_ results: [Result], threads n: Int, iterations m: Int) -> Report {
    let r = Report()
    let expected = n * m
    r.line(
      "\(n) thread\(n == 1 ? "" : "s") × \(ThreadWork.grouped(m)) increments of one shared counter: expected \(ThreadWork.grouped(expected))"
    )
    var t = Table(
      ["variant", "counter", "lost updates", "time", "per increment"], rightAligned: [1, 2, 3, 4])
    var chart = BarChart(width: 24)
    for res in results {
      let perOp = Double(res.wall) / Double(max(1, expected))
      // Only the unprotected counter varies (a run may even lose nothing, and then the cell is
      // "0"); a mutex or an atomic always reaches the expected count, and a recording checks that.
      let lost =
        res.lost == 0
        ? "0" : "\(ThreadWork.grouped(res.lost)) (\(Units.percent(Double(res.lost) / Double(expected))))"
      t.add([
        res.variant.rawValue,
        res.variant == .unsafe ? r.note(ThreadWork.grouped(res.got), .int) : ThreadWork.grouped(res.got),
        res.variant == .unsafe ? r.note(lost, .text) : lost,
        r.seconds(Double(res.wall) / 1e9), r.note(perOperation(perOp), .duration),
      ])
      chart.add(res.variant.rawValue, Double(res.wall), Units.duration(seconds: Double(res.wall) / 1e9))
    }
    r.lines(t.lines)
    if results.count > 1 {
      r.line("time each variant took:")
      r.lines(chart.lines)
    }
    for res in results where n > 1 {
      r.line(
        "\(res.variant.rawValue): when each thread was in its loop, and on which CPU (\(res.variant.how))")
      r.lines(ThreadWork.timeline(res.tracks, r: r, idleLegend: "not in the loop"))
    }
    facts(results, threads: n, iterations: m, into: r)
    explain(results, threads: n, iterations: m, r: r)
    return r
  }

  static func facts(_ results: [Result], threads n: Int, iterations m: Int, into r: Report) {
    r.fact("threads", n)
    r.fact("iterations", m)
    r.fact("expected", n * m)
    var variantFacts = JSONObject()
    for res in results {
      var o = JSONObject()
      o["got"] = .int(res.got)
      o["lost"] = .int(res.lost)
      o["wall_ns"] = .int(Int(res.wall))
      o["per_increment_ns"] = .double(Double(res.wall) / Double(max(1, n * m)))
      o["overlap_ns"] = .int(Int(ThreadWork.overlap(res.tracks)))
      o["parallel_ns"] = .int(Int(ParallelExperiment.simultaneousOnDifferentCPUs(res.tracks)))
      o["tids"] = .array(res.tracks.map { .int(Int($0.tid)) })
      o["cpus"] = .array(res.tracks.map { .array($0.cpus.map { .int($0) }) })
      variantFacts[res.variant.key] = .object(o)
    }
    r.fact("variants", JSON.object(variantFacts))
    if let first = results.first {
      r.fact("got", first.got)
      r.fact("lost", first.lost)
    }
  }

  static func explain(_ results: [Result], threads n: Int, iterations m: Int, r: Report) {
    var parts: [String] = []
    if let racy = results.first(where: { $0.variant == .unsafe }) {
      let overlap = ThreadWork.overlap(racy.tracks)
      let together = ParallelExperiment.simultaneousOnDifferentCPUs(racy.tracks)
      if n == 1 {
        parts.append(
          "With one thread nothing can interleave: all \(ThreadWork.grouped(racy.got)) increments arrived. Try --threads 2."
        )
      } else if racy.lost > 0 {
        let cpus = Set(racy.tracks.flatMap(\.cpus)).sorted().map(String.init).joined(separator: ",")
        let when =
          together > 0
          ? "The threads were in their loops at the same instant on different CPUs for at least \(Units.duration(seconds: Double(together) / 1e9)), so one thread's load often came before the other's store: both stored the same value + 1, and one increment vanished."
          : "Their loops overlapped in time for \(Units.duration(seconds: Double(overlap) / 1e9)), but the records never show them on different CPUs at the same instant (CPU \(cpus) seen): on a shared CPU an update is lost when a time slice ends between a thread's load and its store — the other thread's increments in the meantime are overwritten when it resumes and stores its stale value."
        parts.append(
          "Without protection \(ThreadWork.grouped(racy.lost)) of \(ThreadWork.grouped(racy.expected)) updates were lost (\(Units.percent(Double(racy.lost) / Double(racy.expected)))). Each increment is three steps — load the counter, add 1, store it. \(when)"
        )
      } else {
        parts.append(
          "No updates were lost this time: "
            + (overlap == 0
              ? "the threads' loops never overlapped in time (each finished before another started; the machine may be busy). "
              : "the loops overlapped for only \(Units.duration(seconds: Double(overlap) / 1e9)). ")
            + "The race is still there; try --iterations \(min(100_000_000, m * 10)).")
      }
    }
    for res in results where res.variant != .unsafe {
      parts.append(
        res.lost == 0
          ? "With \(res.variant == .mutex ? "a mutex" : "an atomic add") none were lost: \(ThreadWork.grouped(res.got)) of \(ThreadWork.grouped(res.expected))."
          : "Surprise: \(res.variant.rawValue) lost \(res.lost) updates.")
    }
    if let racy = results.first(where: { $0.variant == .unsafe }), racy.wall > 0 {
      parts += costSentences(results, unprotected: racy)
    }
    r.explain(parts.joined(separator: " "), more: more(results, threads: n))
  }

  /// A protected variant is said to cost time only when it took clearly longer than the
  /// unprotected loop in this run (1.2× or more); otherwise the run shows nothing about it.
  static let clearlyLonger = 1.2

  /// "Correctness costs time" only for the variants that took clearly longer; a variant that
  /// was as fast or faster gets a neutral sentence saying what would show the cost.
  static func costSentences(_ results: [Result], unprotected racy: Result) -> [String] {
    let others = results.filter { $0.variant != .unsafe }.map {
      (variant: $0.variant, ratio: Double($0.wall) / Double(racy.wall))
    }
    let longer = others.filter { $0.ratio >= clearlyLonger }
    let notLonger = others.filter { $0.ratio < clearlyLonger }
    var out: [String] = []
    if !longer.isEmpty {
      out.append(
        "Correctness cost time here: compared with the unprotected loop, "
          + longer.map { "\($0.variant.rawValue) took \(Units.ratio($0.ratio))" }.joined(separator: ", ")
          + " as long.")
    }
    if !notLonger.isEmpty {
      out.append(
        notLonger.map { "\($0.variant.rawValue) took \(Units.ratio($0.ratio))" }.joined(separator: " and ")
          + " as long as the unprotected loop: this run does not show \(notLonger.count == 1 ? "it" : "them") costing time (a longer run, --iterations \(ThreadWork.grouped(RaceCommand.Options().iterations)), would show whether \(notLonger.count == 1 ? "it does" : "they do"))."
      )
    }
    return out
  }

  /// The second explanation: what a mutex and an atomic add do (true of glibc and x86-64), and
  /// the cache line moving between cores only for a variant whose threads the records show
  /// running at the same instant on different CPUs.
  static func more(_ results: [Result], threads n: Int) -> String {
    var text =
      "A mutex makes the three steps one critical section: a thread that finds it locked sleeps on a futex until the holder unlocks. An atomic add does load-add-store as one indivisible instruction with a lock prefix (on x86-64, proclab's atomic loop is `lock xadd` in the debug build `swift run` makes and `lock incq` in an optimised build: `objdump -d` shows it)."
    let protected = results.filter { $0.variant != .unsafe }
    if n == 1 {
      text +=
        " With one thread there is no other core to share the counter with, so these times are what the lock and the locked instruction cost by themselves."
    } else if !protected.isEmpty {
      let together = protected.filter { ParallelExperiment.simultaneousOnDifferentCPUs($0.tracks) > 0 }
      let apart = protected.filter { ParallelExperiment.simultaneousOnDifferentCPUs($0.tracks) == 0 }
      if !together.isEmpty {
        text +=
          " The \(together.map(\.variant.rawValue).joined(separator: " and ")) threads ran at the same instant on different CPUs, so the counter's cache line also moved between the cores: each core must own it to write."
      }
      if !apart.isEmpty {
        text +=
          " The records never show the \(apart.map(\.variant.rawValue).joined(separator: " and ")) threads on different CPUs at the same instant, so this run cannot show the cache line moving between cores."
      }
      text += " `race --threads 1` shows what each costs with no second thread."
    }
    text +=
      " The timeline marks each chunk of a few thousand increments with the CPU it ended on: it shows when both threads were inside their loops and on which CPUs, but not a thread being switched out inside a chunk, so two threads taking turns on one CPU look the same as running side by side. Try 'race --schedule' to choose the interleaving yourself."
    return text
  }

  // MARK: the learner's schedule

  static func renderSchedule(_ s: RaceExperiment.ScheduleResult, free: Result) -> Report {
    let r = Report()
    r.line("two threads, one counter starting at 0; your schedule: \(s.schedule.canonicalWord)")
    var t = Table(
      ["step", "thread", "TID", "CPU", "does", "its register", "counter after"], rightAligned: [0, 5, 6])
    for (k, step) in s.steps.enumerated() {
      t.add([
        "\(k + 1)", "t\(step.entry.thread + 1)", r.tid(step.tid), r.count(step.cpu),
        step.entry.step.rawValue + (step.entry.implied ? " (implied)" : ""), "\(step.register)",
        "\(step.counter)",
      ])
    }
    r.lines(t.lines)
    r.line(
      "\(s.increments) increments, counter \(s.counter): \(s.lost == 0 ? "nothing lost" : "\(s.lost) update\(s.lost == 1 ? "" : "s") lost")"
    )
    let expected = free.expected
    r.line(
      "free run, no schedule: 2 threads × \(ThreadWork.grouped(expected / 2)) increments: counter \(r.note(ThreadWork.grouped(free.got), .int)) of \(ThreadWork.grouped(expected)), \(r.note(ThreadWork.grouped(free.lost), .int)) lost"
    )
    let overwritten = overwrites(s)
    r.fact("schedule", s.schedule.canonicalWord)
    r.fact("increments", s.increments)
    r.fact("counter", s.counter)
    r.fact("lost", s.lost)
    r.fact("tids", s.tids.map { Int($0) })
    r.fact(
      "steps",
      JSON.array(
        s.steps.map {
          [
            "thread": .int($0.entry.thread + 1), "step": .string($0.entry.step.rawValue),
            "implied": .bool($0.entry.implied), "register": .int($0.register), "counter": .int($0.counter),
            "tid": .int(Int($0.tid)), "cpu": .int($0.cpu),
          ] as JSON
        }))
    var freeFacts = JSONObject()
    freeFacts["expected"] = .int(expected)
    freeFacts["got"] = .int(free.got)
    freeFacts["lost"] = .int(free.lost)
    r.fact("free_run", JSON.object(freeFacts))
    var text: String
    if s.lost > 0 {
      text =
        "Two real threads (TIDs \(s.tids.map(String.init).joined(separator: " and "))) ran your steps in your order: each waited for the turn before touching the counter. "
        + overwritten.joined(separator: " ")
        + " \(s.increments) increments left the counter at \(s.counter): \(s.lost) lost, exactly as the schedule dictates."
    } else {
      text =
        "No update was lost: in your schedule no thread loaded the counter while the other held a loaded value it had not stored yet, so every store built on the previous one."
    }
    text +=
      free.lost > 0
      ? " Without a schedule the real scheduler picks the interleaving: in the free run \(ThreadWork.grouped(free.lost)) of \(ThreadWork.grouped(expected)) increments were lost, because interleavings that lose updates happen whenever both threads run at once on two CPUs, or a time slice ends between a thread's load and its store."
      : " Without a schedule the real scheduler picks the interleaving: this time the free run lost nothing (the two threads hardly overlapped — the machine may be busy), but nothing prevents the losing interleavings; run it again."
    r.explain(
      text,
      more:
        "Each thread's register is a local variable of its own: a load copies the counter into it, add changes only the copy, and store writes the copy back, overwriting whatever the other thread stored meanwhile. A mutex around load-add-store (race --lock) forbids exactly the schedules that lose updates; an atomic add makes the three steps one instruction that no schedule can split."
    )
    return r
  }

  /// Sentences naming each store that overwrote the other thread's update.
  static func overwrites(_ s: RaceExperiment.ScheduleResult) -> [String] {
    var loaded = [0, 0]
    var counter = 0
    var out: [String] = []
    for step in s.steps {
      let me = step.entry.thread
      switch step.entry.step {
      case .load: loaded[me] = step.register
      case .add: break
      case .store:
        if counter != loaded[me] {
          out.append(
            "t\(me + 1) had loaded \(loaded[me]), but the counter was \(counter) when it stored \(step.register): t\(2 - me)'s update was overwritten."
          )
        }
        counter = step.counter
      }
    }
    return out
  }
}
