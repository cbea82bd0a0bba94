import Glibc

/// The measuring behind `cost`, the way lmbench's lat_proc and stress-ng time
/// process creation: each kind in its own warm loop, whole blocks of kinds taking
/// turns so that the machine's load falls on every kind alike, the first samples
/// of each block discarded. A short round-robin (one of each kind in turn) gives
/// the second, "cold" figure.
struct CostMeasurement {
  var ways: [CreationCost.Way]
  var warm: [CreationCost.Way: Samples]
  var cold: [CreationCost.Way: Samples]
  var iterations: Int
  var blocks: Int
  var warmupPerBlock: Int
  var coldRounds: Int
  var tinySize: Int?
  var execPath: String?
  var forker: SmallForker.Size
  var forkerPID: Int32
  var elapsed: Duration
  /// Minor page faults per thread sample in the warm loops and in the cold rounds.
  var threadFaultsWarm: Double
  var threadFaultsCold: Double
  /// The kinds that came right before a cold thread sample, and how many samples before a cold
  /// thread sample the last fork of this shell came, at most (1: right before; nil: none came).
  var coldThreadAfter: [CreationCost.Way] = []
  var coldThreadSinceShellFork: Int?
  /// The kept warm thread samples by where the new thread ran: on its creator's CPU, on another.
  var threadSameCPU = Samples()
  var threadOtherCPU = Samples()
}

enum CostExperiment {
  /// The program spawned for the `exec` row.
  static var truePath: String? {
    ["/bin/true", "/usr/bin/true"].first { FileSystem.isExecutable($0) }
  }

  static func run(iterations: Int, session: Session) throws -> CostMeasurement {
    // The small parent for the "fork of a small process" row: a C helper beside proclab.
    let forker = try SmallForker()
    defer { forker.close() }
    let tiny = TinyProgram()
    defer { tiny?.close() }
    let exec = truePath
    var ways: [CreationCost.Way] = [.thread, .forkSmall, .forkShell]
    if tiny != nil { ways.append(.spawnTiny) }
    if exec != nil { ways.append(.spawnTrue) }

    func loop(_ way: CreationCost.Way, _ count: Int) throws -> [Int64] {
      switch way {
      case .thread: try CreationCost.loop(.thread, count: count)
      case .forkSmall: try forker.samples(count).map(\.nanoseconds)
      case .forkShell: try CreationCost.loop(.fork, count: count)
      case .spawnTiny: try CreationCost.loop(.spawn(tiny!.path), count: count)
      case .spawnTrue: try CreationCost.loop(.spawn(exec!), count: count)
      }
    }

    let blocks = max(1, min(5, iterations / 20))
    let warmup = max(2, iterations / blocks / 10)
    let coldRounds = max(10, iterations / 5)
    var warm = Dictionary(uniqueKeysWithValues: ways.map { ($0, Samples()) })
    var cold = warm
    let steps = Double(blocks * ways.count + coldRounds)
    var done = 0.0
    defer { session.progressDone() }
    var faults = (warm: 0, cold: 0, warmSamples: 0)
    var (sameCPU, otherCPU) = (Samples(), Samples())
    let started = MonotonicClock.nanoseconds()
    for b in 0..<blocks {
      // This block's share of the samples, and a different kind first each time.
      let count = iterations * (b + 1) / blocks - iterations * b / blocks
      for k in ways.indices {
        try Interrupt.check()
        let way = ways[(b + k) % ways.count]
        if way == .thread {
          // Faults of the kept samples only: the warm-up ones absorb what the previous kind left.
          _ = try loop(way, warmup)
          let before = CreationCost.minorFaults()
          for sample in try CreationCost.placedLoop(.thread, count: count) {
            warm[way]!.add(Double(sample.ns))
            if sample.otherCPU { otherCPU.add(Double(sample.ns)) } else { sameCPU.add(Double(sample.ns)) }
          }
          faults.warm += CreationCost.minorFaults() - before
          faults.warmSamples += count
        } else {
          for ns in try loop(way, warmup + count).dropFirst(warmup) { warm[way]!.add(Double(ns)) }
        }
        done += 1
        session.progress("cost", fraction: done / steps)
      }
    }
    var previous: CreationCost.Way?
    var sinceShellFork: Int?  // samples since the last fork of this shell in the cold rounds
    var threadAfter: [CreationCost.Way] = []
    var mostSinceShellFork: Int?
    for i in 0..<coldRounds {
      try Interrupt.check()
      for k in ways.indices {
        let way = ways[(i + k) % ways.count]
        if way == .thread {
          if let previous, !threadAfter.contains(previous) { threadAfter.append(previous) }
          if let since = sinceShellFork { mostSinceShellFork = max(mostSinceShellFork ?? 0, since + 1) }
        }
        let before = way == .thread ? CreationCost.minorFaults() : 0
        cold[way]!.add(Double(try loop(way, 1)[0]))
        if way == .thread { faults.cold += CreationCost.minorFaults() - before }
        sinceShellFork = way == .forkShell ? 0 : sinceShellFork.map { $0 + 1 }
        previous = way
      }
      done += 1
      if i % 5 == 0 { session.progress("cost", fraction: done / steps) }
    }
    return CostMeasurement(
      ways: ways, warm: warm, cold: cold, iterations: iterations, blocks: blocks, warmupPerBlock: warmup,
      coldRounds: coldRounds, tinySize: tiny?.size, execPath: exec, forker: forker.size,
      forkerPID: forker.pid,
      elapsed: MonotonicClock.since(started),
      threadFaultsWarm: Double(faults.warm) / Double(max(1, faults.warmSamples)),
      threadFaultsCold: Double(faults.cold) / Double(coldRounds), coldThreadAfter: threadAfter,
      coldThreadSinceShellFork: mostSinceShellFork, threadSameCPU: sameCPU, threadOtherCPU: otherCPU)
  }
}
