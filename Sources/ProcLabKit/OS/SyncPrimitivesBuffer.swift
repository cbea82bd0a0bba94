import CLab
import Glibc

/// What a bounded-buffer run recorded: a mutex and two condition variables
/// (pthread_cond_wait / pthread_cond_signal) between producers and consumers.
public struct BoundedBufferResult: Sendable {
  public struct Worker: Sendable {
    public var tid: Int32
    public var consumer: Bool
    public var handled: Int
    public var waits: Int
    public var wakeups: Int
    public var emptyWakeups: Int
  }
  public var produced, consumed, duplicates, missing, underflows: Int
  public var hung: Bool
  public var finishedWorkers: Int
  public var producerWaits, consumerWaits, producerWakeups, consumerWakeups, emptyWakeups, fullWakeups: Int
  public var maxCount, minCount: Int
  public var elapsed: UInt64
  public var workers: [Worker]
}
/// How consumers wait for "not empty".
public enum BufferVariant: Int32, Sendable {
  /// `while (empty) pthread_cond_wait(...)` under the mutex.
  case correct = 0
  /// `if (empty) pthread_cond_wait(...)`: a stolen or spurious wake-up goes unnoticed.
  case checkWithIf = 1
  /// Checks "empty" without the mutex, then waits: a signal sent in between is lost.
  case checkWithoutLock = 2
}

extension SyncPrimitives {
  /// Runs P producer and C consumer threads over a ring buffer of `capacity`
  /// slots guarded by one pthread mutex and two pthread condition variables
  /// ("not full", "not empty") — or one shared by both sides — woken by
  /// pthread_cond_signal or pthread_cond_broadcast, correct or with one of two
  /// classic bugs. If workers are still blocked after `timeout`, the result
  /// says `hung` and the threads are left blocked: call only in a lab child.
  public static func boundedBuffer(
    producers: Int, consumers: Int, capacity: Int, items: Int, variant: BufferVariant = .correct,
    conditionVariables: Int = 2, broadcast: Bool = false, timeout: Duration
  ) throws -> BoundedBufferResult {
    let total = producers + consumers
    guard total <= 2 * Int(CLAB_CONDVAR_MAX_THREADS), capacity >= 1, items >= 1 else {
      throw SystemError("pthread_create", errno: EINVAL)
    }
    let memory = try SyncMemory<clab_buffer>.map(shared: false)
    let slots = try SyncMemory<Int32>.map(shared: false, count: capacity)
    let taken = try SyncMemory<Int32>.map(shared: false, count: items)
    let b = memory.pointer
    b.pointee.producers = Int32(producers)
    b.pointee.consumers = Int32(consumers)
    b.pointee.capacity = Int32(capacity)
    b.pointee.items = Int32(items)
    b.pointee.variant = variant.rawValue
    b.pointee.condition_variables = Int32(conditionVariables)
    b.pointee.broadcast = broadcast ? 1 : 0
    b.pointee.slots = slots.pointer
    b.pointee.taken = taken.pointer
    for i in 0..<capacity { slots.pointer[i] = -1 }
    try PthreadPrimitives.initMutex(memory.field(\.mutex))
    try PthreadPrimitives.initCondition(memory.field(\.not_full))
    try PthreadPrimitives.initCondition(memory.field(\.not_empty))
    Trace.record(
      "pthread_cond_init", conditionVariables == 1 ? "one for both sides" : "not_full, not_empty",
      result: "0",
      since: MonotonicClock.nanoseconds())

    let start = MonotonicClock.nanoseconds()
    var threads = WorkerThreads()
    for i in 0..<total {
      try threads.start(i < producers ? "producer \(i + 1)" : "consumer \(i + 1 - producers)") {
        let b = memory.pointer
        if i < producers { clab_buffer_producer(b, Int32(i)) } else { clab_buffer_consumer(b, Int32(i)) }
      }
    }
    // The watchdog: wait for everyone to leave, but not forever (a faulty variant may hang).
    let finished = memory.field(\.finished)
    let deadline = start + UInt64(max(0, timeout.nanoseconds))
    while SharedInt32.load(finished) < Int32(total) && MonotonicClock.nanoseconds() < deadline {
      MonotonicClock.pause(.microseconds(500))
    }
    let hung = SharedInt32.load(finished) < Int32(total)
    let elapsed = MonotonicClock.nanoseconds() - start
    pthread_mutex_lock(memory.field(\.mutex))
    let r = b.pointee
    var missing = 0
    var duplicates = 0
    for i in 0..<items {
      if taken.pointer[i] == 0 {
        missing += 1
      } else if taken.pointer[i] > 1 {
        duplicates += Int(taken.pointer[i]) - 1
      }
    }
    let workers = SyncMemory.field(b, \.worker).withMemoryRebound(
      to: clab_condvar_worker.self, capacity: total
    ) {
      w in
      (0..<total).map { i in
        BoundedBufferResult.Worker(
          tid: w[i].tid, consumer: w[i].consumer != 0 || i >= producers, handled: Int(w[i].handled),
          waits: Int(w[i].waits), wakeups: Int(w[i].wakeups), emptyWakeups: Int(w[i].empty_wakeups))
      }
    }
    pthread_mutex_unlock(memory.field(\.mutex))
    Trace.record("pthread_create", "×\(total) (producers, consumers)", result: "0", since: start)
    Trace.record(
      "pthread_cond_wait", "×\(r.producer_waits + r.consumer_waits)", result: "0", since: start)
    if !hung {
      // Everyone left: join them and free what they used. Hung threads stay
      // blocked with their memory; the lab child's exit takes them along.
      threads.joinAll()
      PthreadPrimitives.destroy(memory.field(\.not_empty))
      PthreadPrimitives.destroy(memory.field(\.not_full))
      PthreadPrimitives.destroy(memory.field(\.mutex))
      taken.unmap()
      slots.unmap()
      memory.unmap()
    }
    return BoundedBufferResult(
      produced: Int(r.produced), consumed: Int(r.consumed), duplicates: duplicates, missing: missing,
      underflows: Int(r.underflows), hung: hung, finishedWorkers: Int(r.finished),
      producerWaits: Int(r.producer_waits), consumerWaits: Int(r.consumer_waits),
      producerWakeups: Int(r.producer_wakeups), consumerWakeups: Int(r.consumer_wakeups),
      emptyWakeups: Int(r.empty_wakeups), fullWakeups: Int(r.full_wakeups), maxCount: Int(r.max_count),
      minCount: Int(r.min_count), elapsed: elapsed, workers: workers)
  }
}

/// Two threads and two pthread mutexes, A and B, with lock wrappers that
/// record who holds what and who waits for what (CLab/sync.c).
public final class LockPair {
  public enum Order: Int32, Sendable {
    /// Thread 1 takes A then B, thread 2 takes B then A: they can deadlock.
    case opposite = 0
    /// Both take A then B (a global lock order).
    case ordered = 1
    /// The second lock with pthread_mutex_trylock: refused, give back the first and retry.
    case trylock = 2
  }

  /// What the wrappers recorded at one moment.
  public struct State: Sendable, Equatable {
    public var tids: [Int32]
    /// holds[thread] = lock indexes (0 = A, 1 = B)
    public var holds: [[Int]]
    public var waits: [Int?]
    public var done: [Bool]
    public var refusals: [Int]
    public var version: Int
  }

  private let memory: SyncMemory<clab_deadlock>
  private var threads = WorkerThreads()

  /// Creates the mutexes and starts both threads (pthread_mutex_init ×3, pthread_create ×2).
  public init(order: Order, pause: Duration) throws {
    let start = MonotonicClock.nanoseconds()
    memory = try SyncMemory<clab_deadlock>.map(shared: false)
    let d = memory.pointer
    d.pointee.mode = order.rawValue
    d.pointee.pause_ns = Int64(pause.nanoseconds)
    d.pointee.state.waits = (-1, -1)
    try SyncMemory.field(d, \.locks).withMemoryRebound(to: pthread_mutex_t.self, capacity: 2) { locks in
      try PthreadPrimitives.initMutex(locks)
      try PthreadPrimitives.initMutex(locks + 1)
    }
    try PthreadPrimitives.initMutex(memory.field(\.state_lock))
    Trace.record("pthread_mutex_init", "A, B", result: "0", since: start)
    let shared = memory
    for i in 0..<2 {
      try threads.start("t\(i + 1)") { clab_deadlock_thread(shared.pointer, Int32(i)) }
    }
    Trace.record(
      "pthread_create", "×2 (A→B, \(order == .opposite ? "B→A" : "A→B"))", result: "0", since: start)
  }

  public var state: State {
    // Under the threads' own state lock: a consistent picture, never half an update.
    let lock = memory.field(\.state_lock)
    pthread_mutex_lock(lock)
    let s = memory.pointer.pointee.state
    pthread_mutex_unlock(lock)
    func holds(_ row: (Int32, Int32)) -> [Int] {
      [row.0 != 0 ? 0 : nil, row.1 != 0 ? 1 : nil].compactMap { $0 }
    }
    return State(
      tids: [s.tid.0, s.tid.1], holds: [holds(s.holds.0), holds(s.holds.1)],
      waits: [s.waits.0 >= 0 ? Int(s.waits.0) : nil, s.waits.1 >= 0 ? Int(s.waits.1) : nil],
      done: [s.done.0 != 0, s.done.1 != 0], refusals: [Int(s.refusals.0), Int(s.refusals.1)],
      version: Int(s.version))
  }

  /// Joins both threads (pthread_join): call only once both are done.
  public func finish() {
    let start = MonotonicClock.nanoseconds()
    threads.joinAll()
    Trace.record("pthread_join", "×2", result: "0", since: start)
    SyncMemory.field(memory.pointer, \.locks).withMemoryRebound(to: pthread_mutex_t.self, capacity: 2) {
      PthreadPrimitives.destroy($0)
      PthreadPrimitives.destroy($0 + 1)
    }
    PthreadPrimitives.destroy(memory.field(\.state_lock))
    memory.unmap()
  }
}
