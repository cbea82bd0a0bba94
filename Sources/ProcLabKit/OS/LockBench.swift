import CLab
import Glibc

/// Locks built from scratch (CLab/locks.c) raced by real threads: each thread
/// takes the lock, checks that it is alone, adds 1 with a plain load and store,
/// and releases, until a budget of turns or a deadline.
public enum LockBench {
  public enum Implementation: String, OptionChoice {
    case tas, ttas, ticket, peterson, mutex, yield
    var code: Int32 {
      switch self {
      case .tas: Int32(CLAB_LOCK_TAS.rawValue)
      case .ttas: Int32(CLAB_LOCK_TTAS.rawValue)
      case .ticket: Int32(CLAB_LOCK_TICKET.rawValue)
      case .peterson: Int32(CLAB_LOCK_PETERSON.rawValue)
      case .mutex: Int32(CLAB_LOCK_MUTEX.rawValue)
      case .yield: Int32(CLAB_LOCK_YIELD.rawValue)
      }
    }
  }

  public struct Worker: Sendable {
    public var tid: Int32
    public var turns: Int
    public var longestWait: Int
    public var totalWait: Int
    public var cpu: Int
    public var wall: Int
    public var voluntary: Int
    public var involuntary: Int
  }

  public struct Result: Sendable {
    public var implementation: Implementation
    public var fence: Bool
    public var workers: [Worker]
    /// Turns in which the checker found another thread inside.
    public var violations: Int
    /// Turns taken in all, and what the plainly incremented counter shows.
    public var turns: Int
    public var counter: Int
    public var wall: Int
    public var lost: Int { max(0, turns - counter) }
  }

  /// Runs `threads` threads through one lock until `budget` turns were handed
  /// out or `limit` passed (whichever first); joined before it returns.
  public static func run(
    _ implementation: Implementation, threads: Int, fence: Bool, budget: Int, limit: Duration,
    insideWork: Int = 200, outsideWork: Int = 20
  ) throws -> Result {
    let memory = try SyncMemory<clab_lock_bench>.map(shared: false)
    defer { memory.unmap() }
    let b = memory.pointer
    b.pointee.impl = implementation.code
    b.pointee.threads = Int32(threads)
    b.pointee.fence = fence ? 1 : 0
    b.pointee.budget = Int64(budget)
    b.pointee.inside_work = Int64(insideWork)
    b.pointee.outside_work = Int64(outsideWork)
    // Peterson's two threads meet before every turn and race into the entry code
    // together: the moment when a reordered store and load can both pass.
    b.pointee.lockstep = implementation == .peterson ? 1 : 0
    try PthreadPrimitives.initMutex(memory.field(\.mutex))
    defer { PthreadPrimitives.destroy(memory.field(\.mutex)) }
    var workers = WorkerThreads()
    let gate = memory.field(\.go)
    defer {
      if SharedInt32.load(gate) == 0 { SharedInt32.store(gate, -1) }
      workers.joinAll()
    }
    for i in 0..<threads {
      try workers.start("\(implementation.rawValue) \(i + 1)") {
        clab_lock_worker_run(memory.pointer, Int32(i))
      }
    }
    let start = MonotonicClock.nanoseconds()
    b.pointee.deadline_ns = Int64(start) + limit.nanoseconds
    SharedInt32.store(gate, 1)
    workers.joinAll()
    let wall = Int(MonotonicClock.nanoseconds() - start)
    Trace.record(
      implementation == .mutex ? "pthread_mutex_lock" : "\(implementation.rawValue) lock (user space)",
      "×\(b.pointee.taken) turns in \(threads) threads", result: "0", since: start)
    try Interrupt.check()
    let list = SyncMemory.field(b, \.worker).withMemoryRebound(to: clab_lock_worker.self, capacity: threads) {
      w in
      (0..<threads).map { i in
        Worker(
          tid: w[i].tid, turns: Int(w[i].turns), longestWait: Int(w[i].longest_wait_ns),
          totalWait: Int(w[i].total_wait_ns), cpu: Int(w[i].cpu_ns), wall: Int(w[i].wall_ns),
          voluntary: Int(w[i].voluntary), involuntary: Int(w[i].involuntary))
      }
    }
    return Result(
      implementation: implementation, fence: fence, workers: list, violations: Int(b.pointee.violations),
      turns: list.reduce(0) { $0 + $1.turns }, counter: Int(b.pointee.counter), wall: wall)
  }
}

/// Counting at scale (CLab/locks.c): an exact counter behind one mutex, a
/// sloppy one (local counts moved to the global one every S), or a counter per
/// thread, adjacent in memory (one cache line) or 128 bytes apart.
public enum CounterBench {
  public enum Mode: String, Sendable {
    case exact, sloppy, perThread = "per-thread"
    var code: Int32 {
      switch self {
      case .exact: Int32(CLAB_COUNTER_EXACT.rawValue)
      case .sloppy: Int32(CLAB_COUNTER_SLOPPY.rawValue)
      case .perThread: Int32(CLAB_COUNTER_PER_THREAD.rawValue)
      }
    }
  }

  public struct Result: Sendable {
    public var mode: Mode
    public var threads: Int
    public var padded: Bool
    public var increments: Int
    /// What a reader of the global counter saw when every thread had finished counting.
    public var seenBeforeFlush: Int
    /// The total after every local count was added.
    public var total: Int
    public var wall: Int
    public var slowestThread: Int
    /// Where each thread's own counter lived.
    public var addresses: [UInt]
    /// Share of the run during which at least two threads were counting at the same time.
    public var together: Double
  }

  public static func run(mode: Mode, threads: Int, increments: Int, threshold: Int, padded: Bool) throws
    -> Result
  {
    let memory = try SyncMemory<clab_counter_bench>.map(shared: false)
    defer { memory.unmap() }
    let c = memory.pointer
    c.pointee.mode = mode.code
    c.pointee.threads = Int32(threads)
    c.pointee.padded = padded ? 1 : 0
    c.pointee.increments = Int64(increments)
    c.pointee.threshold = Int64(max(1, threshold))
    try PthreadPrimitives.initMutex(memory.field(\.lock))
    defer { PthreadPrimitives.destroy(memory.field(\.lock)) }
    var workers = WorkerThreads()
    defer { workers.joinAll() }
    for i in 0..<threads {
      try workers.start("counter \(i + 1)") { clab_counter_worker_run(memory.pointer, Int32(i)) }
    }
    let start = MonotonicClock.nanoseconds()
    SharedInt32.store(memory.field(\.go), 1)
    workers.joinAll()
    let wall = Int(MonotonicClock.nanoseconds() - start)
    let packed = memory.field(\.packed).withMemoryRebound(to: Int64.self, capacity: threads) { p in
      (0..<threads).map { (Int(p[$0]), UInt(bitPattern: p + $0)) }
    }
    let spread = memory.field(\.spread).withMemoryRebound(to: clab_padded_counter.self, capacity: threads) {
      p in
      (0..<threads).map { i in (Int(p[i].value), UInt(bitPattern: p + i)) }
    }
    let elapsed = memory.field(\.elapsed_ns).withMemoryRebound(to: Int64.self, capacity: threads) { p in
      (0..<threads).map { Int(p[$0]) }
    }
    let started = memory.field(\.started_ns).withMemoryRebound(to: Int64.self, capacity: threads) { p in
      (0..<threads).map { UInt64(p[$0]) }
    }
    let intervals = (0..<threads).map { (start: started[$0], end: started[$0] + UInt64(elapsed[$0])) }
    let span = (intervals.map(\.end).max() ?? 0) &- (intervals.map(\.start).min() ?? 0)
    let together = threads < 2 ? 0 : Double(IntervalSweep(intervals).overlapTime) / Double(max(1, span))
    let locals = padded ? spread : packed
    let total = mode == .perThread ? locals.reduce(0) { $0 + $1.0 } : Int(c.pointee.global)
    let seen = mode == .perThread ? total : Int(c.pointee.global_before_flush)
    return Result(
      mode: mode, threads: threads, padded: padded, increments: increments, seenBeforeFlush: seen,
      total: total,
      wall: wall, slowestThread: elapsed.max() ?? 0, addresses: locals.map(\.1), together: together)
  }
}
