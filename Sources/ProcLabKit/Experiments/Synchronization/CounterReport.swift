/// What `counter` prints: time, throughput and what a reader of the global
/// counter saw, per mode or per thread count; and the false-sharing ratio.
enum CounterReport {
  static func name(_ r: CounterBench.Result, threshold: Int) -> String {
    switch r.mode {
    case .exact: "exact (mutex)"
    case .sloppy: "sloppy S=\(threshold)"
    case .perThread: "per-thread, \(r.padded ? "padded" : "packed")"
    }
  }

  static func rate(_ res: CounterBench.Result) -> Double {
    Double(res.threads * res.increments) / max(1e-9, Double(res.wall) / 1e9)
  }

  /// `123.4 M/s`
  static func rateText(_ x: Double) -> String {
    x >= 1e9
      ? Units.fixed(x / 1e9, digits: 2) + " G/s"
      : x >= 1e6 ? Units.fixed(x / 1e6, digits: 1) + " M/s" : Units.fixed(x / 1e3, digits: 0) + " k/s"
  }

  /// `threadsFixed`: --threads was given (the default is this machine's CPU count).
  static func render(_ res: CounterExperiment.Result, threadsFixed: Bool = false) -> Report {
    let r = Report()
    let overview = res.mode == .overview
    // Every way of counting ends with threads × increments, and what a reader saw before the
    // last flush follows from them too: literal wherever the row's thread count is.
    let countsFixed = !overview || threadsFixed
    func counted(_ n: Int) -> String {
      countsFixed ? ThreadWork.grouped(n) : r.note(ThreadWork.grouped(n), .int)
    }
    let threadCount = res.runs.first?.threads ?? 0
    r.line(
      overview
        ? "\(threadsFixed ? String(threadCount) : r.count(threadCount)) threads × \(ThreadWork.grouped(res.increments)) increments, three ways of counting"
        : "\(name(res.runs[0], threshold: res.threshold)): 1…\(res.runs.last?.threads ?? 1) threads × \(ThreadWork.grouped(res.increments)) increments each"
    )
    var t = Table(
      [overview ? "counter" : "threads", "time", "increments/s", "global counter seen", "total"],
      rightAligned: overview ? [1, 2, 3, 4] : [0, 1, 2, 3, 4])
    for run in res.runs {
      t.add([
        overview ? name(run, threshold: res.threshold) : "\(run.threads)",
        r.duration(.nanoseconds(Int64(run.wall))),
        r.note(rateText(rate(run)), .text), counted(run.seenBeforeFlush), counted(run.total),
      ])
    }
    t.short = [3: "seen"]
    r.table(t)
    r.line(
      "global counter seen: what a reader of the shared counter saw when every thread had finished counting")
    r.line("each row: the median of \(CounterExperiment.tableRounds) runs, made in alternating rounds")
    if let packed = res.packed, let padded = res.padded {
      r.line(
        "median of \(CounterExperiment.comparisonRounds) alternating runs, the same \(packed.threads) threads, counters \(packed.addresses.count > 1 ? "\(packed.addresses[1] - packed.addresses[0]) bytes apart (packed)" : "packed"): \(r.duration(.nanoseconds(Int64(packed.wall)))); \(padded.addresses.count > 1 ? "\(padded.addresses[1] - padded.addresses[0]) bytes apart (padded)" : "padded"): \(r.duration(.nanoseconds(Int64(padded.wall))))"
      )
      r.line(
        "threads counting at the same time (their intervals overlapping): \(r.note(Units.percent(packed.together), .float)) of the packed run, \(r.note(Units.percent(padded.together), .float)) of the padded one"
      )
      r.fact("false_sharing_ratio", Double(packed.wall) / Double(max(1, padded.wall)))
      r.fact("packed_together", packed.together)
      r.fact("padded_together", padded.together)
      r.fact("packed_wall_ns", packed.wall)
      r.fact("padded_wall_ns", padded.wall)
      r.fact("packed_addresses", packed.addresses.map { Int(bitPattern: $0) })
      r.fact("padded_addresses", padded.addresses.map { Int(bitPattern: $0) })
    }
    r.fact("mode", overview ? "overview" : res.runs[0].mode.rawValue)
    r.fact("threshold", res.threshold)
    r.fact("increments", res.increments)
    r.fact(
      "runs",
      JSON.array(
        res.runs.map { run in
          [
            "mode": .string(run.mode.rawValue), "threads": .int(run.threads), "padded": .bool(run.padded),
            "wall_ns": .int(run.wall), "per_second": .double(rate(run)), "seen": .int(run.seenBeforeFlush),
            "total": .int(run.total), "expected": .int(run.threads * run.increments),
            "addresses": .array(run.addresses.map { .int(Int(bitPattern: $0)) }),
          ] as JSON
        }))
    r.explain(explanation(res), more: more(lineSize: res.lineSize))
    return r
  }

  static func explanation(_ res: CounterExperiment.Result) -> String {
    var parts: [String] = []
    let allExact = (res.runs + [res.packed, res.padded].compactMap { $0 }).allSatisfy {
      $0.total == $0.threads * $0.increments
    }
    parts.append(
      allExact
        ? "Every run counted every increment in the end."
        : "Surprise: some totals differ from threads × increments.")
    if res.mode == .overview, res.runs.count == 3 {
      parts.append(overviewSentence(res))
    } else if res.runs.count > 1 {
      parts.append(scalingSentence(res))
    }
    if let packed = res.packed, let padded = res.padded {
      parts.append(falseSharingSentence(packed: packed, padded: padded))
    }
    return parts.joined(separator: " ")
  }

  /// What would give a clearer run: more increments than this run had, up to the most the
  /// option allows; beyond that only another try (or a quieter machine) helps.
  static func moreAdvice(_ res: CounterExperiment.Result) -> String {
    res.increments < 10_000_000
      ? "--increments 10000000 would show it"
      : res.increments < 50_000_000
        ? "--increments 50000000 runs longer" : "run it again, on a machine with less else to do"
  }

  /// One time is said to be shorter than another only when it is clearly shorter (this factor).
  static let clearly = 1.2

  /// The three ways compared: what each does (facts), and "faster" only where the times show it.
  static func overviewSentence(_ res: CounterExperiment.Result) -> String {
    let (e, s, p) = (res.runs[0], res.runs[1], res.runs[2])
    func d(_ run: CounterBench.Result) -> String { Units.duration(.nanoseconds(Int64(run.wall))) }
    var text =
      "The exact counter took \(d(e)): every increment takes and releases the mutex. The sloppy one, which touches the shared counter once every \(res.threshold) increments, took \(d(s)); the per-thread one, which never does, took \(d(p))."
    let faster = [("sloppy", s), ("per-thread", p)].filter { Double($0.1.wall) * clearly <= Double(e.wall) }
    let notFaster = [("sloppy", s), ("per-thread", p)].filter { Double($0.1.wall) * clearly > Double(e.wall) }
    if !faster.isEmpty {
      text +=
        " Compared with the exact counter, "
        + faster.map {
          "the \($0.0) one was \(Units.ratio(Double(e.wall) / Double(max(1, $0.1.wall)))) as fast"
        }
        .joined(separator: " and ") + "."
    }
    if !notFaster.isEmpty {
      text +=
        " This run does not show the \(notFaster.map(\.0).joined(separator: " or ")) counter faster than the exact one: the runs are too short or too disturbed to judge (\(moreAdvice(res)))."
    }
    if Double(s.wall) >= Double(p.wall) * clearly {
      // The loops differ in more than the flushes: the sloppy one also compares its local count
      // with S at every increment (measured, one thread, 10M increments, release: S = 1024 7.0 ms,
      // S = 1,000,000 6.9 ms, per-thread 2.9 ms; a plain-C loop of the same shape 4.4, 5.1, 2.9 ms).
      text +=
        " The gap between sloppy and per-thread is not only the flushes: the sloppy loop also compares its local count with S at every increment (`counter --sloppy 1000000` flushes almost never: compare)."
    }
    text +=
      " A reader of the sloppy global counter saw \(ThreadWork.grouped(s.seenBeforeFlush)) of \(ThreadWork.grouped(s.total)) when counting was over (it lags by up to threads × (S−1)), and per-thread counters must be summed to be read at all."
    return text
  }

  /// From 1 to N threads: "scale" only when throughput grew clearly, and by no more than the CPUs
  /// this process may use allow (with a little slack for noise): more than that is not parallelism
  /// but a disturbed 1-thread run.
  static func scalingSentence(_ res: CounterExperiment.Result) -> String {
    guard let first = res.runs.first, let last = res.runs.last else { return "" }
    let scale = rate(last) / max(1, rate(first))
    let most = Double(min(last.threads, max(1, res.cpus)))
    let head =
      "From 1 to \(last.threads) threads the throughput went from \(rateText(rate(first))) to \(rateText(rate(last))) (\(Units.ratio(scale)))"
    let cpus = "\(res.cpus) CPU\(res.cpus == 1 ? "" : "s")"
    if scale > most * 1.15 {
      return head
        + ", more than the \(cpus) this process may use can give: the runs are too short or too disturbed to judge (\(moreAdvice(res)))."
    }
    switch first.mode {
    case .exact:
      return head
        + (scale < clearly
          ? ": more threads did not count faster: every increment takes the one mutex, so only one thread counts at a time."
          : ". Every increment takes the one mutex; this run does not show the threads queueing for it.")
    case .sloppy, .perThread:
      let how =
        first.mode == .sloppy
        ? "threads touch the shared counter once every \(res.threshold) increments"
        : "each thread writes only its own counter"
      if scale >= clearly {
        return head
          + ": \(how), so more threads counted faster (at most \(Units.ratio(most)) is possible with \(last.threads) threads on the \(cpus) this process may use)"
          + (first.mode == .sloppy
            ? "; a reader sees up to threads × (S−1) less than the truth."
            : " — if the counters do not share a cache line.")
      }
      return head
        + ": \(how), yet more threads did not count faster here. With \(cpus) to use, "
        + (res.cpus < 2
          ? "the threads can only take turns."
          : "the runs are too short or too disturbed to judge (\(moreAdvice(res))).")
    }
  }

  /// False sharing is named only when the packed run took clearly longer and its threads counted
  /// at the same time for most of it.
  static func falseSharingSentence(packed: CounterBench.Result, padded: CounterBench.Result) -> String {
    let ratio = Double(packed.wall) / Double(max(1, padded.wall))
    let together = Units.percent(packed.together)
    if ratio > 1.3 && packed.together >= 0.5 {
      return
        "False sharing: with the counters packed into one cache line the same work took \(Units.ratio(ratio)) as long, with the threads counting at the same time for \(together) of it. No counter is shared, but the line is: each write by one CPU invalidates the other CPUs' copies, and the line travels back and forth."
    }
    if ratio > 1.3 {
      return
        "Packed took \(Units.ratio(ratio)) as long as padded, but its threads counted at the same time for only \(together) of it: this run cannot tell false sharing from other load on the machine."
    }
    if packed.together < 0.5 {
      return
        "Packed and padded took about as long this time (\(Units.ratio(ratio))), but the threads counted at the same time for only \(together) of the packed run: false sharing needs them on different CPUs at once."
    }
    return
      "Packed and padded took about as long this time (\(Units.ratio(ratio))), although the threads' counting overlapped for \(together) of the run: this run does not show false sharing. Overlapping in time is not the same as running on two CPUs at once (another program may have had one of them), and how much a shared line costs depends on the CPUs: runs on an idle machine would show it."
  }

  /// The second explanation; the line size is the one the kernel reported, when it did.
  static func more(lineSize: Int?) -> String {
    let lines =
      lineSize.map { "lines of \($0) bytes on this machine" } ?? "lines (64 bytes on most x86-64 CPUs)"
    return
      "Caches move memory between CPUs in \(lines); a CPU must own a line to write it. An exact shared counter makes every increment a transfer of that line when threads on different CPUs take turns (and a mutex adds its own line); approximate counters (per-CPU counters in the Linux kernel, OSTEP's sloppy counter) trade a bounded error for speed; per-thread counters are exact but must be summed to be read. Padding puts each counter on its own line; proclab puts them 128 bytes apart because some CPUs (Intel's, with their adjacent-line prefetcher) fetch lines in pairs."
  }
}
