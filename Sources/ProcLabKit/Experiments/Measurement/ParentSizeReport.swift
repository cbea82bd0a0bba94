import Glibc

/// `cost --parent-size SIZE`: fork and posix_spawn from proclab-forker while its
/// private resident memory grows ×4 from 1 MiB up to SIZE, and once from a
/// mapping of SIZE that is never touched.
enum ParentSizeReport {
  struct Step {
    var label: String
    var target: Int
    var size: SmallForker.Size
    var fork: Samples
    var spawn: Samples
  }

  /// 1M, 4M, 16M, … below `limit`, then `limit` itself.
  static func sizes(upTo limit: Int) -> [Int] {
    var out: [Int] = []
    var s = 1 << 20
    while s < limit {
      out.append(s)
      s *= 4
    }
    return out + [limit]
  }

  /// MemAvailable from /proc/meminfo, in bytes.
  static func availableMemory() -> Int? {
    guard let text = ProcFS.read("/proc/meminfo"),
      let line = text.split(separator: "\n").first(where: { $0.hasPrefix("MemAvailable:") }),
      let kib = Int(line.split(separator: " ").dropFirst().first ?? "")
    else { return nil }
    return kib * 1024
  }

  static func run(upTo limit: Int, maxSamples: Int, session: Session) throws -> Report {
    if let available = availableMemory(), limit > available / 2 {
      throw UsageError(
        "cost: --parent-size \(Units.bytes(limit)) needs that much free memory, and this machine has \(Units.bytes(available)) available (MemAvailable); try a size under half of it"
      )
    }
    guard let tiny = TinyProgram() else {
      throw UsageError(
        "cost: --parent-size needs the tiny static program, which this machine's architecture lacks")
    }
    defer { tiny.close() }
    let forker = try SmallForker(program: tiny)
    defer { forker.close() }

    /// A few samples to warm up and learn the cost (thrown away), then as many as fit in
    /// about 150 ms (5…maxSamples).
    func measure(_ kind: SmallForker.Kind) throws -> Samples {
      try Interrupt.check()
      let first = try forker.samples(5, of: kind).map { Double($0.nanoseconds) }
      let each = max(1, first.sorted()[2])
      let count = max(5, min(maxSamples, Int(150e6 / each)))
      var s = Samples()
      for x in try forker.samples(count, of: kind) { s.add(Double(x.nanoseconds)) }
      return s
    }

    let targets = sizes(upTo: limit)
    let total = Double(targets.count + 2)
    defer { session.progressDone() }
    let started = MonotonicClock.nanoseconds()
    var steps: [Step] = []
    session.progress("cost --parent-size", fraction: 0)
    _ = try forker.samples(10, of: .fork)
    _ = try forker.samples(10, of: .spawn)
    steps.append(
      Step(
        label: "as started", target: 0, size: forker.size, fork: try measure(.fork),
        spawn: try measure(.spawn)))
    // The same size mapped but never touched: a mapping, no resident pages.
    session.progress("cost --parent-size", fraction: 1 / total)
    try forker.mapUntouched(limit)
    let untouched = Step(
      label: "+\(ByteSize(limit).canonicalWord) untouched", target: limit, size: forker.size,
      fork: try measure(.fork),
      spawn: try measure(.spawn))
    try forker.unmapUntouched()
    var grown = 0
    for (i, target) in targets.enumerated() {
      session.progress("cost --parent-size", fraction: Double(i + 2) / total)
      try Interrupt.check()
      try forker.grow(by: target - grown)
      grown = target
      steps.append(
        Step(
          label: "+" + ByteSize(target).canonicalWord, target: target, size: forker.size,
          fork: try measure(.fork),
          spawn: try measure(.spawn)))
    }
    return report(
      steps: steps, untouched: untouched, forker: forker.pid, elapsed: MonotonicClock.since(started))
  }

  static func report(steps: [Step], untouched: Step, forker: Int32, elapsed: Duration) -> Report {
    let r = Report()
    r.line(
      "fork and posix_spawn from proclab-forker (pid \(r.pid(forker))) as its private memory grows, every page touched (4 KiB pages), in \(r.duration(elapsed)):"
    )
    var t = Table(
      ["parent", "private resident", "mappings", "fork + wait", "posix_spawn + wait"],
      rightAligned: [1, 2, 3, 4])
    for s in steps + [untouched] {
      t.add([
        s.label, r.note(Units.bytes(s.size.anonymousBytes), .text), r.count(s.size.mappings),
        r.ns(s.fork.median),
        r.ns(s.spawn.median),
      ])
    }
    r.table(t)
    r.line(
      "  (medians; +SIZE: private memory added and written; untouched: mapped, never written, not resident)")
    r.line()
    var chart = BarChart(width: 30, logarithmic: true)
    for s in steps {
      chart.add("\(s.label) fork", s.fork.median, Units.duration(seconds: s.fork.median / 1e9))
      chart.add(
        "\(String(repeating: " ", count: s.label.count)) spawn", s.spawn.median,
        Units.duration(seconds: s.spawn.median / 1e9))
    }
    r.chart(chart)
    r.line("  (logarithmic: each step of ×4 in memory is one step to the right)")

    // From the first grown step: the helper as started has had no time to warm up its caches.
    let first = steps.count > 2 ? steps[1] : steps.first!
    let last = steps.last!
    let addedMiB = Double(last.size.anonymousBytes - first.size.anonymousBytes) / 1_048_576
    let perMiB = addedMiB > 0 ? (last.fork.median - first.fork.median) / addedMiB : 0
    r.fact(
      "steps",
      JSON.array(
        steps.map { s in
          [
            "label": .string(s.label), "target_bytes": .int(s.target),
            "anon_rss_bytes": .int(s.size.anonymousBytes),
            "rss_bytes": .int(s.size.residentBytes), "mappings": .int(s.size.mappings), "fork": s.fork.json,
            "spawn": s.spawn.json,
          ]
        }))
    r.fact(
      "untouched",
      [
        "bytes": .int(untouched.target), "anon_rss_bytes": .int(untouched.size.anonymousBytes),
        "mappings": .int(untouched.size.mappings), "fork": untouched.fork.json, "spawn": untouched.spawn.json,
      ] as JSON)
    r.fact("fork_ns_per_mib", perMiB)
    r.fact("forker_pid", Int(forker))
    r.fact("elapsed_ns", Int(elapsed.nanoseconds))

    func d(_ ns: Double) -> String { Units.duration(seconds: ns / 1e9) }
    let forkGrowth = last.fork.median / max(1, first.fork.median)
    let spawnGrowth = last.spawn.median / max(1, first.spawn.median)
    let mappings = steps.map(\.size.mappings)
    r.explain(
      "fork grew from \(d(first.fork.median)) to \(d(last.fork.median)) (\(Units.ratio(forkGrowth))) as the parent's "
        + "private resident memory grew from \(Units.bytes(first.size.anonymousBytes)) to "
        + "\(Units.bytes(last.size.anonymousBytes)): about \(d(perMiB)) per MiB, which is 256 page-table entries "
        + "copied, and torn down again when the child exits. posix_spawn went from \(d(first.spawn.median)) to "
        + "\(d(last.spawn.median)) (\(Units.ratio(spawnGrowth))): it copies none of them.",
      more:
        "What fork pays for is resident private pages, not mappings or address space: the mappings stayed between "
        + "\(mappings.min() ?? 0) and \(mappings.max() ?? 0) (the kernel merges neighbouring anonymous mappings), "
        + "and \(untouched.label), one mapping as large as the largest step but never written, so without a "
        + "resident page or a page-table entry, cost fork \(d(untouched.fork.median)). Copy-on-write defers copying "
        + "the pages, not their entries. glibc's posix_spawn uses clone(CLONE_VM|CLONE_VFORK): the child runs in the "
        + "parent's memory until execve replaces it, which is why large programs (the JVM, or this shell) start "
        + "programs with posix_spawn rather than fork. The pages are 4 KiB here (MADV_NOHUGEPAGE); with transparent "
        + "huge pages a 2 MiB page has one entry to copy instead of 512.")
    return r
  }
}
