import CLab
import Glibc

/// One turn of a worker in a mutex, semaphore or rwlock: when it asked, when
/// it got in, when it left (CLOCK_MONOTONIC nanoseconds).
public struct SyncTurn: Sendable, Equatable {
  public var requested: UInt64
  public var acquired: UInt64
  public var released: UInt64
  /// Voluntary context switches during the wait alone: the thread slept in the kernel (futex).
  public var waitSwitches: Int
  /// trylock refusals before this turn got in.
  public var refusals: Int
  /// Workers inside (this one included) when it entered.
  public var inside: Int
  public var waited: UInt64 { acquired &- requested }
  public var held: UInt64 { released &- acquired }
}

/// One worker thread (or child process) and its turns.
public struct SyncWorker: Sendable {
  public var tid: Int32
  public var writer: Bool
  public var turns: [SyncTurn]
  /// Voluntary/involuntary context switches of the whole worker (getrusage RUSAGE_THREAD).
  public var voluntary: Int
  public var involuntary: Int
}

/// What a run of workers through one primitive recorded.
public struct SyncTurnsResult: Sendable {
  public var workers: [SyncWorker]
  public var maxInside: Int
  public var maxReaders: Int
  public var writerOverlaps: Int
  public var interrupted: Bool
  public var timedOut: Bool
  public var childrenReaped: Int
  public var start: UInt64
  public var end: UInt64
}

/// Real pthread and POSIX synchronization primitives driven by worker threads
/// written in C (CLab/sync.c), so that the timings are not disturbed by the
/// Swift runtime and so that forked workers run no Swift at all.
public enum SyncPrimitives {
  public enum Kind: Int32, Sendable {
    case mutex = 0, trylock = 1, semaphore = 2, rwlock = 3
  }

  /// Runs `workers` threads (or, with `processes`, forked children sharing a
  /// MAP_SHARED anonymous mapping) that each take `rounds` turns in one
  /// primitive, holding it for `hold`: pthread_mutex_lock / pthread_mutex_trylock,
  /// sem_init + sem_wait/sem_post, or pthread_rwlock_rdlock/wrlock. Threads are
  /// joined and children reaped (killed at `timeout`) before it returns.
  public static func takeTurns(
    kind: Kind, workers: Int, rounds: Int, hold: Duration, permits: Int = 1, writers: Int = 0,
    processes: Bool = false, preferWriters: Bool = false, timeout: Duration = .seconds(20)
  ) throws -> SyncTurnsResult {
    guard (1...Int(CLAB_SYNC_MAX_WORKERS)).contains(workers) else {
      throw SystemError("pthread_create", errno: EINVAL)
    }
    let memory = try SyncMemory<clab_sync_shared>.map(shared: processes)
    defer { memory.unmap() }
    let s = memory.pointer
    s.pointee.kind = kind.rawValue
    s.pointee.rounds = Int32(rounds)
    s.pointee.hold_ns = Int64(hold.nanoseconds)
    SyncMemory.field(s, \.worker).withMemoryRebound(to: clab_sync_worker.self, capacity: workers) { w in
      for i in 0..<workers { w[i].writer = kind == .rwlock && i >= workers - writers ? 1 : 0 }
    }
    try PthreadPrimitives.initMutex(memory.field(\.mutex), processShared: processes)
    defer { PthreadPrimitives.destroy(memory.field(\.mutex)) }
    try PthreadPrimitives.initSemaphore(
      memory.field(\.semaphore), processShared: processes, value: max(1, permits))
    defer { PthreadPrimitives.destroy(memory.field(\.semaphore)) }
    try PthreadPrimitives.initRWLock(
      memory.field(\.rwlock), processShared: processes, preferWriters: preferWriters)
    defer { PthreadPrimitives.destroy(memory.field(\.rwlock)) }
    recordSetup(kind: kind, permits: permits, processes: processes)

    let started = MonotonicClock.nanoseconds()
    var reaped = 0
    var timedOut = false
    if processes {
      (reaped, timedOut) = try runChildren(memory, workers: workers, timeout: timeout)
    } else {
      try runThreads(memory, workers: workers)
    }
    let ended = MonotonicClock.nanoseconds()
    Trace.record(
      kind.takeCall, "×\(workers * rounds) turns (in the workers)", result: "0", since: started)
    let list = readWorkers(s, count: workers)
    if Interrupt.isRequested { throw Interrupted() }
    return SyncTurnsResult(
      workers: list, maxInside: Int(s.pointee.max_inside), maxReaders: Int(s.pointee.max_readers),
      writerOverlaps: Int(s.pointee.writer_overlaps), interrupted: false, timedOut: timedOut,
      childrenReaped: reaped, start: started, end: ended)
  }

  /// Threads: start every worker, open the gate together; joined on every way out.
  private static func runThreads(_ memory: SyncMemory<clab_sync_shared>, workers: Int) throws {
    var threads = WorkerThreads()
    let gate = memory.field(\.go)
    defer {
      if SharedInt32.load(gate) == 0 { SharedInt32.store(gate, -1) }
      threads.joinAll()
    }
    for i in 0..<workers {
      try threads.start("worker \(i + 1)") { clab_sync_take_turns(memory.pointer, Int32(i)) }
    }
    SharedInt32.store(gate, 1)
  }

  /// Processes: fork every worker (the child runs only C), open the gate, reap
  /// each with a deadline; at the deadline or on Ctrl-C kill the rest (SIGKILL) and reap them.
  private static func runChildren(_ memory: SyncMemory<clab_sync_shared>, workers: Int, timeout: Duration)
    throws -> (reaped: Int, timedOut: Bool)
  {
    let gate = memory.field(\.go)
    var pids: [Int32] = []
    var reaped: Set<Int32> = []
    var timedOut = false
    defer {
      for pid in pids where !reaped.contains(pid) { _ = ForkedWorkers.killAndReap(pid) }
    }
    for i in 0..<workers {
      let start = MonotonicClock.nanoseconds()
      let pid = clab_sync_fork_worker(memory.pointer, Int32(i))
      let err = errno
      Trace.record(
        "fork", "worker \(i + 1)", result: pid < 0 ? SystemError.name(of: err) : "pid \(pid)", since: start)
      if pid < 0 {
        SharedInt32.store(gate, -1)
        throw SystemError("fork", errno: err)
      }
      pids.append(pid)
    }
    SharedInt32.store(gate, 1)
    let deadline = MonotonicClock.nanoseconds() + UInt64(max(0, timeout.nanoseconds))
    for pid in pids {
      let now = MonotonicClock.nanoseconds()
      let left = Duration.nanoseconds(Int64(deadline > now ? deadline - now : 0))
      if (try? Wait.wait4(pid, timeout: left)) ?? nil != nil {
        reaped.insert(pid)
      } else {
        timedOut = !Interrupt.isRequested
        break
      }
    }
    let finished = reaped.count
    for pid in pids where !reaped.contains(pid) {
      if ForkedWorkers.killAndReap(pid) != nil { reaped.insert(pid) }
    }
    return (reaped.count, timedOut || finished < workers && !Interrupt.isRequested)
  }

  private static func readWorkers(_ s: UnsafeMutablePointer<clab_sync_shared>, count: Int) -> [SyncWorker] {
    SyncMemory.field(s, \.worker).withMemoryRebound(to: clab_sync_worker.self, capacity: count) { w in
      (0..<count).map { i in
        let worker = w[i]
        let turns = withUnsafePointer(to: worker.turn) { tp in
          tp.withMemoryRebound(to: clab_sync_turn.self, capacity: Int(CLAB_SYNC_MAX_TURNS)) { t in
            (0..<Int(worker.turns)).map { k in
              SyncTurn(
                requested: t[k].requested_ns, acquired: t[k].acquired_ns, released: t[k].released_ns,
                waitSwitches: t[k].wait_switches, refusals: Int(t[k].refusals), inside: Int(t[k].inside))
            }
          }
        }
        return SyncWorker(
          tid: worker.tid, writer: worker.writer != 0, turns: turns, voluntary: worker.voluntary,
          involuntary: worker.involuntary)
      }
    }
  }

  private static func recordSetup(kind: Kind, permits: Int, processes: Bool) {
    guard Trace.isEnabled else { return }
    let shared = processes ? "PTHREAD_PROCESS_SHARED" : "PTHREAD_PROCESS_PRIVATE"
    let start = MonotonicClock.nanoseconds()
    switch kind {
    case .mutex, .trylock:
      Trace.record("pthread_mutex_init", "attr pshared=\(shared)", result: "0", since: start)
    case .semaphore:
      Trace.record("sem_init", "pshared=\(processes ? 1 : 0), value=\(permits)", result: "0", since: start)
    case .rwlock: Trace.record("pthread_rwlock_init", "attr pshared=\(shared)", result: "0", since: start)
    }
  }
}

extension SyncPrimitives.Kind {
  /// The call each worker makes to get in.
  var takeCall: String {
    switch self {
    case .mutex: "pthread_mutex_lock"
    case .trylock: "pthread_mutex_trylock"
    case .semaphore: "sem_wait"
    case .rwlock: "pthread_rwlock_rdlock/wrlock"
    }
  }
}
