import CLab

/// The OS work of `barrier` and `semaphore --rendezvous | --join`: threads run
/// the meeting code of CLab/patterns.c on real semaphores, a mutex or a
/// pthread barrier, and record when each arrived and when each went on.
enum MeetingExperiment {
  enum Kind: Int32 {
    case barrier = 0, pthreadBarrier = 1, rendezvous = 2, join = 3
  }

  struct Visit {
    var arrived: UInt64
    var left: UInt64
  }

  struct Result {
    var kind: Kind
    var threads: Int
    var rounds: Int
    var tids: [Int32]
    /// visits[thread][round]
    var visits: [[Visit]]
    var joined: UInt64?
    var start: UInt64

    /// Departures before the last arrival of their round: a broken barrier would have some.
    var leftEarly: Int {
      (0..<rounds).reduce(0) { sum, r in
        let last = visits.map { $0[r].arrived }.max() ?? 0
        return sum + visits.filter { $0[r].left < last }.count
      }
    }
    /// The longest any thread waited at a meeting point.
    var longestWait: UInt64 { visits.flatMap { $0 }.map { $0.left &- $0.arrived }.max() ?? 0 }
  }

  static func run(_ kind: Kind, threads n: Int, rounds: Int, work: Duration) throws -> Result {
    let memory = try SyncMemory<clab_meeting>.map(shared: false)
    defer { memory.unmap() }
    let m = memory.pointer
    m.pointee.kind = kind.rawValue
    m.pointee.threads = Int32(n)
    m.pointee.rounds = Int32(kind == .join ? 1 : rounds)
    m.pointee.work_ns = Int64(work.nanoseconds)
    try PthreadPrimitives.initMutex(memory.field(\.mutex))
    try PthreadPrimitives.initSemaphore(memory.field(\.first), value: 0)
    try PthreadPrimitives.initSemaphore(memory.field(\.second), value: 0)
    try PthreadPrimitives.initBarrier(memory.field(\.barrier), count: n)
    defer {
      PthreadPrimitives.destroy(memory.field(\.barrier))
      PthreadPrimitives.destroy(memory.field(\.second))
      PthreadPrimitives.destroy(memory.field(\.first))
      PthreadPrimitives.destroy(memory.field(\.mutex))
    }
    let start = MonotonicClock.nanoseconds()
    var threads = WorkerThreads()
    defer { threads.joinAll() }
    for i in 0..<n {
      try threads.start("meeting \(i + 1)") { clab_meeting_thread(memory.pointer, Int32(i)) }
    }
    if kind == .join { clab_meeting_join(m) }
    threads.joinAll()
    let rounds = Int(m.pointee.rounds)
    let maxRounds = Int(CLAB_MEETING_MAX_ROUNDS)
    let tids = memory.field(\.tids).withMemoryRebound(to: Int32.self, capacity: n) { p in
      (0..<n).map { p[$0] }
    }
    let arrived = memory.field(\.arrived_ns).withMemoryRebound(to: Int64.self, capacity: n * maxRounds) { p in
      (0..<(n * maxRounds)).map { UInt64(p[$0]) }
    }
    let left = memory.field(\.left_ns).withMemoryRebound(to: Int64.self, capacity: n * maxRounds) { p in
      (0..<(n * maxRounds)).map { UInt64(p[$0]) }
    }
    let visits = (0..<n).map { t in
      (0..<rounds).map { r in Visit(arrived: arrived[t * maxRounds + r], left: left[t * maxRounds + r]) }
    }
    return Result(
      kind: kind, threads: n, rounds: rounds, tids: tids, visits: visits,
      joined: kind == .join ? UInt64(m.pointee.joined_ns) : nil, start: start)
  }
}
