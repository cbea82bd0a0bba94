import CLab
import Glibc
import Synchronization

/// Memory for primitives and for the records that worker loops write:
/// mmap(MAP_ANONYMOUS), zero-filled, MAP_SHARED when forked children must
/// see the same bytes (a process-shared mutex lives in memory both map).
public struct SyncMemory<T>: @unchecked Sendable {  // why: the C workers own the bytes while they run
  public let pointer: UnsafeMutablePointer<T>
  public let bytes: Int
  public let shared: Bool

  /// The corresponding call is `mmap(NULL, size, PROT_READ|PROT_WRITE, MAP_SHARED or MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)`.
  public static func map(shared: Bool, count: Int = 1) throws -> SyncMemory {
    let size = MemoryLayout<T>.stride * max(1, count)
    let start = MonotonicClock.nanoseconds()
    let flags = (shared ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS
    guard let raw = mmap(nil, size, PROT_READ | PROT_WRITE, flags, -1, 0), raw != MAP_FAILED else {
      throw SystemError("mmap")
    }
    Trace.record(
      "mmap", "NULL, \(size), PROT_READ|PROT_WRITE, \(shared ? "MAP_SHARED" : "MAP_PRIVATE")|MAP_ANONYMOUS",
      result: Units.address(UInt(bitPattern: raw)), since: start)
    return SyncMemory(
      pointer: raw.bindMemory(to: T.self, capacity: max(1, count)), bytes: size, shared: shared)
  }

  /// The corresponding call is `munmap`.
  public func unmap() {
    let start = MonotonicClock.nanoseconds()
    let rc = munmap(pointer, bytes)
    Trace.record("munmap", "\(Units.address(address)), \(bytes)", result: "\(rc)", since: start)
  }

  public var address: UInt { UInt(bitPattern: pointer) }

  /// The address of one field of the C struct, for the pthread calls that initialise it in place.
  public func field<V>(_ path: WritableKeyPath<T, V>) -> UnsafeMutablePointer<V> {
    SyncMemory.field(pointer, path)
  }

  public static func field<V>(_ base: UnsafeMutablePointer<T>, _ path: WritableKeyPath<T, V>)
    -> UnsafeMutablePointer<V>
  {
    (UnsafeMutableRawPointer(base) + MemoryLayout<T>.offset(of: path)!).assumingMemoryBound(to: V.self)
  }
}

/// Atomic loads and stores of `int32_t` fields that C loops also touch atomically
/// (the start gate, counters): Atomic<Int32> has the layout of int32_t.
public enum SharedInt32 {
  public static func load(_ p: UnsafeMutablePointer<Int32>) -> Int32 {
    UnsafeMutableRawPointer(p).assumingMemoryBound(to: Atomic<Int32>.self).pointee.load(
      ordering: .sequentiallyConsistent)
  }
  public static func store(_ p: UnsafeMutablePointer<Int32>, _ value: Int32) {
    UnsafeMutableRawPointer(p).assumingMemoryBound(to: Atomic<Int32>.self).pointee.store(
      value, ordering: .sequentiallyConsistent)
  }
}

/// pthread and POSIX primitives initialised in place; every return code checked.
public enum PthreadPrimitives {
  /// The corresponding calls are `pthread_mutexattr_setpshared` and `pthread_mutex_init`.
  public static func initMutex(_ m: UnsafeMutablePointer<pthread_mutex_t>, processShared: Bool = false) throws
  {
    var attr = pthread_mutexattr_t()
    try check("pthread_mutexattr_init", pthread_mutexattr_init(&attr))
    defer { pthread_mutexattr_destroy(&attr) }
    if processShared {
      try check(
        "pthread_mutexattr_setpshared", pthread_mutexattr_setpshared(&attr, Int32(PTHREAD_PROCESS_SHARED)))
    }
    try check("pthread_mutex_init", pthread_mutex_init(m, &attr))
  }

  /// The corresponding call is `sem_init(sem, pshared, value)`.
  public static func initSemaphore(_ s: UnsafeMutablePointer<sem_t>, processShared: Bool = false, value: Int)
    throws
  {
    try systemCall("sem_init") { sem_init(s, processShared ? 1 : 0, UInt32(max(0, value))) }
  }

  /// The corresponding calls are `pthread_rwlockattr_setpshared`, `pthread_rwlockattr_setkind_np`
  /// and `pthread_rwlock_init`.
  public static func initRWLock(
    _ rw: UnsafeMutablePointer<pthread_rwlock_t>, processShared: Bool = false, preferWriters: Bool = false
  ) throws {
    var attr = pthread_rwlockattr_t()
    try check("pthread_rwlockattr_init", pthread_rwlockattr_init(&attr))
    defer { pthread_rwlockattr_destroy(&attr) }
    if processShared {
      try check(
        "pthread_rwlockattr_setpshared", pthread_rwlockattr_setpshared(&attr, Int32(PTHREAD_PROCESS_SHARED)))
    }
    let kind = preferWriters ? PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP : PTHREAD_RWLOCK_PREFER_READER_NP
    try check("pthread_rwlockattr_setkind_np", pthread_rwlockattr_setkind_np(&attr, Int32(kind)))
    try check("pthread_rwlock_init", pthread_rwlock_init(rw, &attr))
  }

  /// The corresponding call is `pthread_cond_init(cond, NULL)`.
  public static func initCondition(_ c: UnsafeMutablePointer<pthread_cond_t>) throws {
    try check("pthread_cond_init", pthread_cond_init(c, nil))
  }

  /// The corresponding call is `pthread_barrier_init(barrier, NULL, count)`.
  public static func initBarrier(_ b: UnsafeMutablePointer<pthread_barrier_t>, count: Int) throws {
    try check("pthread_barrier_init", pthread_barrier_init(b, nil, UInt32(count)))
  }

  public static func destroy(_ m: UnsafeMutablePointer<pthread_mutex_t>) { pthread_mutex_destroy(m) }
  public static func destroy(_ s: UnsafeMutablePointer<sem_t>) { sem_destroy(s) }
  public static func destroy(_ rw: UnsafeMutablePointer<pthread_rwlock_t>) { pthread_rwlock_destroy(rw) }
  public static func destroy(_ c: UnsafeMutablePointer<pthread_cond_t>) { pthread_cond_destroy(c) }
  public static func destroy(_ b: UnsafeMutablePointer<pthread_barrier_t>) { pthread_barrier_destroy(b) }

  /// pthread functions return the error number instead of setting errno.
  static func check(_ call: String, _ rc: Int32) throws {
    if rc != 0 { throw SystemError(call, errno: rc) }
  }
}

/// Worker threads that run a C loop: started with every signal blocked
/// (Threads.spawn), joined on every way out.
public struct WorkerThreads {
  public private(set) var handles: [Threads.Handle] = []
  public init() {}

  public mutating func start(_ label: String, _ body: @escaping @Sendable () -> Void) throws {
    handles.append(try Threads.spawn(label, body))
  }

  /// pthread_join for each, then waits until /proc/self/task no longer lists `tids`.
  public mutating func joinAll(tids: [Int32] = []) {
    Threads.joinAll(handles, tids: tids)
    handles = []
  }
}

/// The pthread rwlock calls an experiment makes from Swift; each returns the
/// error number (0 on success), as pthread functions do.
public enum RWLockCalls {
  /// The corresponding call is `pthread_rwlock_rdlock`.
  @discardableResult
  public static func readLock(_ rw: UnsafeMutablePointer<pthread_rwlock_t>) -> Int32 {
    pthread_rwlock_rdlock(rw)
  }
  /// The corresponding call is `pthread_rwlock_tryrdlock`: EBUSY instead of waiting.
  public static func tryReadLock(_ rw: UnsafeMutablePointer<pthread_rwlock_t>) -> Int32 {
    pthread_rwlock_tryrdlock(rw)
  }
  /// The corresponding call is `pthread_rwlock_wrlock`.
  @discardableResult
  public static func writeLock(_ rw: UnsafeMutablePointer<pthread_rwlock_t>) -> Int32 {
    pthread_rwlock_wrlock(rw)
  }
  /// The corresponding call is `pthread_rwlock_unlock`.
  @discardableResult
  public static func unlock(_ rw: UnsafeMutablePointer<pthread_rwlock_t>) -> Int32 {
    pthread_rwlock_unlock(rw)
  }
}

/// fork from a process with threads (CLab/patterns.c holds the child's body).
public enum ForkWithThreads {
  /// The corresponding call is `pthread_atfork(prepare, parent, child)`: handlers that lock
  /// the mutex before fork and unlock it on both sides after. They cannot be removed: lab children only.
  public static func registerAtfork(_ lock: UnsafeMutablePointer<clab_fork_lock>) throws {
    try PthreadPrimitives.check("pthread_atfork", clab_fork_register_atfork(lock))
  }

  /// The corresponding call is `fork()`: the child (only C) reports 'f' on `fd`, then
  /// calls pthread_mutex_lock on the mutex, reports 'l' and `_exit`s.
  public static func forkChildThatLocks(_ lock: UnsafeMutablePointer<clab_fork_lock>, reportFD fd: Int32)
    throws
    -> Int32
  {
    let start = MonotonicClock.nanoseconds()
    let pid = clab_fork_child_locks(lock, fd)
    let err = errno
    Trace.record(
      "fork", "child locks the copied mutex", result: pid < 0 ? SystemError.name(of: err) : "pid \(pid)",
      since: start)
    if pid < 0 { throw SystemError("fork", errno: err) }
    return pid
  }
}
