/// What `bugs` prints: whether the lab child crashed, after how much work, and why.
enum BugsReport {
  static func render(_ run: BugsExperiment.Run, options o: BugsCommand.Options) -> Report {
    let r = Report()
    let p = run.result ?? run.progress ?? [:]
    func v(_ k: String) -> Int { p[k]?.intValue ?? 0 }
    /// `thread 4242`, or `one thread` when the child died before it reported its threads.
    func thread(_ k: String) -> String {
      v(k) > 0 ? "thread \(r.tid(Int32(v(k))))" : k == "user_tid" ? "one thread" : "another"
    }
    let elapsed = Duration.nanoseconds(Int64(v("elapsed_ns")))
    switch o.bug {
    case .atomicity:
      r.line(
        "lab child \(r.pid(run.labPID)): \(thread("user_tid")) does 'if (shared != NULL) use(shared->value)' \(ThreadWork.grouped(o.checks)) times; \(thread("other_tid")) sets shared = NULL and back, again and again\(o.fixed ? "; both under one mutex" : "")"
      )
    case .order:
      r.line(
        "lab child \(r.pid(run.labPID)): \(o.rounds) times the main thread creates a thread that reads shared->value at once, then spends 200 µs on setup and sets shared\(o.fixed ? "; the new thread waits on a condition variable until it is set" : "")"
      )
    }
    // The fixed programs never crash and do all their work, on every run; whether a buggy one
    // crashes, and after how much work, is up to the scheduler: one varying text.
    let what: String
    if run.crashed {
      what =
        o.bug == .atomicity
        // The whole text is noted as varying below: nothing inside it is noted.
        ? crashText(run, checks: v("checks"), toggles: v("toggles"), elapsed: elapsed)
        : "the lab child was \(run.status) in round \(max(1, v("round"))) of \(o.rounds)"
    } else if o.fixed {
      what =
        o.bug == .atomicity
        ? "the lab child \(run.status): all \(ThreadWork.grouped(v("checks"))) checks went through (\(r.note(ThreadWork.grouped(v("toggles")), .int)) clears meanwhile) in \(r.duration(elapsed))"
        : "the lab child \(run.status): all \(v("rounds")) rounds read \(v("used_value")) in \(r.duration(elapsed))"
    } else {
      what =
        o.bug == .atomicity
        ? "the lab child \(run.status): all \(ThreadWork.grouped(v("checks"))) checks went through (\(ThreadWork.grouped(v("toggles"))) clears meanwhile) in \(Units.duration(elapsed))"
        : "the lab child \(run.status): all \(v("rounds")) rounds read \(v("used_value")) in \(Units.duration(elapsed))"
    }
    r.line(o.fixed && !run.crashed ? what : r.note(what, .text))
    r.fact("bug", o.bug.rawValue)
    r.fact("fixed", o.fixed)
    r.fact("lab_pid", run.labPID)
    r.fact("crashed", run.crashed)
    r.fact("status", run.status.description)
    if case .signaled(let sig, _) = run.status { r.fact("signal", Signals.name(sig)) }
    for k in ["checks", "toggles", "round", "rounds", "elapsed_ns", "user_tid", "other_tid"] where p[k] != nil
    {
      r.fact(k, v(k))
    }
    r.explain(explanation(run, o), more: more(o.bug))
    return r
  }

  /// What is known of the atomicity run that crashed: the counts of its last progress report, or,
  /// when the crash came before any report counted a check, only that.
  static func crashText(_ run: BugsExperiment.Run, checks: Int, toggles: Int, elapsed: Duration) -> String {
    if checks == 0 && toggles == 0 {
      return
        "the lab child was \(run.status) before its first progress report after the start (one comes every 2 ms), so how many checks it made is not known"
    }
    return
      "the lab child was \(run.status); its last report, \(Units.duration(elapsed)) in, counted \(ThreadWork.grouped(checks)) checks and \(ThreadWork.grouped(toggles)) clears"
  }

  static func explanation(_ run: BugsExperiment.Run, _ o: BugsCommand.Options) -> String {
    switch (o.bug, run.crashed, o.fixed) {
    case (.atomicity, true, _):
      return
        "An atomicity violation: the check (shared != NULL) and the use (shared->value) were meant to happen as one step, but they are two reads of the shared pointer. Between them the other thread set it to NULL, the use read memory at address 0, and the kernel sent SIGSEGV — which ended the whole process, every thread of it (a fatal signal's default action ends the thread group). The fix: make check-and-use one critical section, and take the same mutex where the pointer changes (bugs --atomicity --fixed)."
    case (.atomicity, false, true):
      return
        "With one mutex around check-and-use and around every change of the pointer, no check can be separated from its use: every check went through, while the other thread kept clearing and setting the pointer — only never in between."
    case (.atomicity, false, false):
      return
        "No crash this time: the other thread never cleared the pointer between a check and its use. The window is a few nanoseconds wide; run it again, or with more --checks."
    case (.order, true, _):
      return
        "An order violation: the new thread was meant to run after the pointer was set, but nothing said so. pthread_create returns when the thread exists, and the new thread can run at once — here it read shared->value while shared was still NULL, and SIGSEGV ended the whole process. The fix: make the order explicit — the user waits on a condition variable (or a semaphore) that the initialiser signals (bugs --order --fixed)."
    case (.order, false, true):
      return
        "Every round worked: the new thread waited in pthread_cond_wait until the creator had set the pointer and signalled 'ready', so the use always came after the initialisation, however the threads were scheduled."
    case (.order, false, false):
      return
        "No crash this time: in every round the creator set the pointer before the new thread got to use it. That is luck in the scheduling, not correctness."
    }
  }

  static func more(_ bug: BugsCommand.Bug) -> String {
    "Studies of real concurrency bugs (Lu et al., ASPLOS 2008, on MySQL, Apache, Mozilla and OpenOffice) found most non-deadlock bugs are of these two kinds: an atomicity violation (code that assumes two accesses happen together) and an order violation (code that assumes one thing happens before another). Both depend on timing, so a test that passes proves little; the crash here was made likely by repeating the race many times."
  }
}
