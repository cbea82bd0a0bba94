/// The OS work of `deadlock`: two threads and two mutexes in a lab child that
/// announces every change of who holds and waits for what; the shell's
/// watchdog counts silence, and kills and reaps the child when it is stuck.
enum DeadlockExperiment {
  struct Watched {
    var order: LockPair.Order
    var pauseMS: Int
    var timeoutMS: Int
    var states: [LockStateRecord]
    var finalMessage: JSON?
    var stuck: Bool
    var watchdogAt: UInt64
    var run: LabRun
  }

  static func run(order: LockPair.Order, pauseMS: Int, timeoutMS: Int) throws -> Watched {
    let child = try LabProcess.start(
      entry.name, ["mode": .int(Int(order.rawValue)), "pause_ms": .int(pauseMS)])
    var states: [LockStateRecord] = []
    var finalMessage: JSON?
    var stuck = false
    // The watchdog: every state change is progress; silence for the timeout is not.
    while true {
      // Starting a lab child on a busy machine can take a while: the watchdog
      // counts silence only once the threads have said something.
      let patience: Duration = states.isEmpty ? .seconds(10) : .milliseconds(timeoutMS)
      guard let message = try child.nextMessage(timeout: patience) else {
        stuck = true
        break
      }
      if let m = message["message"], let s = LockStateRecord(json: m) {
        states.append(s)
      } else {
        finalMessage = message
        break
      }
    }
    let watchdogAt = MonotonicClock.nanoseconds()
    // Stuck: kill it now (timeout zero). Finished: let it exit on its own.
    let run = try child.finish(timeout: stuck ? .zero : MonotonicClock.since(child.started) + .seconds(10))
    if stuck && !run.timedOut && run.status == .exited(0) {
      stuck = false  // it ended just as the watchdog fired
    }
    return Watched(
      order: order, pauseMS: pauseMS, timeoutMS: timeoutMS, states: states, finalMessage: finalMessage,
      stuck: stuck,
      watchdogAt: watchdogAt, run: run)
  }

  /// The lab side: runs the two threads and announces every change of who holds and waits for what.
  static let entry = LabEntry("sync.deadlock") { request in
    let order = LockPair.Order(rawValue: Int32(request["mode"]?.intValue ?? 0)) ?? .opposite
    let pause = Duration.milliseconds(request["pause_ms"]?.intValue ?? 50)
    let started = MonotonicClock.nanoseconds()
    let pair = try LockPair(order: order, pause: pause)
    var seen = -1
    var last = pair.state
    while true {
      let s = pair.state
      last = s
      if s.version != seen {
        seen = s.version
        LabChild.announce(LockStateRecord(state: s, time: MonotonicClock.nanoseconds()).json)
        if s.done.allSatisfy({ $0 }) { break }
      }
      // Deadlocked, this loop runs until the shell's watchdog kills the process.
      MonotonicClock.pause(.microseconds(500))
    }
    pair.finish()
    let s = last
    return [
      "elapsed_ns": .int(Int(MonotonicClock.nanoseconds() &- started)),
      "refusals": .array(s.refusals.map { .int($0) }),
    ]
  }
}
