import Synchronization

/// The OS work of `thread N`: create N pthreads that each probe themselves
/// (gettid, sched_getcpu, a local's address, pthread_getattr_np) and then block
/// in poll(); read /proc while they live; then join them, or keep them.
enum ThreadExperiment {
  struct Result {
    var pid: Int32
    var count: Int
    var before: [Int32]
    var during: [Int32]
    var after: [Int32]?
    var main: Threads.SelfView
    var views: [Threads.SelfView]
    var states: [Int32: Threads.SyscallState]
    var names: [Int32: String]
    var sharedAddress: UInt
    var sharedValue: Int
    var createNanoseconds: [UInt64]
    var createWall: Duration
    /// Threads whose stack lay inside memory mapped before pthread_create: glibc's stack cache.
    var reusedStacks: Int
    var joinTime: Duration?
    var hold: Double?
    var kept: BlockedThreads?
  }

  /// What every thread writes about itself.
  struct Reports {
    var views: [Threads.SelfView?]
    var errors: [String] = []
  }

  static func run(count n: Int, hold: Double?) throws -> Result {
    let pid = Threads.processID
    let before = Threads.tasks()
    let mainView = try Threads.probeSelf()
    let shared = SharedCounter()
    let reports = Mutex(Reports(views: Array(repeating: nil, count: n)))
    let latch = Latch(count: n)
    let gate = try Descriptors.pipe()
    let limit: Duration = hold.map { .milliseconds(Int64($0 * 1000)) } ?? .seconds(30)
    var handles: [Threads.Handle] = []
    var kept = false
    // Unless the threads are kept, wake and join them on every way out.
    defer {
      if !kept {
        let tids = reports.withLock { $0.views.compactMap { $0?.tid } }
        BlockedThreads(handles: handles, tids: tids, pipe: gate, holdFor: .zero).release()
      }
    }
    let mappedBefore = Threads.readWriteMappings()
    let gateRead = gate.read
    let createStart = MonotonicClock.nanoseconds()
    for i in 0..<n {
      handles.append(
        try Threads.spawn("proclab-t\(i + 1)") {
          do {
            let me = try Threads.probeSelf()
            shared.atomicAdd(1)
            reports.withLock { $0.views[i] = me }
          } catch {
            let text = "\(error)"
            reports.withLock { $0.errors.append(text) }
          }
          latch.arrive()
          BlockedThreads.block(on: gateRead, for: limit)
        })
    }
    let createWall = MonotonicClock.since(createStart)
    guard latch.wait(timeout: .seconds(10)) else {
      throw UsageError("thread: the new threads did not report within 10 s; they were woken and joined")
    }
    let collected = reports.withLock { $0 }
    if let e = collected.errors.first {
      throw UsageError("thread: a thread could not read its own attributes: \(e)")
    }
    let views = collected.views.compactMap { $0 }
    // Read /proc while every thread is alive and blocked.
    let during = Threads.tasks()
    let states = waitUntilBlocked(views)
    let reused = views.filter { v in
      mappedBefore.contains { $0.contains(v.stackLow) && $0.contains(v.stackHigh - 1) }
    }.count
    var names: [Int32: String] = [:]
    for t in [mainView.tid] + views.map(\.tid) { names[t] = Threads.name(of: t) }
    var result = Result(
      pid: pid, count: n, before: before, during: during, after: nil, main: mainView, views: views,
      states: states, names: names, sharedAddress: shared.address, sharedValue: shared.value,
      createNanoseconds: handles.map(\.creationNanoseconds), createWall: createWall, reusedStacks: reused,
      joinTime: nil, hold: hold, kept: nil)
    kept = true
    let keeper = BlockedThreads(handles: handles, tids: views.map(\.tid), pipe: gate, holdFor: limit)
    if hold != nil {
      result.kept = keeper
    } else {
      // Wake them (close the write end: end of file), join them, check /proc.
      let joinStart = MonotonicClock.nanoseconds()
      keeper.release()
      result.joinTime = MonotonicClock.since(joinStart)
      result.after = Threads.tasks()
    }
    return result
  }

  /// Gives each thread a moment to enter poll() so its registers show where it waits.
  static func waitUntilBlocked(_ views: [Threads.SelfView]) -> [Int32: Threads.SyscallState] {
    var states: [Int32: Threads.SyscallState] = [:]
    for _ in 0..<50 {
      states = [:]
      for v in views { if let s = Threads.syscallState(v.tid) { states[v.tid] = s } }
      if states.values.allSatisfy({ $0.number != nil }) && states.count == views.count { break }
      Threads.pause(.milliseconds(2))
    }
    return states
  }
}
