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
    processes: Bool = false, timeout: Duration = .seconds(20)
  ) throws -> SyncTurnsResult {
    let run = UnsafeMutablePointer<clab_sync_run>.allocate(capacity: 1)
    defer { run.deallocate() }
    memset(run, 0, MemoryLayout<clab_sync_run>.size)
    run.pointee.kind = kind.rawValue
    run.pointee.workers = Int32(workers)
    run.pointee.rounds = Int32(rounds)
    run.pointee.permits = Int32(permits)
    run.pointee.writers = Int32(writers)
    run.pointee.processes = processes ? 1 : 0
    run.pointee.hold_ns = Int(hold.nanoseconds)
    run.pointee.timeout_ms = Int(timeout.milliseconds)
    let start = MonotonicClock.nanoseconds()
    let status = clab_sync_run_turns(run)
    let r = run.pointee
    recordCalls(
      kind: kind, workers: workers, rounds: rounds, permits: permits, processes: processes,
      mapping: (UInt(r.shared_addr), Int(r.shared_bytes)), since: start)
    if status != 0 {
      let e = SystemError(processes ? "fork" : "pthread_create", errno: r.failed_errno)
      throw e
    }
    var list: [SyncWorker] = []
    withUnsafePointer(to: run.pointee.worker) { tuple in
      tuple.withMemoryRebound(to: clab_sync_worker.self, capacity: Int(CLAB_SYNC_MAX_WORKERS)) { w in
        for i in 0..<workers {
          let worker = w[i]
          var turns: [SyncTurn] = []
          withUnsafePointer(to: worker.turn) { tp in
            tp.withMemoryRebound(to: clab_sync_turn.self, capacity: Int(CLAB_SYNC_MAX_TURNS)) { t in
              for k in 0..<Int(worker.turns) {
                turns.append(
                  SyncTurn(
                    requested: t[k].requested_ns, acquired: t[k].acquired_ns, released: t[k].released_ns,
                    waitSwitches: t[k].wait_switches, refusals: Int(t[k].refusals), inside: Int(t[k].inside)))
              }
            }
          }
          list.append(
            SyncWorker(
              tid: worker.tid, writer: worker.writer != 0, turns: turns, voluntary: worker.voluntary,
              involuntary: worker.involuntary))
        }
      }
    }
    if r.interrupted != 0 { throw Interrupted() }
    return SyncTurnsResult(
      workers: list, maxInside: Int(r.max_inside), maxReaders: Int(r.max_readers),
      writerOverlaps: Int(r.writer_overlaps), interrupted: r.interrupted != 0, timedOut: r.timed_out != 0,
      childrenReaped: Int(r.children_reaped), start: r.start_ns, end: r.end_ns)
  }

  private static func recordCalls(
    kind: Kind, workers: Int, rounds: Int, permits: Int, processes: Bool, mapping: (UInt, Int),
    since start: UInt64
  ) {
    guard Trace.isEnabled else { return }
    let shared = processes ? "PTHREAD_PROCESS_SHARED" : "PTHREAD_PROCESS_PRIVATE"
    if processes {
      Trace.record(
        "mmap", "NULL, \(mapping.1), PROT_READ|PROT_WRITE, MAP_SHARED|MAP_ANONYMOUS, -1, 0",
        result: Units.address(mapping.0), since: start)
    }
    switch kind {
    case .mutex, .trylock:
      Trace.record("pthread_mutex_init", "attr pshared=\(shared)", result: "0", since: start)
    case .semaphore:
      Trace.record("sem_init", "pshared=\(processes ? 1 : 0), value=\(permits)", result: "0", since: start)
    case .rwlock: Trace.record("pthread_rwlock_init", "attr pshared=\(shared)", result: "0", since: start)
    }
    Trace.record(processes ? "fork" : "pthread_create", "×\(workers) workers", result: "0", since: start)
    let take: String
    switch kind {
    case .mutex: take = "pthread_mutex_lock"
    case .trylock: take = "pthread_mutex_trylock"
    case .semaphore: take = "sem_wait"
    case .rwlock: take = "pthread_rwlock_rdlock/wrlock"
    }
    Trace.record(take, "×\(workers * rounds) turns (in the workers)", result: "0", since: start)
    Trace.record(processes ? "waitpid" : "pthread_join", "×\(workers)", result: "0", since: start)
    if processes {
      Trace.record("munmap", "\(Units.address(mapping.0)), \(mapping.1)", result: "0", since: start)
    }
  }
}
