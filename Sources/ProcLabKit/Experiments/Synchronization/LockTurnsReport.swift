/// `lock` without --impl: workers take turns in one pthread mutex; what they
/// recorded drawn as a timeline and a table, and explained.
enum LockTurnsReport {
  static func run(threads n: Int, holdMS: Int, rounds: Int, tryLock: Bool, processes: Bool) throws -> Report {
    let hold = Duration.milliseconds(holdMS)
    let result = try SyncPrimitives.takeTurns(
      kind: tryLock ? .trylock : .mutex, workers: n, rounds: rounds, hold: hold, processes: processes,
      timeout: .seconds(30))
    return render(result, threads: n, hold: hold, rounds: rounds, tryLock: tryLock, processes: processes)
  }

  static func render(
    _ result: SyncTurnsResult, threads n: Int, hold: Duration, rounds: Int, tryLock: Bool, processes: Bool
  ) -> Report {
    let noun = processes ? "process" : "thread"
    let view = SyncTurnsView(result: result, noun: noun)
    let r = Report()
    let how = tryLock ? "pthread_mutex_trylock (refused: back off 0.2 ms, try again)" : "pthread_mutex_lock"
    let place =
      processes
      ? "one PTHREAD_PROCESS_SHARED mutex in a MAP_SHARED mapping (\(n) forked processes)"
      : "one pthread mutex (\(n) threads)"
    // The counts and the hold are the arguments'.
    r.line("\(n * rounds) turns in \(place), \(how), each holding it \(r.fixed(Units.duration(hold)))")
    r.timeline(view.timeline(report: r))
    r.table(view.table(report: r, showRefusals: tryLock))
    let overlaps = SyncTurnsView.overlaps(view.heldIntervals)
    let elapsed = Duration.ns(result.end &- result.start)
    r.line(
      "elapsed \(r.duration(elapsed)) for \(r.duration(.ns(view.totalHeld))) of holding; "
        // Each hold is timed inside the mutex (CLOCK_MONOTONIC, one clock for every CPU): with a
        // working mutex two holds never overlap, on any run — the count stays literal.
        + "waiting in total \(r.duration(.ns(view.totalWait))); overlapping holds \(overlaps)")
    if processes { r.line("children reaped: \(result.childrenReaped) of \(n)") }
    r.fact("threads", n)
    r.fact("processes", processes)
    r.fact("trylock", tryLock)
    r.fact("hold_ms", Int(hold.milliseconds))
    r.fact("rounds", rounds)
    r.fact("refusals", view.refusals)
    r.fact("children_reaped", result.childrenReaped)
    r.fact("elapsed_ns", result.end &- result.start)
    view.facts(into: r)

    let waiting = view.waiters.count
    var short =
      overlaps == 0
      ? "No two holds overlapped (at most \(r.count(result.maxInside)) inside at once): the mutex let one \(noun) in at a time, so the \(r.count(n * rounds)) turns ran one after another: \(r.duration(elapsed)), where \(view.nouns(n)) running freely side by side would have needed about \(r.duration(hold * rounds))."
      : "Surprise: \(r.count(overlaps)) holds overlapped in time — this should never happen with a mutex."
    if tryLock {
      short +=
        " trylock never sleeps in the lock: it was refused \(r.count(view.refusals)) times, and each refusal cost a back-off sleep and another try; the longest single wait was \(r.duration(.ns(view.longestWait)))."
    } else if waiting > 0 {
      short +=
        " \(r.count(waiting)) of \(view.nouns(n)) had to wait (longest single wait \(r.duration(.ns(view.longestWait)))); \(r.count(view.sleepers.count)) of them slept in the kernel while waiting (voluntary context switches during pthread_mutex_lock: the futex wait)."
    } else {
      short += " Nobody had to wait this time: the turns did not collide."
    }
    r.explain(
      short,
      more:
        "A mutex costs almost nothing when it is free (one atomic instruction in user space). When it is taken, pthread_mutex_lock asks the kernel to put the thread to sleep (futex FUTEX_WAIT) until the holder's unlock wakes it (FUTEX_WAKE): the waiter uses no CPU, but each handover costs a context switch and the time to be scheduled again. trylock never blocks: the caller decides what to do when refused (back off, do other work), which avoids deadlock but spends CPU and adds latency. A process-shared mutex is the same futex word, placed in memory that several processes map. 'lock --impl all' builds locks from scratch and races them."
    )
    return r
  }
}
