/// The table, facts and explanation of `switch`.
extension SwitchCommand {
  static func report(_ m: Measurement) -> Report {
    let r = Report()
    if let cpu = m.cpu {
      r.line(
        "ping-pong over two pipes, \(m.iterations) round trips per pair, all pinned to CPU \(r.count(Int(cpu))) (sched_setaffinity), in \(r.duration(m.elapsed)):"
      )
    } else {
      r.line(
        "ping-pong over two pipes, \(m.iterations) round trips per pair, NOT pinned (sched_setaffinity failed: \(m.pinFailure ?? "?")), in \(r.duration(m.elapsed)):"
      )
    }
    var t = Table(
      ["pair", "partner", "per switch", "p10 – p90", "switch alone", "switches counted"],
      rightAligned: [2, 4])
    for p in m.partners {
      let row = m.rows[p]!
      let s = row.samples
      let partner: String =
        switch p {
        case .thread: "tid \(r.tid(row.partnerID))"
        case .process: "pid \(r.pid(row.partnerID))"
        case .none: "(one thread)"
        }
      let voluntary = row.callerVoluntary + row.partnerVoluntary
      let involuntary = row.callerInvoluntary + row.partnerInvoluntary
      t.add([
        name(p), partner, r.ns(s.median), "\(r.ns(s.percentile(0.1))) – \(r.ns(s.percentile(0.9)))",
        m.alone(p).map { r.ns($0) } ?? "—",
        "\(r.count(voluntary + involuntary)) (\(r.count(voluntary)) + \(r.count(involuntary)))",
      ])
    }
    // At 80 columns the switch counts move under their row.
    t.short = [3: "p10–p90", 4: "alone", 5: "switches (vol + invol)"]
    t.stackable = [5]
    r.table(t)
    r.line("  per switch = half a round trip: one write, one read and one switch")
    r.line(
      "  switch alone = per switch minus \"no switch\", the same pipe calls in one thread (as lmbench's lat_ctx)"
    )
    r.line("  switches counted = voluntary + involuntary, both sides (getrusage), for the whole run")
    r.line()
    var chart = BarChart(width: 30)
    for p in m.partners {
      chart.add(name(p), m.rows[p]!.samples.median, Units.duration(seconds: m.rows[p]!.samples.median / 1e9))
    }
    r.chart(chart)

    r.fact("iterations", m.iterations)
    r.fact("batch", m.batch)
    r.fact("pinned", m.cpu != nil)
    if let cpu = m.cpu { r.fact("cpu", Int(cpu)) } else { r.fact("pin_error", m.pinFailure ?? "") }
    r.fact("rows", rowFacts(m))
    let pcid = AddressSpace.cpuHasPCID()
    if let pcid { r.fact("pcid", pcid) }
    r.fact("elapsed_ns", Int(m.elapsed.nanoseconds))
    explain(r, m, pcid: pcid)
    return r
  }

  static func rowFacts(_ m: Measurement) -> JSON {
    var o = JSONObject()
    for p in m.partners {
      let row = m.rows[p]!
      guard case .object(var obj) = row.samples.json else { continue }
      if let alone = m.alone(p) {
        obj["alone_ns"] = .double(alone)
        obj[p == .thread ? "partner_tid" : "partner_pid"] = .int(Int(row.partnerID))
      }
      obj["round_trips"] = .int(row.roundTrips)
      obj["caller_voluntary_switches"] = .int(row.callerVoluntary)
      obj["caller_involuntary_switches"] = .int(row.callerInvoluntary)
      obj["switches_counted"] = .int(
        row.callerVoluntary + row.callerInvoluntary + row.partnerVoluntary + row.partnerInvoluntary)
      obj["partner_voluntary_switches"] = .int(row.partnerVoluntary)
      obj["partner_involuntary_switches"] = .int(row.partnerInvoluntary)
      o[key(p)] = .object(obj)
    }
    return .object(o)
  }

  static func explain(_ r: Report, _ m: Measurement, pcid: Bool?) {
    func d(_ ns: Double) -> String { Units.duration(seconds: ns / 1e9) }
    var short: [String] = []
    var more: [String] = []
    let base = m.rows[.none]?.samples.median ?? 0
    if let threads = m.rows[.thread], let processes = m.rows[.process] {
      let t = threads.samples.median
      let p = processes.samples.median
      let tAlone = m.alone(.thread) ?? 0
      let pAlone = m.alone(.process) ?? 0
      let xAlone = pAlone / max(tAlone, 1)
      short.append(
        "Without the pipe calls (\(d(base)) per write and read in one thread, subtracted as lmbench's lat_ctx does), "
          + "a switch between processes cost \(d(pAlone)) and one between threads \(d(tAlone)): \(Units.ratio(xAlone)). "
          + "With the pipe calls, which every ping-pong pays, it was \(d(p)) against \(d(t)) (\(Units.ratio(p / max(t, 1))))."
      )
      if xAlone < 1.3 {
        more.append(
          "Why so small a difference: most of a switch is the same for both — entering the kernel, the scheduler choosing the next task, saving and restoring registers. Only a switch between processes also changes the page tables (one write to the CR3 register)\(pcid == true ? ", and this CPU has PCID, so the TLB entries of both address spaces stay tagged and are not flushed" : pcid == false ? "; this CPU has no PCID, so that flushes the TLB, but the partners touch so little memory that refilling it is cheap" : ""). Both partners' working sets are a few pages that stay in the caches; `switch --working-set 64M` makes each side read its own memory at every hand-over."
        )
      } else {
        more.append(
          "The extra is the change of address space: new page tables (CR3), TLB entries\(pcid == true ? " (tagged by PCID here, yet still partly lost)" : " flushed") and colder caches, plus security mitigations some kernels apply only between processes."
        )
      }
      if t >= p {
        more.append(
          "Surprise: the threads were not faster this time; the machine may be busy. Run it again or with --iterations 100000."
        )
      }
    } else if let only = m.rows[.thread] ?? m.rows[.process] {
      let which = m.rows[.thread] != nil ? "threads" : "processes"
      short.append(
        "A switch between two \(which) cost \(d(only.samples.median)) including one pipe write and read; "
          + "\(d(base)) of that is the pipe calls alone. Run `switch` without a flag to compare threads and processes in one run."
      )
    }
    if m.cpu != nil {
      more.append(
        "Both partners were pinned to one CPU with sched_setaffinity, so they took turns on it: every hand-over was a true context switch, and the kernel's counts confirm it (about 2 per round trip). A switch is voluntary when a side sleeps in read(), involuntary when the partner it has just woken takes the CPU from it at once (wake-up preemption) before it reaches its read()."
      )
    } else {
      more.append(
        "Pinning was refused (\(m.pinFailure ?? "?")), so the partners may have run on two CPUs at once: then the time includes waking the other CPU, not only a switch."
      )
    }
    for (p, row) in m.rows where p != .none {
      let counted =
        row.callerVoluntary + row.partnerVoluntary + row.callerInvoluntary + row.partnerInvoluntary
      if Double(counted) < 1.5 * Double(row.roundTrips) {
        more.append(
          "Surprise: the kernel counted only \(counted) switches for \(row.roundTrips) round trips of the \(name(p)); the partners often ran at the same time on two CPUs and found their byte already waiting."
        )
      }
    }
    r.explain(short.joined(separator: " "), more: more.joined(separator: " "))
  }
}

/// `switch --working-set SIZE`: the switch as each side reads a growing working set.
enum WorkingSetReport {
  /// 0, then 16K, 64K, 256K, … below `limit`, then `limit`.
  static func sizes(upTo limit: Int) -> [Int] {
    var out = [0]
    var s = 16 << 10
    while s < limit {
      out.append(s)
      s *= 4
    }
    return out + [limit]
  }

  static func run(upTo limit: Int, iterations: Int, partners: [PingPong.Partner], session: Session) throws
    -> Report
  {
    var runs: [SwitchCommand.Measurement] = []
    let sizes = sizes(upTo: limit)
    for (i, size) in sizes.enumerated() {
      try Interrupt.check()
      // Fewer round trips as each grows dearer: the reads of the working set dominate.
      let n = max(200, iterations * (16 << 10) / ((16 << 10) + size))
      runs.append(
        try SwitchCommand.measure(
          iterations: n, partners: partners, workingSet: size, session: session,
          label: "switch \(i + 1)/\(sizes.count)"))
    }
    let r = Report()
    r.line(
      "ping-pong with a working set: at every hand-over each side reads its own SIZE bytes (one load per 64 B), pinned to one CPU:"
    )
    var header = ["working set"]
    if partners.contains(.thread) { header.append("threads alone") }
    if partners.contains(.process) { header.append("processes alone") }
    header.append("no switch (pipe + read)")
    var t = Table(header, rightAligned: Set(1..<header.count))
    for m in runs {
      var row = [m.workingSet == 0 ? "0" : ByteSize(m.workingSet).canonicalWord]
      for p in partners where p != .none { row.append(r.ns(m.alone(p) ?? 0)) }
      row.append(r.ns(m.rows[.none]!.samples.median))
      t.add(row)
    }
    r.table(t)
    r.line(
      "  alone = per switch (half a round trip) minus the same pipe calls and reads in one thread, warm (lmbench's lat_ctx -s)"
    )
    r.line()
    var chart = BarChart(width: 30)
    for m in runs {
      let label = m.workingSet == 0 ? "0" : ByteSize(m.workingSet).canonicalWord
      for p in partners where p != .none {
        chart.add(
          "\(label) \(p == .thread ? "threads" : "processes")", m.alone(p) ?? 0,
          Units.duration(seconds: (m.alone(p) ?? 0) / 1e9))
      }
    }
    r.chart(chart)
    r.fact(
      "sizes",
      JSON.array(
        runs.map { m in
          var o = JSONObject()
          o["bytes"] = .int(m.workingSet)
          o["iterations"] = .int(m.iterations)
          o["rows"] = SwitchCommand.rowFacts(m)
          for p in partners where p != .none {
            o["\(SwitchCommand.key(p))_alone_ns"] = .double(m.alone(p) ?? 0)
          }
          return .object(o)
        }))
    r.fact("pinned", runs.first?.cpu != nil)
    func d(_ ns: Double) -> String { Units.duration(seconds: ns / 1e9) }
    let who = partners.contains(.process) ? SwitchCommand.Pairs.processes : .threads
    let p: PingPong.Partner = who == .processes ? .process : .thread
    r.explain(
      growthSentence(runs: runs, partner: p, caches: MachineCPU.dataCaches()),
      more:
        "This is why a context switch costs more than its few microseconds in a real program: the next task finds "
        + "caches (and, without PCID, the TLB) full of someone else's data. Once the two working sets together "
        + "exceed a cache level (L1 32–48 KiB, L2 of 512 KiB–2 MiB per core, a shared L3), the cost steps up. "
        + "Threads of one process share an address space, but each side here reads its own memory, so threads pay "
        + "the cache refills too.")
    return r
  }

  /// What the working sets did to a switch, said only as far as the figures can tell it:
  /// "alone" is the difference of two medians that both hold the reads' own time, so a growth
  /// within 5% of the reads (their run-to-run spread here is a few percent), the samples'
  /// spread, or a fifth of the switch itself is not told apart from noise. The CPU's cache
  /// sizes say whether the two sides' working sets even left a cache.
  static func growthSentence(
    runs: [SwitchCommand.Measurement], partner p: PingPong.Partner, caches: [(level: Int, bytes: Int)]
  ) -> String {
    func d(_ ns: Double) -> String { Units.duration(seconds: ns / 1e9) }
    func spread(_ row: SwitchCommand.Row?) -> Double {
      guard let s = row?.samples, s.count >= 4 else { return 0 }
      return s.percentile(0.75) - s.percentile(0.25)
    }
    let first = runs.first!
    let last = runs.last!
    let before = first.alone(p) ?? 0
    func reads(_ m: SwitchCommand.Measurement) -> Double { m.rows[.none]?.samples.median ?? 0 }
    func margin(_ m: SwitchCommand.Measurement) -> Double {
      max(0.05 * reads(m), spread(m.rows[p]) + spread(m.rows[.none]), 0.2 * before)
    }
    let start = "With nothing to read, a switch alone cost \(d(before)) (\(SwitchCommand.name(p))). "
    if let grown = runs.dropFirst().first(where: { ($0.alone(p) ?? 0) - before > margin($0) }) {
      let both = 2 * grown.workingSet
      let overflowed = caches.last { $0.bytes <= both }
      let tail =
        grown.workingSet == last.workingSet
        ? "" : ", \(d(last.alone(p) ?? 0)) at \(Units.bytes(last.workingSet))"
      return start
        + "From \(Units.bytes(grown.workingSet)) to read at every hand-over it cost clearly more: "
        + "\(d(grown.alone(p) ?? 0))\(tail). The kernel's work for a switch does not depend on the program's memory: "
        + "what grew is refilling the caches, because the other side's reads pushed this side's data out"
        + (overflowed.map {
          " (the two sides read \(Units.bytes(both)), as much as or more than this CPU's L\($0.level) of \(Units.bytes($0.bytes)) holds)"
        } ?? "")
        + ". The one-thread row reads its memory as often but finds it warm, and that part is subtracted."
    }
    let both = 2 * last.workingSet
    let holding = caches.first { $0.bytes > both }
    let after = last.alone(p) ?? 0
    return start
      + "With \(Units.bytes(last.workingSet)) to read at every hand-over, \(d(after)): no size made a difference "
      + "this measurement can tell apart (at \(Units.bytes(last.workingSet)) that is \(d(margin(last))), as the reads "
      + "alone take \(d(reads(last))) and both medians hold them)"
      + (holding.map {
        "; this CPU's L\($0.level) (\(Units.bytes($0.bytes))) holds both sides' \(Units.bytes(both)), so little had to come back from memory: try a size whose double exceeds \(Units.bytes(caches.last!.bytes))"
      } ?? "") + "."
  }
}
