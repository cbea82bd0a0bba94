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
    r.lines(t.lines)
    r.line(
      "global counter seen: what a reader of the shared counter saw when every thread had finished counting")
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
    r.explain(explanation(res), more: more)
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
      let (e, s, p) = (res.runs[0], res.runs[1], res.runs[2])
      parts.append(
        "The exact counter took \(Units.duration(.nanoseconds(Int64(e.wall)))): every increment takes the mutex, so the threads queue for it and its cache line moves between CPUs. The sloppy one took \(Units.duration(.nanoseconds(Int64(s.wall)))) and the per-thread one \(Units.duration(.nanoseconds(Int64(p.wall)))), but a reader of the sloppy global counter saw \(ThreadWork.grouped(s.seenBeforeFlush)) of \(ThreadWork.grouped(s.total)) when counting was over (it lags by up to threads × (S−1)), and per-thread counters must be summed to be read at all."
      )
    } else if let first = res.runs.first, let last = res.runs.last, res.runs.count > 1 {
      let scale = rate(last) / max(1, rate(first))
      parts.append(
        "From 1 to \(last.threads) threads the throughput went from \(rateText(rate(first))) to \(rateText(rate(last))) (\(Units.ratio(scale)))"
          + (first.mode == .exact
            ? ": more threads only queue longer for one mutex."
            : first.mode == .sloppy
              ? ": threads touch the shared counter once every \(res.threshold) increments, so they scale; a reader sees up to threads × (S−1) less than the truth."
              : ": each thread writes only its own counter, so they scale — if the counters do not share a cache line.")
      )
    }
    if let packed = res.packed, let padded = res.padded {
      let ratio = Double(packed.wall) / Double(max(1, padded.wall))
      parts.append(
        ratio > 1.3
          ? "False sharing: with the counters packed into one cache line the same work took \(Units.ratio(ratio)) as long. No counter is shared, but the line is: each write by one CPU invalidates the other CPUs' copies, and the line travels back and forth."
          : packed.together < 0.5
            ? "Packed and padded took about as long this time (\(Units.ratio(ratio))), but the threads counted at the same time for only \(Units.percent(packed.together)) of the packed run: false sharing needs them on different CPUs at once; on a busy machine, or with one CPU, they take turns and the line does not travel."
            : "Packed and padded took about as long this time (\(Units.ratio(ratio))), although the threads' counting overlapped for \(Units.percent(packed.together)) of the run: overlapping in time is not the same as running on two CPUs at once (another program may have had one of them); on an idle machine the packed counters are markedly slower."
      )
    }
    return parts.joined(separator: " ")
  }

  static let more =
    "Caches move memory between CPUs in lines of 64 bytes; a CPU must own a line to write it. An exact shared counter makes every increment a transfer of that line (and a mutex adds its own line); approximate counters (per-CPU counters in the Linux kernel, OSTEP's sloppy counter) trade a bounded error for speed; per-thread counters are exact but must be summed to be read. Padding each to its own line (128 bytes here, because CPUs also prefetch the neighbouring line) removes false sharing."
}
