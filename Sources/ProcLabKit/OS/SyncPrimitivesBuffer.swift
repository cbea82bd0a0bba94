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
  public var producerWaits, consumerWaits, producerWakeups, consumerWakeups, emptyWakeups: Int
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
  /// ("not full", "not empty"), correct or with one of two classic bugs. If workers are still blocked after `timeout`, the result
  /// says `hung` and the threads are left blocked: call only in a lab child.
  public static func boundedBuffer(
    producers: Int, consumers: Int, capacity: Int, items: Int, variant: BufferVariant = .correct,
    timeout: Duration
  ) throws -> BoundedBufferResult {
    let run = UnsafeMutablePointer<clab_condvar_run>.allocate(capacity: 1)
    defer { run.deallocate() }
    memset(run, 0, MemoryLayout<clab_condvar_run>.size)
    run.pointee.producers = Int32(producers)
    run.pointee.consumers = Int32(consumers)
    run.pointee.capacity = Int32(capacity)
    run.pointee.items = Int32(items)
    run.pointee.variant = variant.rawValue
    run.pointee.timeout_ms = Int(timeout.milliseconds)
    let start = MonotonicClock.nanoseconds()
    let status = clab_condvar_run_buffer(run)
    Trace.record("pthread_cond_init", "not_full, not_empty", result: "0", since: start)
    Trace.record(
      "pthread_create", "×\(producers + consumers) (producers, consumers)", result: "0", since: start)
    Trace.record(
      "pthread_cond_wait", "×\(run.pointee.producer_waits + run.pointee.consumer_waits)", result: "0",
      since: start)
    if status < 0 { throw SystemError("pthread_create", errno: ENOMEM) }
    let r = run.pointee
    var workers: [BoundedBufferResult.Worker] = []
    withUnsafePointer(to: run.pointee.worker) { tuple in
      tuple.withMemoryRebound(to: clab_condvar_worker.self, capacity: 2 * Int(CLAB_CONDVAR_MAX_THREADS)) {
        w in
        for i in 0..<(producers + consumers) {
          workers.append(
            .init(
              tid: w[i].tid, consumer: w[i].consumer != 0 || i >= producers, handled: Int(w[i].handled),
              waits: Int(w[i].waits), wakeups: Int(w[i].wakeups), emptyWakeups: Int(w[i].empty_wakeups)))
        }
      }
    }
    return BoundedBufferResult(
      produced: Int(r.produced), consumed: Int(r.consumed), duplicates: Int(r.duplicates),
      missing: Int(r.missing),
      underflows: Int(r.underflows), hung: r.hung != 0, finishedWorkers: Int(r.finished_workers),
      producerWaits: Int(r.producer_waits),
      consumerWaits: Int(r.consumer_waits), producerWakeups: Int(r.producer_wakeups),
      consumerWakeups: Int(r.consumer_wakeups), emptyWakeups: Int(r.empty_wakeups),
      maxCount: Int(r.max_count),
      minCount: Int(r.min_count), elapsed: r.end_ns &- r.start_ns, workers: workers)
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

  private let pair: OpaquePointer

  /// Creates the mutexes and starts both threads (pthread_mutex_init, pthread_create ×2).
  public init(order: Order, pause: Duration) throws {
    let start = MonotonicClock.nanoseconds()
    guard let p = clab_deadlock_start(order.rawValue, Int(pause.nanoseconds)) else {
      throw SystemError("pthread_create")
    }
    Trace.record("pthread_mutex_init", "A, B", result: "0", since: start)
    Trace.record(
      "pthread_create", "×2 (A→B, \(order == .opposite ? "B→A" : "A→B"))", result: "0", since: start)
    pair = p
  }

  public var state: State {
    var s = clab_deadlock_state()
    clab_deadlock_snapshot(pair, &s)
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
    clab_deadlock_finish(pair)
    Trace.record("pthread_join", "×2", result: "0", since: start)
  }
}
