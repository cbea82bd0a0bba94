/// The OS work of `counter`: real threads run the counting loops of
/// CLab/locks.c; each run is timed from the start gate to the last join.
enum CounterExperiment {
  typealias Mode = CounterCommand.Mode

  struct Result {
    var mode: Mode
    var threshold: Int
    var increments: Int
    var runs: [CounterBench.Result]
    /// With --packed or --padded: both layouts at N threads, the median of alternating runs each.
    var packed: CounterBench.Result?
    var padded: CounterBench.Result?
    /// The CPUs this process may run on (its affinity mask): the most that threads can speed it up.
    var cpus: Int
    /// The cache line size the kernel reports for CPU 0, when it does.
    var lineSize: Int?
  }

  static let comparisonRounds = 5
  /// Each table row is the median of this many runs, made in alternating rounds: one run of a
  /// few milliseconds can be stretched several times over by one preemption.
  static let tableRounds = 3

  static func counts(upTo n: Int) -> [Int] { ParallelExperiment.counts(upTo: n) }

  static func run(_ o: CounterCommand.Options, threads n: Int, session: Session) throws -> Result {
    let mode = o.effectiveMode
    let threshold = o.sloppy ?? 1024
    let padded = o.layout != .packed
    // One run to warm up (fresh pages, cold caches), not counted.
    _ = try CounterBench.run(
      mode: .perThread, threads: 1, increments: min(o.effectiveIncrements, 200_000), threshold: 1,
      padded: true)
    func one(_ m: CounterBench.Mode, _ k: Int, padded: Bool) throws -> CounterBench.Result {
      try Interrupt.check()
      return try CounterBench.run(
        mode: m, threads: k, increments: o.effectiveIncrements, threshold: threshold, padded: padded)
    }
    let plan: [(CounterBench.Mode, Int)]
    switch mode {
    case .overview:
      plan = [CounterBench.Mode.exact, .sloppy, .perThread].map { ($0, n) }
    case .exact, .sloppy, .perThread:
      let m: CounterBench.Mode = mode == .exact ? .exact : mode == .sloppy ? .sloppy : .perThread
      plan = counts(upTo: n).map { (m, $0) }
    }
    // Rounds over the whole plan, so that other programs' load falls on every row alike; each
    // row keeps its median run.
    var tries = [[CounterBench.Result]](repeating: [], count: plan.count)
    for round in 0..<tableRounds {
      for (i, (m, k)) in plan.enumerated() {
        session.progress(
          "counter", fraction: Double(round * plan.count + i) / Double(tableRounds * plan.count))
        tries[i].append(try one(m, k, padded: mode == .overview ? true : padded))
      }
    }
    let runs = tries.map { $0.sorted { $0.wall < $1.wall }[$0.count / 2] }
    // False sharing: the two layouts in alternating blocks, so that other programs' load falls on
    // both alike; the median run of each is kept (the fastest would favour runs in which the
    // threads happened not to count at the same time, and so did not share the line).
    var median: [Bool: CounterBench.Result] = [:]
    if o.layout != .unchosen {
      var tries: [Bool: [CounterBench.Result]] = [:]
      for _ in 0..<comparisonRounds {
        for layout in [true, false] {
          tries[layout, default: []].append(try one(.perThread, n, padded: layout))
        }
      }
      for (layout, list) in tries { median[layout] = list.sorted { $0.wall < $1.wall }[list.count / 2] }
    }
    session.progressDone()
    return Result(
      mode: mode, threshold: threshold, increments: o.effectiveIncrements, runs: runs, packed: median[false],
      padded: median[true], cpus: Threads.allowedCPUs().count, lineSize: MachineCPU.cacheLineSize())
  }
}
