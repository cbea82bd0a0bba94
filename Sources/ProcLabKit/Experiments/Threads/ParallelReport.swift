/// What `parallel` prints: a table of runs, a bar chart, the last run's
/// timeline, and an explanation that claims only what the CPU column and the
/// affinity mask support.
enum ParallelReport {
  typealias Run = ParallelExperiment.Run

  static func render(_ res: ParallelExperiment.Result) -> Report {
    let r = Report()
    let runs = res.runs
    let base = runs[0]
    let n = runs[runs.count - 1].workers
    let kinds = res.processes ? "processes" : "threads"
    let lockText =
      res.gil
      ? (res.processes
        ? ", each process holding its own lock"
        : ", each holding one global lock while computing (handed over every 5 ms)")
      : ""
    r.line(
      "\(r.count(Int(res.units))) units of CPU work (about \(res.workMS) ms on one core; \(r.seconds(res.perUnit / 1e9)) each), split over 1…\(n) \(n == 1 ? res.kind : kinds)\(lockText) on \(cpuWords(res, r))"
    )
    var t = Table(
      [kinds, "wall time", "CPU time", "speedup", "CPUs used", "other programs"],
      rightAligned: [0, 1, 2, 3, 5])
    var chart = BarChart(width: 24)
    for run in runs {
      let speedup = Double(base.wall) / Double(max(1, run.wall))
      let cpus = Set(run.tracks.flatMap(\.cpus)).sorted().map(String.init).joined(separator: ",")
      t.add([
        "\(run.workers)", r.seconds(Double(run.wall) / 1e9), r.seconds(Double(run.cpu) / 1e9),
        r.note(Units.ratio(speedup), .float), r.note(cpus, .text), "\(r.number(run.othersCores)) cores",
      ])
      chart.add(
        "\(run.workers) \(run.workers == 1 ? res.kind : kinds)", Double(run.wall),
        Units.duration(seconds: Double(run.wall) / 1e9))
    }
    t.short = [1: "wall", 2: "CPU", 4: "CPUs", 5: "others"]
    r.table(t)
    r.line("wall time:")
    r.chart(chart)
    let last = runs[runs.count - 1]
    let lockedThreads = res.gil && !res.processes
    if last.workers > 1 {
      r.line(
        "who ran when with \(last.workers) \(kinds)\(lockedThreads ? " (drawn only while holding the global lock)" : ""):"
      )
      ThreadWork.timeline(
        last.tracks, r: r, idleLegend: lockedThreads ? "waiting for the lock" : "not computing",
        processes: res.processes)
    }
    let checksumsEqual = Set(runs.map(\.checksum)).count == 1
    r.line(
      "checksum \(r.note("0x" + String(base.checksum, radix: 16), .word)) \(checksumsEqual ? "in every run: the same work was really done each time" : "DIFFERED between runs")"
    )
    facts(res, checksumsEqual: checksumsEqual, into: r)
    explain(res, r: r)
    return r
  }

  /// `2 CPUs`, or `CPU 0 only (of 2 online)` when the affinity mask allows fewer.
  static func cpuWords(_ res: ParallelExperiment.Result, _ r: Report) -> String {
    let allowed = res.allowedCPUs
    if allowed.count < res.onlineCPUs {
      let list = allowed.map(String.init).joined(separator: ",")
      return
        "\(allowed.count == 1 ? "CPU" : "CPUs") \(r.note(list, .text)) only (of \(r.count(res.onlineCPUs)) online)"
    }
    return "\(r.count(allowed.count)) CPUs"
  }

  static func facts(_ res: ParallelExperiment.Result, checksumsEqual: Bool, into r: Report) {
    let base = res.runs[0]
    let last = res.runs[res.runs.count - 1]
    r.fact("kind", res.kind)
    r.fact("workers", last.workers)
    r.fact("gil", res.gil)
    r.fact("cores", res.allowedCPUs.count)
    r.fact("online_cpus", res.onlineCPUs)
    r.fact("allowed_cpus", res.allowedCPUs)
    r.fact("units", Int(res.units))
    r.fact("checksums_equal", checksumsEqual)
    r.fact("speedup", Double(base.wall) / Double(max(1, last.wall)))
    r.fact("baseline_cpu_share", Double(base.cpu) / Double(max(1, base.wall)))
    r.fact("others_cores", last.othersCores)
    r.fact("parallel_ns", Int(last.parallelTime))
    r.fact("switch_interval_ns", Int(ParallelExperiment.switchInterval.nanoseconds))
    r.fact("handoffs", last.handoffs)
    r.fact(
      "runs",
      JSON.array(
        res.runs.map { run in
          var o = JSONObject()
          o["workers"] = .int(run.workers)
          o["wall_ns"] = .int(Int(run.wall))
          o["cpu_ns"] = .int(Int(run.cpu))
          o["speedup"] = .double(Double(base.wall) / Double(max(1, run.wall)))
          o["others_cores"] = .double(run.othersCores)
          o["parallel_ns"] = .int(Int(run.parallelTime))
          o["handoffs"] = .int(run.handoffs)
          o["ids"] = .array(run.tracks.map { .int(Int($0.tid)) })
          o["cpus"] = .array(run.tracks.map { .array($0.cpus.map { .int($0) }) })
          o["longest_hold_ns"] = .int(Int(run.tracks.flatMap(\.slices).map { $0.end &- $0.start }.max() ?? 0))
          return .object(o)
        }))
  }

  /// `, while the total CPU time stayed about the same` only when it did (within 25%).
  static func cpuTotal(_ base: ParallelExperiment.Run, _ last: ParallelExperiment.Run) -> String {
    let ratio = Double(last.cpu) / Double(max(1, base.cpu))
    return abs(ratio - 1) <= 0.25
      ? ", while the total CPU time stayed about the same"
      : "; the total CPU time was \(Units.ratio(ratio)) that of one worker"
  }

  /// Whether the timeline can show the global lock's turns: only when a turn spans at least two
  /// of its columns. Otherwise the rows look solid and only the count of forced switches shows them.
  static func turnsVisibility(_ run: ParallelExperiment.Run) -> String {
    let turns = run.tracks.flatMap(\.slices).map { Double($0.end &- $0.start) }.sorted()
    guard !turns.isEmpty else { return "" }
    let turn = turns[turns.count / 2]
    let column = Double(run.wall) / Double(ThreadWork.timelineColumns)
    if turn >= 2 * column { return ", so the timeline shows the threads taking turns" }
    return
      ": each turn (about \(Units.duration(seconds: turn / 1e9))) is shorter than two columns of the timeline (one is \(Units.duration(seconds: column / 1e9))), so its rows look solid and cannot show the turns; the forced switches count them"
  }

  static func explain(_ res: ParallelExperiment.Result, r: Report) {
    let runs = res.runs
    let base = runs[0]
    let last = runs[runs.count - 1]
    let k = last.workers
    let s = Double(base.wall) / Double(max(1, last.wall))
    let cpuRatio = Double(last.cpu) / Double(max(1, last.wall))
    let plural = res.processes ? "processes" : "threads"
    let allowed = res.allowedCPUs
    let usedCPUs = Set(last.tracks.flatMap(\.cpus))
    let together = Double(last.parallelTime) / Double(max(1, last.wall))
    var parts: [String] = []
    if k == 1 {
      parts.append("One worker: nothing to compare. Try --\(plural) 2.")
    } else if allowed.count == 1 {
      parts.append(
        "This process may run only on CPU \(allowed[0]) (its affinity mask, read with sched_getaffinity: taskset or a cpuset set it), and its \(plural) inherit that mask: the \(k) \(plural) took turns on that one CPU, so \(Units.ratio(s)) is no real speedup. Without the restriction they could run at the same instant on \(res.onlineCPUs) CPUs."
      )
    } else if res.gil && !res.processes {
      parts.append(
        "With one global lock only the thread holding it computes: \(k) threads were \(Units.ratio(s)) as fast as one, with \(Units.fixed(cpuRatio, digits: 1)) cores busy on average"
          + (s > 1.3
            ? " — more than one lock allows, so the runs were disturbed and do not compare this time; run it again."
            : ".")
          + " A thread that wanted the lock waited until the holder had run one switch interval (5 ms) and handed it over (\(last.handoffs) forced switches)"
          + turnsVisibility(last) + "."
      )
      parts.append(
        "CPython's global interpreter lock works like this for Python code (sys.getswitchinterval() is 0.005 s by default), which is why 'use multiprocessing for CPU-bound work' is Python advice: each process has its own interpreter and lock. CPython releases the lock in blocking I/O and in C extensions that ask for it (hashlib on large data, zlib, NumPy), which then run in parallel, and since 3.13 it has an optional free-threaded build without the lock."
      )
    } else {
      let expected = Double(min(k, allowed.count))
      if s >= 1.3 && usedCPUs.count >= 2 && together > 0.3 {
        parts.append(
          "\(k) \(plural) finished the same work \(Units.ratio(s)) faster than one: for \(Units.percent(together)) of the time at least two of them computed at the same instant on different CPUs (CPUs \(usedCPUs.sorted().map(String.init).joined(separator: ",")); \(Units.fixed(cpuRatio, digits: 1)) cores busy on average)"
            + cpuTotal(base, last) + "."
        )
      } else if s >= 1.3 {
        parts.append(
          "\(k) \(plural) finished the same work \(Units.ratio(s)) faster than one (\(Units.fixed(cpuRatio, digits: 1)) cores busy on average)"
            + cpuTotal(base, last) + "."
        )
      } else {
        parts.append(
          "\(k) \(plural) were only \(Units.ratio(s)) as fast as one, where the \(allowed.count) CPUs allow up to \(Units.ratio(expected))"
            + (usedCPUs.count < 2
              ? ": the records show every worker on CPU \(usedCPUs.sorted().map(String.init).joined(separator: ",")) only, and one CPU runs one of them at a time."
              : "."))
      }
      if s < expected * 0.8 && last.othersCores > 0.3 {
        parts.append(
          "Other programs kept \(Units.fixed(last.othersCores, digits: 1)) of the \(allowed.count) cores busy during the \(k)-worker run, so the workers could not \(s >= 1.3 ? "always " : "")run at once. The scheduler shares the cores among every runnable thread on the machine, so the workers took turns with those programs. Run it again when the machine is quieter."
        )
      }
      if res.gil {
        parts.append("Each process had its own lock, so the locks never made one process wait for another.")
      }
    }
    if !res.processes {
      parts.append(
        res.gil
          ? "C and Swift have no such lock: their threads can run CPU-bound work on every CPU the process may use (run 'parallel' without --gil)."
          : "C and Swift threads need no processes for this: there is no global lock, and threads share memory for free."
      )
    }
    r.explain(
      parts.joined(separator: " "),
      more:
        "Wall time is how long you waited; CPU time is the sum of what every worker computed. Splitting CPU-bound work helps only up to the number of CPUs the process may use (its affinity mask) that are free; beyond that workers take turns. Waiting for many things from one thread (poll, epoll, an event loop) does not help CPU-bound work: computing still needs a core. Threads start faster than processes (no new address space) and share the heap; processes isolate memory and, in runtimes with a global lock, each brings its own lock."
    )
  }
}
