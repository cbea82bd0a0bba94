import Glibc

/// `switch`: what a context switch costs, between two threads of one process
/// and between two processes, measured as a ping-pong over pipes in one run.
enum SwitchCommand {
  static let defaultIterations = 20_000

  enum Pairs: Equatable, Sendable { case both, threads, processes }

  struct Options: CommandOptions {
    var iterations = SwitchCommand.defaultIterations
    var pairs = Pairs.both
    var workingSet: ByteSize?

    static var declarations: [OptionDeclaration<Self>] {
      [
        .value("--iterations", \.iterations, "N", in: 100...10_000_000, "round trips for each pair"),
        .choice(
          "pairs", \.pairs,
          [
            ("--threads", .threads, "only the pair of threads"),
            ("--processes", .processes, "only the pair of processes"),
          ],
          unchosen: "both"),
        .value(
          "--working-set", \.workingSet, "SIZE", in: ByteSize(16 << 10)...ByteSize(64 << 20),
          "each side reads SIZE of its own memory at every hand-over, measured from 0 up to SIZE (×4 steps), as lmbench's lat_ctx -s"
        ),
      ]
    }
  }

  static let command = Command(
    name: "switch", area: .measurement,
    summary: "what a context switch costs: ping-pong between two threads and between two processes",
    examples: [
      "switch", "switch --iterations 100000", "switch --threads", "switch --processes",
      "switch --working-set 64M",
    ],
    options: Options.self
  ) { options, session in
    var partners: [PingPong.Partner] = []
    if options.pairs != .processes { partners.append(.thread) }
    if options.pairs != .threads { partners.append(.process) }
    partners.append(.none)
    if let ws = options.workingSet {
      return try WorkingSetReport.run(
        upTo: ws.bytes, iterations: options.iterations, partners: partners, session: session)
    }
    let m = try measure(iterations: options.iterations, partners: partners, workingSet: 0, session: session)
    return report(m)
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

  /// One run: every pair pinned to one CPU, timed in batches that take turns.
  struct Measurement {
    var rows: [PingPong.Partner: Row]
    var partners: [PingPong.Partner]
    var iterations: Int
    var batch: Int
    var cpu: Int32?
    var pinFailure: String?
    var workingSet: Int
    var elapsed: Duration
    /// Median per switch minus the median of the same pipe calls without a switch (lmbench's lat_ctx subtraction).
    func alone(_ p: PingPong.Partner) -> Double? {
      guard p != .none, let row = rows[p], let base = rows[.none]?.samples.median else { return nil }
      return max(0, row.samples.median - base)
    }
  }

  static func measure(
    iterations: Int, partners: [PingPong.Partner], workingSet: Int, session: Session, label: String = "switch"
  ) throws -> Measurement {
    let pin = CPUPin()
    defer { pin.release() }
    var pairs: [PingPong] = []
    defer { for p in pairs { p.close() } }
    for partner in partners { pairs.append(try PingPong(partner, workingSet: workingSet)) }

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
      if i % max(1, batches / 100) == 0 { session.progress(label, fraction: Double(i) / Double(batches)) }
    }
    let elapsed = MonotonicClock.since(started)
    for p in pairs {
      let u = p.close()
      rows[p.partner]!.partnerVoluntary = u.voluntary
      rows[p.partner]!.partnerInvoluntary = u.involuntary
    }
    return Measurement(
      rows: rows, partners: partners, iterations: batches * batch, batch: batch, cpu: pin.cpu,
      pinFailure: pin.failure,
      workingSet: workingSet, elapsed: elapsed)
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
}
