import CLab

/// The OS work of `bugs`: the buggy code runs in a lab child, because the bug
/// ends in SIGSEGV (a NULL pointer read) and a fatal signal ends every thread
/// of the process. The child announces its progress, so what it did before
/// it died is known.
enum BugsExperiment {
  static let limit = Duration.seconds(5)

  struct Run {
    var labPID: Int32
    var status: TerminationStatus
    var elapsed: Duration
    /// The last progress the child announced (checks or rounds done).
    var progress: JSON?
    var result: JSON?
    var crashed: Bool { if case .signaled = status { return true } else { return false } }
  }

  static func run(_ o: BugsCommand.Options) throws -> Run {
    let request: JSON = [
      "bug": .string(o.bug.rawValue), "fixed": .bool(o.fixed), "checks": .int(o.checks),
      "rounds": .int(o.rounds),
    ]
    let run = try Lab.run(entry.name, request, timeout: limit + .seconds(10))
    if run.timedOut {
      throw UsageError(
        "bugs: the lab child \(run.pid) did not finish within \(Units.duration(limit + .seconds(10))) and was killed"
      )
    }
    let progress = run.messages.last { $0["message"] != nil }?["message"]
    return Run(
      labPID: run.pid, status: run.status, elapsed: run.elapsed, progress: progress, result: run.result)
  }

  /// The lab side. Threads run the C code; the main thread announces progress every few ms.
  static let entry = LabEntry("sync.bugs") { request in
    let memory = try SyncMemory<clab_bug>.map(shared: false)
    let b = memory.pointer
    b.pointee.fixed = request["fixed"]?.boolValue == true ? 1 : 0
    b.pointee.record.value = 42
    try PthreadPrimitives.initMutex(memory.field(\.mutex))
    try PthreadPrimitives.initCondition(memory.field(\.ready_cv))
    let started = MonotonicClock.nanoseconds()
    if request["bug"]?.stringValue == "order" {
      return try orderRounds(memory, rounds: request["rounds"]?.intValue ?? 20, started: started)
    }
    b.pointee.shared = SyncMemory.field(b, \.record)
    b.pointee.budget = Int64(request["checks"]?.intValue ?? 2_000_000)
    // A start gate: each thread records its TID, and the shell is told both before either
    // starts racing, so that even a crash in the first microseconds names real threads.
    let gate = SharedCounter()
    var threads = WorkerThreads()
    try threads.start("user") {
      SharedInt32.store(memory.field(\.user_tid), Threads.currentTID())
      clab_spin_barrier(gate.pointer, 3)
      clab_bug_check_then_use(memory.pointer)
    }
    try threads.start("clearer") {
      SharedInt32.store(memory.field(\.other_tid), Threads.currentTID())
      clab_spin_barrier(gate.pointer, 3)
      clab_bug_clear_and_set(memory.pointer)
    }
    while SharedInt32.load(memory.field(\.user_tid)) == 0 || SharedInt32.load(memory.field(\.other_tid)) == 0,
      MonotonicClock.nanoseconds() < started + UInt64(limit.nanoseconds)
    {
      MonotonicClock.pause(.microseconds(100))
    }
    LabChild.announce([
      "checks": .int(0), "toggles": .int(0), "user_tid": .int(Int(b.pointee.user_tid)),
      "other_tid": .int(Int(b.pointee.other_tid)),
      "elapsed_ns": .int(Int(MonotonicClock.nanoseconds() - started)),
    ])
    clab_spin_barrier(gate.pointer, 3)
    let end = started + UInt64(limit.nanoseconds)
    while SharedInt32.load(memory.field(\.stop)) == 0 && MonotonicClock.nanoseconds() < end {
      LabChild.announce([
        "checks": .int(Int(b.pointee.checks)), "toggles": .int(Int(b.pointee.toggles)),
        "user_tid": .int(Int(b.pointee.user_tid)), "other_tid": .int(Int(b.pointee.other_tid)),
        "elapsed_ns": .int(Int(MonotonicClock.nanoseconds() - started)),
      ])
      MonotonicClock.pause(.milliseconds(2))
    }
    SharedInt32.store(memory.field(\.stop), 1)
    threads.joinAll()
    return [
      "checks": .int(Int(b.pointee.checks)), "toggles": .int(Int(b.pointee.toggles)),
      "user_tid": .int(Int(b.pointee.user_tid)), "other_tid": .int(Int(b.pointee.other_tid)),
      "elapsed_ns": .int(Int(MonotonicClock.nanoseconds() - started)),
    ]
  }

  /// Order violation: R times, create a thread that uses `shared` at once, then set `shared` up.
  static func orderRounds(_ memory: SyncMemory<clab_bug>, rounds: Int, started: UInt64) throws -> JSON {
    let b = memory.pointer
    b.pointee.setup_ns = 200_000
    for round in 0..<rounds {
      b.pointee.shared = nil
      b.pointee.ready = 0
      LabChild.announce([
        "round": .int(round + 1), "elapsed_ns": .int(Int(MonotonicClock.nanoseconds() - started)),
      ])
      var threads = WorkerThreads()
      try threads.start("user") { clab_bug_use_at_start(memory.pointer) }
      clab_bug_initialise(b)
      threads.joinAll()
    }
    return [
      "rounds": .int(rounds), "used_value": .int(Int(b.pointee.used_value)),
      "elapsed_ns": .int(Int(MonotonicClock.nanoseconds() - started)),
    ]
  }
}
