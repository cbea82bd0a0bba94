import CLab
import Synchronization

/// The OS work of `race`: real threads run the C increment loops on one
/// shared counter; or two threads step through a learner's schedule.
enum RaceExperiment {
  typealias Variant = RaceCommand.Variant

  struct Result {
    var variant: Variant
    var got: Int
    var expected: Int
    var tracks: [WorkerTrack]
    var wall: UInt64
    var lost: Int { expected - got }
  }

  /// What each thread of one run reports when its loop is done.
  struct ThreadRecord {
    var tid: Int32 = 0
    var count = 0
    var done = 0
  }

  /// Where the threads of one run write their time slices (each its own region).
  // why: each C loop writes only its own region of `slices`; Swift reads them after joining.
  final class Slices: @unchecked Sendable {
    static let capacity = 48
    let base: UnsafeMutablePointer<clab_slice>
    init(_ n: Int) { base = .allocate(capacity: n * Slices.capacity) }
    deinit { base.deallocate() }
    func region(_ i: Int) -> UnsafeMutablePointer<clab_slice> { base + i * Slices.capacity }
  }

  static func run(threads n: Int, iterations m: Int, variants: [Variant], session: Session) throws -> [Result]
  {
    var results: [Result] = []
    for (i, v) in variants.enumerated() {
      try Interrupt.check()
      session.progress("race \(v.key)", fraction: Double(i) / Double(variants.count))
      results.append(try runOnce(v, threads: n, iterations: m))
    }
    session.progressDone()
    return results
  }

  /// Starts N threads that wait at a spin barrier (so they overlap), run the loop and end; joins them all.
  static func runOnce(_ variant: Variant, threads n: Int, iterations m: Int) throws -> Result {
    let counter = SharedCounter()
    let lock = PthreadMutex()
    let arrived = SharedCounter()
    let slices = Slices(n)
    let records = Mutex([ThreadRecord](repeating: ThreadRecord(), count: n))
    var threads = WorkerThreads()
    defer { threads.joinAll(tids: records.withLock { $0.map(\.tid).filter { $0 != 0 } }) }
    for i in 0..<n {
      try threads.start("\(variant.key) \(i + 1)") {
        let tid = Threads.currentTID()
        clab_spin_barrier(arrived.pointer, n)
        var done = 0
        let count = clab_race_loop(
          counter.pointer, m, variant.mode, lock.pointer, slices.region(i), Int32(Slices.capacity), &done)
        records.withLock { $0[i] = ThreadRecord(tid: tid, count: Int(count), done: done) }
      }
    }
    threads.joinAll()
    let done = records.withLock { $0 }
    Threads.waitUntilGone(done.map(\.tid))
    if done.contains(where: { $0.count < 0 }) || Interrupt.isRequested { throw Interrupted() }
    let tracks = (0..<n).map { i in
      WorkerTrack(
        label: "t\(i + 1)", tid: done[i].tid,
        slices: (0..<done[i].count).map { Slice(slices.region(i)[$0]) })
    }
    let start = tracks.map(\.start).min() ?? 0
    let end = tracks.map(\.end).max() ?? 0
    return Result(variant: variant, got: counter.value, expected: n * m, tracks: tracks, wall: end &- start)
  }

  // MARK: the learner's schedule

  struct ScheduledStep {
    var entry: ScheduleValue.Entry
    var register: Int
    var counter: Int
    var tid: Int32
    var cpu: Int
    var at: UInt64
  }

  struct ScheduleResult {
    var schedule: ScheduleValue
    var steps: [ScheduledStep]
    var counter: Int
    var increments: Int
    var tids: [Int32]
    var lost: Int { increments - counter }
  }

  /// Two real threads run their steps in the learner's order: each waits
  /// (yielding the CPU) until the shared step index reaches its next step,
  /// runs it — a volatile load, an add in its own register, or a volatile
  /// store — and hands the turn on. The counter starts at 0.
  static func runSchedule(_ schedule: ScheduleValue) throws -> ScheduleResult {
    let memory = try SyncMemory<clab_schedule>.map(shared: false)
    defer { memory.unmap() }
    let s = memory.pointer
    s.pointee.count = Int32(schedule.steps.count)
    SyncMemory.field(s, \.steps).withMemoryRebound(
      to: clab_schedule_step.self, capacity: schedule.steps.count
    ) {
      steps in
      for (k, e) in schedule.steps.enumerated() {
        steps[k].thread = Int32(e.thread)
        steps[k].step = Int32(
          e.step == .load ? CLAB_STEP_LOAD : e.step == .add ? CLAB_STEP_ADD : CLAB_STEP_STORE)
      }
    }
    var threads = WorkerThreads()
    defer {
      SharedInt32.store(memory.field(\.stop), 1)
      threads.joinAll()
    }
    for t in 0..<2 {
      try threads.start("step t\(t + 1)") { clab_schedule_thread(memory.pointer, Int32(t)) }
    }
    let deadline = MonotonicClock.nanoseconds() + 5_000_000_000
    while SharedInt32.load(memory.field(\.next)) < Int32(schedule.steps.count) {
      try Interrupt.check()
      if MonotonicClock.nanoseconds() > deadline {
        throw UsageError("race: the scheduled threads did not finish their steps within 5 s")
      }
      MonotonicClock.pause(.microseconds(100))
    }
    threads.joinAll()
    let steps = SyncMemory.field(s, \.steps).withMemoryRebound(
      to: clab_schedule_step.self, capacity: schedule.steps.count
    ) { raw in
      schedule.steps.enumerated().map { k, e in
        ScheduledStep(
          entry: e, register: Int(raw[k].reg), counter: Int(raw[k].counter), tid: raw[k].tid,
          cpu: Int(raw[k].cpu), at: raw[k].at_ns)
      }
    }
    let tids = (0..<2).map { t in steps.first { $0.entry.thread == t }?.tid ?? 0 }
    Threads.waitUntilGone(tids)
    return ScheduleResult(
      schedule: schedule, steps: steps, counter: s.pointee.counter,
      increments: schedule.increments(of: 0) + schedule.increments(of: 1), tids: tids)
  }
}
