import CLab
import Glibc

/// `race`: N threads add 1 to one shared counter M times each — without
/// protection (a real load, add, store that other threads interleave with),
/// with a mutex, or with an atomic add — and count what was lost.
enum RaceCommand {
  enum Variant: String, CaseIterable {
    case unsafe = "no protection", mutex = "mutex", atomic = "atomic"
    var mode: Int32 {
      switch self {
      case .unsafe: Int32(CLAB_RACE_UNSAFE)
      case .mutex: Int32(CLAB_RACE_MUTEX)
      case .atomic: Int32(CLAB_RACE_ATOMIC)
      }
    }
    var key: String {
      switch self {
      case .unsafe: "racy"
      case .mutex: "mutex"
      case .atomic: "atomic"
      }
    }
    var how: String {
      switch self {
      case .unsafe: "load, add 1, store (volatile, in C)"
      case .mutex: "pthread_mutex_lock; load, add, store; unlock"
      case .atomic: "atomic_fetch_add (one locked instruction)"
      }
    }
  }

  static let maxTotal = 200_000_000

  struct Options: CommandOptions {
    var threads = 2
    var iterations = 30_000_000
    var only: Variant?

    static var declarations: [OptionDeclaration<Self>] {
      [
        .value("--threads", \.threads, "N", in: 1...64, "threads incrementing the counter"),
        .value("--iterations", \.iterations, "M", in: 1...100_000_000, "increments per thread"),
        .choice(
          "only", \.only,
          [
            ("--racy", .unsafe, "only the unprotected increment"),
            ("--lock", .mutex, "only the increment protected by a pthread mutex"),
            ("--atomic", .atomic, "only the C11 atomic_fetch_add increment"),
          ]),
      ]
    }

    func validate(command: String) throws {
      if threads * iterations > maxTotal {
        throw UsageError(
          "race: --threads × --iterations must be at most \(maxTotal), got \(threads) × \(iterations) = \(threads * iterations)"
        )
      }
    }
  }

  static let command = Command(
    name: "race", area: .threads,
    summary: "threads add to one counter: lost updates without protection, none with a mutex or atomic",
    examples: ["race", "race --racy", "race --lock", "race --threads 4 --iterations 100000 --atomic"],
    options: Options.self
  ) { options, session in
    try run(
      threads: options.threads, iterations: options.iterations,
      variants: options.only.map { [$0] } ?? Variant.allCases, session: session)
  }

  struct Result {
    var variant: Variant
    var got: Int
    var expected: Int
    var tracks: [WorkerTrack]
    var wall: UInt64
    var lost: Int { expected - got }
  }

  /// Where the threads of one run write their slices.
  final class Buffers: @unchecked Sendable {
    static let capacity = 48
    let slices: UnsafeMutablePointer<clab_slice>
    var counts: [Int]
    var tids: [Int32]
    var done: [Int]
    let mutex = PthreadMutex()
    init(_ n: Int) {
      slices = .allocate(capacity: n * Buffers.capacity)
      counts = Array(repeating: 0, count: n)
      tids = Array(repeating: 0, count: n)
      done = Array(repeating: 0, count: n)
    }
    deinit { slices.deallocate() }
    func set(_ i: Int, tid: Int32, count: Int, done d: Int) {
      mutex.lock()
      tids[i] = tid
      counts[i] = count
      done[i] = d
      mutex.unlock()
    }
  }

  /// Starts N threads that wait at a barrier (so they overlap), run the loop and end; joins them all.
  static func runOnce(_ variant: Variant, threads n: Int, iterations m: Int) throws -> Result {
    let counter = SharedCounter()
    let lock = PthreadMutex()
    let arrived = SharedCounter()
    let buffers = Buffers(n)
    var handles: [Threads.Handle] = []
    defer { Threads.joinAll(handles, tids: buffers.tids.filter { $0 != 0 }) }
    for i in 0..<n {
      handles.append(
        try Threads.spawn("\(variant.key) \(i + 1)") {
          let tid = Threads.currentTID()
          clab_spin_barrier(arrived.pointer, n)
          var done = 0
          let count = clab_race_loop(
            counter.pointer, m, variant.mode, lock.pointer, buffers.slices + i * Buffers.capacity,
            Int32(Buffers.capacity), &done)
          buffers.set(i, tid: tid, count: Int(count), done: done)
        })
    }
    Threads.joinAll(handles, tids: [])
    let tids = buffers.tids
    handles = []
    Threads.waitUntilGone(tids)
    if buffers.counts.contains(where: { $0 < 0 }) || Interrupt.isRequested { throw Interrupted() }
    var tracks: [WorkerTrack] = []
    for i in 0..<n {
      let base = buffers.slices + i * Buffers.capacity
      let slices = (0..<buffers.counts[i]).map { Slice(base[$0]) }
      tracks.append(WorkerTrack(label: "t\(i + 1)", tid: buffers.tids[i], slices: slices))
    }
    let start = tracks.map(\.start).min() ?? 0
    let end = tracks.map(\.end).max() ?? 0
    return Result(variant: variant, got: counter.value, expected: n * m, tracks: tracks, wall: end &- start)
  }

  static func run(threads n: Int, iterations m: Int, variants: [Variant], session: Session) throws -> Report {
    let r = Report()
    var results: [Result] = []
    for (i, v) in variants.enumerated() {
      try Interrupt.check()
      session.progress("race \(v.key)", fraction: Double(i) / Double(variants.count))
      results.append(try runOnce(v, threads: n, iterations: m))
    }
    session.progressDone()
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
        r.seconds(Double(res.wall) / 1e9), r.seconds(perOp / 1e9),
      ])
      chart.add(res.variant.rawValue, Double(res.wall), Units.duration(seconds: Double(res.wall) / 1e9))
    }
    r.lines(t.lines)
    if results.count > 1 {
      r.line("time each variant took:")
      r.lines(chart.lines.map { l in l })
    }
    for res in results where n > 1 {
      r.line("\(res.variant.rawValue): who ran when (\(res.variant.how))")
      r.lines(ThreadWork.timeline(res.tracks, r: r))
    }

    r.fact("threads", n)
    r.fact("iterations", m)
    r.fact("expected", expected)
    var variantFacts = JSONObject()
    for res in results {
      var o = JSONObject()
      o["got"] = .int(res.got)
      o["lost"] = .int(res.lost)
      o["wall_ns"] = .int(Int(res.wall))
      o["overlap_ns"] = .int(Int(ThreadWork.overlap(res.tracks)))
      o["tids"] = .array(res.tracks.map { .int(Int($0.tid)) })
      o["cpus"] = .array(res.tracks.map { .array($0.cpus.map { .int($0) }) })
      variantFacts[res.variant.key] = .object(o)
    }
    r.fact("variants", JSON.object(variantFacts))
    if let first = results.first {
      r.fact("got", first.got)
      r.fact("lost", first.lost)
    }

    explain(results, threads: n, iterations: m, r: r)
    return r
  }

  static func explain(_ results: [Result], threads n: Int, iterations m: Int, r: Report) {
    var parts: [String] = []
    if let racy = results.first(where: { $0.variant == .unsafe }) {
      let overlap = ThreadWork.overlap(racy.tracks)
      if n == 1 {
        parts.append(
          "With one thread nothing can interleave: all \(ThreadWork.grouped(racy.got)) increments arrived. Try --threads 2."
        )
      } else if racy.lost > 0 {
        parts.append(
          "Without protection \(ThreadWork.grouped(racy.lost)) of \(ThreadWork.grouped(racy.expected)) updates were lost (\(Units.percent(Double(racy.lost) / Double(racy.expected)))). Each increment is three steps — load the counter, add 1, store it — and while the threads ran at the same time (for \(Units.duration(seconds: Double(overlap) / 1e9))) one thread's load often came before the other's store: both stored the same value + 1, and one increment vanished."
        )
      } else {
        parts.append(
          "No updates were lost this time: "
            + (overlap == 0
              ? "the threads never ran at the same moment (each finished before another started; the machine may be busy). "
              : "the threads overlapped for only \(Units.duration(seconds: Double(overlap) / 1e9)). ")
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
      let others = results.filter { $0.variant != .unsafe }.map {
        "\($0.variant.rawValue) \(Units.ratio(Double($0.wall) / Double(racy.wall)))"
      }
      if !others.isEmpty {
        parts.append(
          "Correctness costs time: compared with the unprotected loop, \(others.joined(separator: ", ")) as long."
        )
      }
    }
    r.explain(
      parts.joined(separator: " "),
      more:
        "A mutex makes the three steps one critical section: a thread that finds it locked sleeps on a futex until the holder unlocks, so the counter's cache line and the lock pass back and forth between cores. An atomic add does load-add-store as one indivisible locked instruction (lock inc or lock xadd on x86); the cores still take turns owning the cache line, which is why even atomics are slower than the broken loop. The timeline shows which CPU each thread ran on: when both run on different CPUs at once, their steps interleave."
    )
  }
}
