/// `crash KIND --in-thread --handled` and `crash KIND --clone-vm`: the faults a
/// process lives through, and what they show about why a thread's crash may
/// end its process: the thread group and the signal's action, not shared memory.
extension CrashReport {
  func buildSurvival(_ result: JSON) -> Report {
    let mode = result["mode"]?.stringValue ?? ""
    let after = (result["tids_after_fault"]?.arrayValue ?? []).compactMap { $0.intValue.map(Int32.init) }
    let options = mode == "handled" ? "--in-thread --handled" : "--clone-vm"
    var t = Table([])
    if mode == "handled" {
      let caught = result["caught"]?.stringValue
      r.line(
        "crash \(kind.rawValue) \(options): worker \(r.tid(o.crasher ?? 0)) \(caught.map { "caught \($0) in its handler" } ?? "did not fault") and went on; lab child \(r.pid(o.pid)) lived on and exited 0"
      )
      if let caught, let sig = Signals.parse(caught), let info = Signals.info(sig) {
        t.add(["signal", "\(info.name) = \(sig): \(info.meaning) (default action: \(info.defaultAction))"])
      }
      t.add([
        "cause",
        "\(kind.why(stackLimit: nil, threadStack: o.ready["thread_stack"]?.intValue.map { Units.bytes($0) })); the process had a handler for it (sigaction), so the kernel ran the handler on that thread instead of the default action, and the handler jumped back with siglongjmp",
      ])
    } else {
      let task = Int32(result["task"]?.intValue ?? 0)
      let taskStatus = TerminationStatus(json: result["task_status"])
      r.line(
        "crash \(kind.rawValue) \(options): task \(r.pid(task)), made by clone(CLONE_VM) without CLONE_THREAD, was \(taskStatus.map { "\($0)" } ?? "ended"); lab child \(r.pid(o.pid)) lived on and exited 0"
      )
      if let sig = taskStatus?.signal, let info = Signals.info(sig) {
        t.add(["signal", "\(info.name) = \(sig): \(info.meaning) (default action: \(info.defaultAction))"])
      }
      let written = result["shared_written"]?.intValue ?? 0
      let read = result["shared_read"]?.intValue ?? 0
      t.add([
        "memory",
        "the task wrote \(written) into a variable; after it died, lab child \(r.pid(o.pid)) read \(read) at the same address: \(read == written ? "one address space" : "a different value")",
      ])
      let tgid = result["task_tgid"]?.intValue ?? 0
      t.add([
        "thread group",
        "Tgid of task \(r.pid(task)) was \(tgid)\(tgid == Int(task) ? " (a group of its own)" : ""); the lab child's threads are in group \(r.pid(o.pid))",
      ])
      t.add([
        "reaped",
        "by its parent \(result["task_parent"]?.intValue.map { r.pid(Int32($0)) } ?? "?") (the lab child) with wait4, like any child",
      ])
    }
    if let words = lastWords { t.add(["last words", "\"\(r.note(words, .text))\""]) }
    lifeRow(&t)
    t.add(["the shell", shellRow])
    r.table(t)
    let before = o.tidsBefore
    let gone = before.filter { !after.contains($0) }
    r.line()
    r.line(
      "threads of \(r.pid(o.pid)) after the fault (/proc/\(r.pid(o.pid))/task): \(after.count) of \(before.count) listed before; \(gone.isEmpty ? "none ended" : "\(gone.count) ended")"
    )
    siblingBlock()
    facts()
    r.fact("mode", mode)
    r.fact("survival", result)
    r.fact("tids_after_fault", after.map(Int.init))
    explainSurvival(mode, result, threads: after.count)
    return r
  }

  private func explainSurvival(_ mode: String, _ result: JSON, threads: Int) {
    if mode == "handled" {
      guard let caught = result["caught"]?.stringValue else {
        r.explain("The fault did not happen on this machine, so the handler had nothing to catch.")
        return
      }
      r.explain(
        "Worker \(o.crasher ?? 0) faulted and the kernel sent it \(caught), as with `crash \(kind.rawValue) --in-thread`; but this time the process had a handler for \(caught), so the kernel ran it instead of the default action, the handler jumped back past the fault, and all \(threads) threads lived on. A thread's crash ends its process only through the signal's default action: it may crash the process, not must.",
        more:
          "Handlers are per process (every thread shares them), but a fault's signal goes to the thread that faulted, and the handler runs on that thread. Jumping out of a fault handler is how some runtimes turn faults into errors; in ordinary code it is rarely safe, because the thread may have been holding a lock or half-way through changing shared data."
      )
    } else {
      let task = result["task"]?.intValue ?? 0
      r.explain(
        "Task \(task) shared every page of process \(o.pid)'s memory, yet it died alone: clone without CLONE_THREAD gave it a thread group of its own, and a fatal signal's default action ends the thread group of the task that faulted. pthread_create passes CLONE_THREAD, which is why `crash \(kind.rawValue) --in-thread` ends every thread. What ties threads' fates together is the thread group and the signal's process-wide action, not the shared memory.",
        more:
          "Shared memory still matters: the survivors share whatever the dead task left half-written. In /proc the task showed its own Tgid; the lab child reaped it with wait4 like any child, because clone was given SIGCHLD as its exit signal."
      )
    }
  }
}

extension TerminationStatus {
  /// Reads back the JSON form (`{"how": "signaled", "number": 11, …}`).
  init?(json: JSON?) {
    guard let json, let how = json["how"]?.stringValue else { return nil }
    switch how {
    case "exited": self = .exited(Int32(json["code"]?.intValue ?? 0))
    case "signaled":
      self = .signaled(
        Int32(json["number"]?.intValue ?? 0), coreDumped: json["core_dumped"]?.boolValue ?? false)
    default: return nil
    }
  }
}
