import Glibc

/// `switch`: what a context switch costs, between two threads of one process
/// and between two processes, measured as a ping-pong over pipes in one run.
enum SwitchCommand {
  static let defaultIterations = 20_000

  static let command = Command(
    name: "switch", area: .measurement,
    summary: "what a context switch costs: ping-pong between two threads and between two processes",
    usage: "switch [--iterations N] [--threads | --processes]",
    options: [
      .init("--iterations", value: "N", "round trips for each pair (100…10000000, default 20000)"),
      .init("--threads", "only the pair of threads"),
      .init("--processes", "only the pair of processes"),
    ],
    examples: ["switch", "switch --iterations 100000", "switch --threads", "switch --processes"]
  ) { args, session in
    try args.expectPositionals(atMost: 0)
    try args.exclusive("--threads", "--processes")
    let iterations = try args.int("--iterations", default: defaultIterations, in: 100...10_000_000)
    var partners: [PingPong.Partner] = []
    if !args.flag("--processes") { partners.append(.thread) }
    if !args.flag("--threads") { partners.append(.process) }
    partners.append(.none)
    return try run(iterations: iterations, partners: partners, session: session)
  }

  /// Round trips per timed batch: about 100 batches, each long enough that
  /// reading the clock is negligible.
  static func batchSize(_ iterations: Int) -> Int { max(1, min(1000, iterations / 100)) }

  struct Row {
    var samples = Samples()
    var callerVoluntary = 0
    var callerInvoluntary = 0
    var partnerVoluntary = 0
    var partnerInvoluntary = 0
    var roundTrips = 0
    var partnerID: Int32 = 0
  }

  static func run(iterations: Int, partners: [PingPong.Partner], session: Session) throws -> Report {
    let pin = CPUPin()
    defer { pin.release() }
    var pairs: [PingPong] = []
    defer { for p in pairs { p.close() } }
    for partner in partners { pairs.append(try PingPong(partner, pinnedTo: pin.cpu ?? -1)) }

    let batch = batchSize(iterations)
    let batches = max(1, iterations / batch)
    var rows = Dictionary(uniqueKeysWithValues: partners.map { ($0, Row()) })
    for p in pairs { rows[p.partner]!.partnerID = p.partnerID }

    // One warm-up batch each, not timed: the partners' first wake-ups fault in their stacks.
    for p in pairs {
      let w = try p.batch(batch)
      rows[p.partner]!.callerVoluntary += w.voluntary
      rows[p.partner]!.callerInvoluntary += w.involuntary
      rows[p.partner]!.roundTrips += batch
    }
    defer { session.progressDone() }
    let started = MonotonicClock.nanoseconds()
    for i in 0..<batches {
      try Interrupt.check()
      // Round-robin, starting one further each time, so noise hits every pair alike.
      for k in 0..<pairs.count {
        let p = pairs[(i + k) % pairs.count]
        let (ns, voluntary, involuntary) = try p.batch(batch)
        rows[p.partner]!.samples.add(Double(ns) / Double(2 * batch))
        rows[p.partner]!.callerVoluntary += voluntary
        rows[p.partner]!.callerInvoluntary += involuntary
        rows[p.partner]!.roundTrips += batch
      }
      if i % max(1, batches / 100) == 0 { session.progress("switch", fraction: Double(i) / Double(batches)) }
    }
    let elapsed = MonotonicClock.since(started)
    for p in pairs {
      let u = p.close()
      rows[p.partner]!.partnerVoluntary = u.voluntary
      rows[p.partner]!.partnerInvoluntary = u.involuntary
    }
    pin.release()
    return report(
      rows: rows, partners: partners, iterations: batches * batch, batch: batch, pin: pin, elapsed: elapsed)
  }

  static func name(_ p: PingPong.Partner) -> String {
    switch p {
    case .thread: "threads"
    case .process: "processes"
    case .none: "no switch"
    }
  }

  static func key(_ p: PingPong.Partner) -> String {
    switch p {
    case .thread: "threads"
    case .process: "processes"
    case .none: "pipe_only"
    }
  }

  static func report(
    rows: [PingPong.Partner: Row], partners: [PingPong.Partner], iterations: Int, batch: Int, pin: CPUPin,
    elapsed: Duration
  ) -> Report {
    let r = Report()
    if let cpu = pin.cpu {
      r.line(
        "ping-pong over two pipes, \(r.count(iterations)) round trips per pair, all pinned to CPU \(r.count(Int(cpu))) (sched_setaffinity), in \(r.duration(elapsed)):"
      )
    } else {
      r.line(
        "ping-pong over two pipes, \(r.count(iterations)) round trips per pair, NOT pinned (sched_setaffinity failed: \(pin.failure ?? "?")), in \(r.duration(elapsed)):"
      )
    }
    let base = rows[.none]?.samples.median ?? 0
    var t = Table(
      [
        "pair", "partner", "per switch", "p10 – p90", "switch alone",
        "switches counted (voluntary + involuntary)",
      ],
      rightAligned: [2, 4])
    for p in partners {
      let row = rows[p]!
      let s = row.samples
      let partner: String =
        switch p {
        case .thread: "tid \(r.tid(row.partnerID))"
        case .process: "pid \(r.pid(row.partnerID))"
        case .none: "(one thread)"
        }
      let alone = p == .none ? "—" : r.ns(max(0, s.median - base))
      let voluntary = row.callerVoluntary + row.partnerVoluntary
      let involuntary = row.callerInvoluntary + row.partnerInvoluntary
      let counted = "\(r.count(voluntary + involuntary)) (\(r.count(voluntary)) + \(r.count(involuntary)))"
      let switches = p == .none ? counted : "\(counted) for \(r.count(row.roundTrips)) round trips"
      t.add([
        name(p), partner, r.ns(s.median), "\(r.ns(s.percentile(0.1))) – \(r.ns(s.percentile(0.9)))", alone,
        switches,
      ])
    }
    // At 80 columns the switch counts move under their row.
    t.short = [3: "p10–p90", 4: "alone", 5: "switches (vol + invol)"]
    t.stackable = [5]
    r.table(t)
    r.line(
      "  per switch = half a round trip (one write, one read, one switch); \"no switch\" = the same pipe calls in one thread"
    )
    r.line()
    var chart = BarChart(width: 30)
    for p in partners {
      chart.add(name(p), rows[p]!.samples.median, Units.duration(seconds: rows[p]!.samples.median / 1e9))
    }
    r.lines(chart.lines)

    r.fact("iterations", iterations)
    r.fact("batch", batch)
    r.fact("pinned", pin.cpu != nil)
    if let cpu = pin.cpu { r.fact("cpu", Int(cpu)) } else { r.fact("pin_error", pin.failure ?? "") }
    var o = JSONObject()
    for p in partners {
      let row = rows[p]!
      guard case .object(var obj) = row.samples.json else { continue }
      if p != .none {
        obj["alone_ns"] = .double(max(0, row.samples.median - base))
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
    r.fact("rows", JSON.object(o))
    let pcid = AddressSpace.cpuHasPCID()
    if let pcid { r.fact("pcid", pcid) }
    r.fact("elapsed_ns", Int(elapsed.nanoseconds))

    explain(r, rows: rows, pin: pin, base: base, pcid: pcid)
    return r
  }

  static func explain(_ r: Report, rows: [PingPong.Partner: Row], pin: CPUPin, base: Double, pcid: Bool?) {
    var short: [String] = []
    var more: [String] = []
    let threads = rows[.thread]
    let processes = rows[.process]
    if let threads, let processes {
      let t = threads.samples.median
      let p = processes.samples.median
      let x = p / max(t, 1)
      let tAlone = max(1, t - base)
      let pAlone = max(1, p - base)
      let xAlone = pAlone / tAlone
      if x < 1.3 {
        short.append(
          "A switch between processes cost \(Units.ratio(x)) a switch between threads here (\(Units.duration(seconds: p / 1e9)) against \(Units.duration(seconds: t / 1e9))): a small difference on this kernel."
        )
        more.append(
          "Why so small: most of a switch is the same for both — entering the kernel, the scheduler choosing the next task, saving and restoring registers. Only a switch between processes also changes the page tables (one write to the CR3 register)\(pcid == true ? ", and this CPU has PCID, so the TLB entries of both address spaces stay tagged and are not flushed" : pcid == false ? "; this CPU has no PCID, so that flushes the TLB, but the partners touch so little memory that refilling it is cheap" : ""). Both partners' working sets are a few pages that stay in the caches. The difference grows when the processes use a lot of memory."
        )
      } else {
        short.append(
          "A switch between processes cost \(Units.ratio(x)) a switch between threads here (\(Units.duration(seconds: p / 1e9)) against \(Units.duration(seconds: t / 1e9)))."
        )
        more.append(
          "The extra is the change of address space: new page tables (CR3), TLB entries\(pcid == true ? " (tagged by PCID here, yet still partly lost)" : " flushed") and colder caches, plus security mitigations some kernels apply only between processes."
        )
      }
      if t < p {
        more.append(
          "Without the pipe calls (\(Units.duration(seconds: base / 1e9)) per write and read in one thread) the switch alone is about \(Units.duration(seconds: tAlone / 1e9)) for threads and \(Units.duration(seconds: pAlone / 1e9)) for processes (\(Units.ratio(xAlone)))."
        )
      } else {
        more.append(
          "Surprise: the threads were not faster this time; the machine may be busy. Run it again or with --iterations 100000."
        )
      }
    } else if let only = threads ?? processes {
      let which = threads != nil ? "threads" : "processes"
      short.append(
        "A switch between two \(which) cost \(Units.duration(seconds: only.samples.median / 1e9)) including one pipe write and read (\(Units.duration(seconds: base / 1e9)) of that is the pipe calls alone). Run `switch` without a flag to compare threads and processes in one run."
      )
    }
    if pin.cpu != nil {
      more.append(
        "Both partners were pinned to one CPU with sched_setaffinity, so they took turns on it: every hand-over was a true context switch, and the kernel's counts confirm it (about 2 per round trip). A switch is voluntary when a side sleeps in read(), involuntary when the partner it has just woken takes the CPU from it at once (wake-up preemption) before it reaches its read()."
      )
    } else {
      more.append(
        "Pinning was refused (\(pin.failure ?? "?")), so the partners may have run on two CPUs at once: then the time includes waking the other CPU, not only a switch."
      )
    }
    for (p, row) in rows where p != .none {
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
