import CLab
import Synchronization

/// The OS work behind `rwlock`'s claims about who goes first: a new reader
/// against a waiting writer (tryrdlock), and a writer against a steady relay
/// of readers, for glibc's two rwlock kinds and for a lock built from semaphores.
enum RWLockExperiment {
  enum Kind: Int32, CaseIterable {
    case preferReaders = 0, preferWriters = 1, turnstile = 2
    var title: String {
      switch self {
      case .preferReaders: "pthread rwlock, PREFER_READER_NP (glibc's default)"
      case .preferWriters: "pthread rwlock, PREFER_WRITER_NONRECURSIVE_NP"
      case .turnstile: "built from semaphores: turnstile + room-empty"
      }
    }
    /// For tables: `glibc default (readers first)`.
    var short: String {
      switch self {
      case .preferReaders: "glibc default (readers first)"
      case .preferWriters: "glibc PREFER_WRITER_NONRECURSIVE"
      case .turnstile: "semaphores + turnstile"
      }
    }
    var key: String {
      switch self {
      case .preferReaders: "prefer_readers"
      case .preferWriters: "prefer_writers"
      case .turnstile: "turnstile"
      }
    }
  }

  struct Probe {
    var kind: Kind
    /// What pthread_rwlock_tryrdlock returned while a writer was waiting (0 or EBUSY).
    var tryReadResult: Int32
    /// Where the writer was asleep when the reader tried (/proc/self/task/TID/syscall).
    var writerWaitsIn: String
    var writerTID: Int32
  }

  /// A reader holds the lock; a writer calls wrlock and sleeps; a second reader calls tryrdlock.
  static func probe(preferWriters: Bool) throws -> Probe {
    let memory = try SyncMemory<pthread_rwlock_t>.map(shared: false)
    defer { memory.unmap() }
    try PthreadPrimitives.initRWLock(memory.pointer, preferWriters: preferWriters)
    defer { PthreadPrimitives.destroy(memory.pointer) }
    RWLockCalls.readLock(memory.pointer)
    var readerHolds = true
    let writerTID = Atomic<Int32>(0)
    var writer = WorkerThreads()
    defer {
      if readerHolds { RWLockCalls.unlock(memory.pointer) }
      writer.joinAll()
    }
    try writer.start("writer") {
      writerTID.store(Threads.currentTID(), ordering: .releasing)
      RWLockCalls.writeLock(memory.pointer)
      RWLockCalls.unlock(memory.pointer)
    }
    // Wait until the writer sleeps in the kernel inside wrlock.
    var waitsIn = "?"
    let deadline = MonotonicClock.nanoseconds() + 2_000_000_000
    while MonotonicClock.nanoseconds() < deadline {
      let tid = writerTID.load(ordering: .acquiring)
      if tid != 0, let s = Threads.syscallState(tid), s.number != nil {
        waitsIn = s.callName
        if waitsIn == "futex" { break }
      }
      MonotonicClock.pause(.microseconds(200))
    }
    let result = Atomic<Int32>(-1)
    var reader = WorkerThreads()
    try reader.start("reader 2") {
      let rc = RWLockCalls.tryReadLock(memory.pointer)
      if rc == 0 { RWLockCalls.unlock(memory.pointer) }
      result.store(rc, ordering: .releasing)
    }
    reader.joinAll()
    RWLockCalls.unlock(memory.pointer)
    readerHolds = false
    writer.joinAll()
    return Probe(
      kind: preferWriters ? .preferWriters : .preferReaders, tryReadResult: result.load(ordering: .acquiring),
      writerWaitsIn: waitsIn, writerTID: writerTID.load(ordering: .acquiring))
  }

  struct Starvation {
    var kind: Kind
    var readers: Int
    var writerWait: UInt64
    /// The writer got in only after the readers were told to stop.
    var starved: Bool
    var readerTurnsWhileWaiting: Int
    var readersInsideWhenAsked: Int
    var maxReadersInside: Int
    var readerTurns: Int
  }

  /// R readers take overlapping turns of `hold` without pause; a writer asks
  /// after one hold. The readers stop at `limit` whatever happens.
  static func starve(_ kind: Kind, readers: Int, hold: Duration, limit: Duration) throws -> Starvation {
    let memory = try SyncMemory<clab_rw_room>.map(shared: false)
    defer { memory.unmap() }
    let room = memory.pointer
    room.pointee.kind = kind.rawValue
    room.pointee.hold_ns = Int64(hold.nanoseconds)
    try PthreadPrimitives.initRWLock(memory.field(\.rwlock), preferWriters: kind == .preferWriters)
    try PthreadPrimitives.initSemaphore(memory.field(\.turnstile), value: 1)
    try PthreadPrimitives.initSemaphore(memory.field(\.room_empty), value: 1)
    try PthreadPrimitives.initMutex(memory.field(\.readers_lock))
    defer {
      PthreadPrimitives.destroy(memory.field(\.readers_lock))
      PthreadPrimitives.destroy(memory.field(\.room_empty))
      PthreadPrimitives.destroy(memory.field(\.turnstile))
      PthreadPrimitives.destroy(memory.field(\.rwlock))
    }
    var threads = WorkerThreads()
    defer {
      SharedInt32.store(memory.field(\.stop), 1)
      threads.joinAll()
    }
    // Stagger the readers so that their holds overlap: there is always one inside.
    for i in 0..<readers {
      try threads.start("reader \(i + 1)") { clab_rw_reader(memory.pointer) }
      MonotonicClock.pause(hold / max(1, readers))
    }
    try threads.start("writer") { clab_rw_writer(memory.pointer) }
    let start = MonotonicClock.nanoseconds()
    let end = start + UInt64(limit.nanoseconds)
    while room.pointee.writer_acquired_ns == 0 && MonotonicClock.nanoseconds() < end {
      try Interrupt.check()
      MonotonicClock.pause(.milliseconds(1))
    }
    let stopAt = MonotonicClock.nanoseconds()
    SharedInt32.store(memory.field(\.stop), 1)
    threads.joinAll()
    let r = room.pointee
    return Starvation(
      kind: kind, readers: readers, writerWait: UInt64(r.writer_acquired_ns - r.writer_requested_ns),
      starved: UInt64(r.writer_acquired_ns) >= stopAt,
      readerTurnsWhileWaiting: Int(r.reader_turns_while_writer_waited),
      readersInsideWhenAsked: Int(r.readers_inside_when_writer_asked),
      maxReadersInside: Int(r.max_readers_inside),
      readerTurns: Int(r.reader_turns))
  }
}
