/// What `thread N` prints: the tasks in /proc, a table of each thread's own
/// TID, stack and registers, the shared heap variable, and an explanation.
enum ThreadReport {
  typealias Result = ThreadExperiment.Result

  static func render(_ res: Result) -> Report {
    let r = Report()
    let n = res.count
    let pid = res.pid
    let each = res.createNanoseconds.map { Double($0) }
    let meanCreate = each.reduce(0, +) / Double(max(1, each.count))
    r.line(
      "created \(Units.plural(n, "thread")) in \(r.duration(res.createWall)) (pthread_create took \(r.seconds(meanCreate / 1e9)) each on average); all in process \(r.pid(pid))"
    )
    let ours = Set(res.views.map(\.tid))
    // Not noted one by one: the list as a whole is the varying value (below).
    let taskWords = res.during.map { t -> String in
      t == pid ? "\(t) (main)" : ours.contains(t) ? String(t) : "\(t) (other)"
    }
    r.line(
      // The list comes in TID order (which wraps around pid_max) and may hold other threads of
      // the shell: a recording accepts any list here and captures the TIDs in the table below.
      "/proc/\(r.pid(pid))/task while they live: \(r.count(res.during.count)) tasks: \(r.note(taskWords.joined(separator: ", "), .text))"
    )
    r.table(table(res, r))
    r.line(
      "shared heap variable at \(r.addr(res.sharedAddress)) in every thread: it holds \(res.sharedValue) after \(n == 1 ? "the thread" : "each of the \(n) threads") added 1"
    )
    let checks = Checks(res)
    facts(res, checks, meanCreate: meanCreate, into: r)
    explain(res, checks, meanCreate: meanCreate, r: r)
    if let hold = res.hold {
      r.line(
        "holding \(Units.plural(n, "thread")) blocked in poll() for up to \(r.fixed(Units.plain(hold) + " s")): they are listed in /proc/\(r.pid(pid))/task (and by 'ps -L -p \(r.pid(pid))'); 'thread --release' joins them (quit does too)"
      )
      r.fact("held", n)
    } else if let after = res.after {
      let left = res.views.map(\.tid).filter { after.contains($0) }
      r.line(
        "joined \(n == 1 ? "it" : "all \(n)") in \(r.duration(res.joinTime ?? .zero)); /proc/\(r.pid(pid))/task now lists \(r.count(after.count)) task\(after.count == 1 ? "" : "s")"
          + (left.isEmpty ? "" : " (still listed: \(left.map(String.init).joined(separator: ", ")))"))
      r.fact("tasks_after", after.map(Int.init))
    }
    return r
  }

  static func table(_ res: Result, _ r: Report) -> Table {
    var t = Table([
      "thread name", "TID", "CPU", "local variable", "its stack", "waits in", "stack pointer",
      "program counter",
    ])
    let main = res.main
    t.add([
      "\(res.names[main.tid] ?? "proclab") (main)", r.tid(main.tid), r.count(main.cpu),
      r.addr(main.localAddress),
      "\(r.addr(main.stackLow))–\(r.addr(main.stackHigh))", "(running)", "", "",
    ])
    for (i, v) in res.views.enumerated() {
      let s = res.states[v.tid]
      t.add([
        res.names[v.tid] ?? "\(i + 1)", r.tid(v.tid), r.count(v.cpu), r.addr(v.localAddress),
        "\(r.addr(v.stackLow))–\(r.addr(v.stackHigh))",
        s.map { $0.callName } ?? "?", s.map { r.addr($0.stackPointer) } ?? "?",
        s.map { r.addr($0.programCounter) } ?? "?",
      ])
    }
    // At 80 columns the stack range and the saved registers move under their row.
    t.short = [3: "local var", 4: "stack", 6: "sp", 7: "pc"]
    t.stackable = [7, 6, 4]
    return t
  }

  /// What the threads' reports show, computed once for the facts and the explanation.
  struct Checks {
    var distinctTIDs: Bool
    var allListed: Bool
    var distinctLocals: Bool
    var localsInOwnStack: Bool
    var overlapping: Bool
    var stackPointersInOwnStack: Int
    var programCounters: Set<UInt>
    var pcLibrary: String?

    init(_ res: Result) {
      let tids = res.views.map(\.tid)
      distinctTIDs = Set(tids).count == tids.count && !tids.contains(res.pid)
      allListed = tids.allSatisfy { res.during.contains($0) }
      let locals = res.views.map(\.localAddress) + [res.main.localAddress]
      distinctLocals = Set(locals).count == locals.count
      localsInOwnStack = res.views.allSatisfy { $0.stackContains($0.localAddress) }
      let all = res.views + [res.main]
      overlapping = false
      for a in all.indices {
        for b in all.indices where a < b {
          if all[a].stackLow < all[b].stackHigh && all[b].stackLow < all[a].stackHigh { overlapping = true }
        }
      }
      stackPointersInOwnStack =
        res.views.filter { v in res.states[v.tid].map { v.stackContains($0.stackPointer) } ?? false }.count
      programCounters = Set(res.states.values.map(\.programCounter))
      pcLibrary = programCounters.first.flatMap { ProcFS.mapping(pid: res.pid, containing: $0) }
        .map { String($0.split(separator: " ").last ?? "") }
        .map { $0.split(separator: "/").last.map(String.init) ?? $0 }
    }
  }

  static func facts(_ res: Result, _ c: Checks, meanCreate: Double, into r: Report) {
    let firstRun = res.views.map { Double($0.started &- res.main.started) }.max() ?? 0
    r.fact("pid", res.pid)
    r.fact("count", res.count)
    r.fact("tasks_before", res.before.map(Int.init))
    r.fact("tasks_during", res.during.map(Int.init))
    r.fact("main_tid", res.main.tid)
    r.fact("shared_address", Int(bitPattern: res.sharedAddress))
    r.fact("shared_value", res.sharedValue)
    r.fact("create_ns_each", res.createNanoseconds.map { Int($0) })
    r.fact("create_wall_ns", Int(res.createWall.nanoseconds))
    r.fact("first_run_after_ns", Int(firstRun))
    r.fact("stacks_reused", res.reusedStacks)
    r.fact(
      "threads",
      JSON.array(
        res.views.map { v in
          let s = res.states[v.tid]
          var o = JSONObject()
          o["tid"] = .int(Int(v.tid))
          o["cpu"] = .int(v.cpu)
          o["name"] = .string(res.names[v.tid] ?? "")
          o["local_address"] = .int(Int(bitPattern: v.localAddress))
          o["stack_low"] = .int(Int(bitPattern: v.stackLow))
          o["stack_high"] = .int(Int(bitPattern: v.stackHigh))
          o["shared_address"] = .int(Int(bitPattern: res.sharedAddress))
          if let s {
            o["stack_pointer"] = .int(Int(bitPattern: s.stackPointer))
            o["program_counter"] = .int(Int(bitPattern: s.programCounter))
            o["waits_in"] = .string(s.callName)
          }
          return JSON.object(o)
        }))
    r.fact("distinct_tids", c.distinctTIDs)
    r.fact("all_listed_in_proc", c.allListed)
    r.fact("distinct_stacks", !c.overlapping && c.distinctLocals)
    r.fact("stack_pointers_in_own_stack", c.stackPointersInOwnStack)
  }

  static func explain(_ res: Result, _ c: Checks, meanCreate: Double, r: Report) {
    let n = res.count
    let pid = res.pid
    let stackSize = res.views.first?.stackBytes ?? 0
    var why = [String]()
    why.append(
      c.distinctTIDs && c.allListed
        ? "The kernel gave each of the \(n) threads its own task ID, and /proc/\(pid)/task listed all of them next to the main thread (\(res.during.count) tasks): threads are kernel-scheduled tasks that share one process ID."
        : "Surprise: not every thread had its own TID listed in /proc (\(Set(res.views.map(\.tid)).count) distinct, listed: \(c.allListed))."
    )
    why.append(
      !c.overlapping && c.distinctLocals && c.localsInOwnStack
        ? "Each thread's local variable sits at a different address, inside its own \(Units.bytes(stackSize)) stack; the heap variable has one address that every thread used, and it counted all \(res.sharedValue) additions: one address space, separate stacks."
        : "Surprise: stacks overlapped or locals coincided (distinct locals: \(c.distinctLocals), inside own stack: \(c.localsInOwnStack))."
    )
    if !res.states.isEmpty {
      let callNames = Set(res.states.values.map(\.callName)).sorted().joined(separator: "/")
      why.append(
        "While blocked in \(callNames), each thread's saved stack pointer lay in its own stack (\(c.stackPointersInOwnStack) of \(res.views.count))"
          + (c.programCounters.count == 1
            ? " and every program counter was the same address\(c.pcLibrary.map { " in \($0)" } ?? ""): the threads run the same code, each with its own registers."
            : "; the program counters differ in \(c.programCounters.count) places: each thread has its own registers.")
      )
    }
    let reuse =
      res.reusedStacks == n
      ? "all \(n) stacks came from glibc's cache of stacks that ended threads left behind (no mmap at all)"
      : res.reusedStacks > 0
        ? "\(res.reusedStacks) of the \(n) stacks came from glibc's cache of stacks ended threads left behind, the other \(n - res.reusedStacks) were new mmaps"
        : "each stack was a new mmap (glibc keeps ended threads' stacks in a cache and hands them out again next time)"
    why.append(
      "Creating a thread took about \(Units.duration(seconds: meanCreate / 1e9)): no new address space. glibc's pthread_create is one clone3 system call with CLONE_VM (the same memory), CLONE_THREAD (the same thread group, so the same PID), CLONE_FILES and CLONE_SIGHAND (the same descriptors and signal handlers), plus a stack: \(reuse)."
    )
    let cpus = Set(res.views.map(\.cpu)).sorted().map(String.init).joined(separator: " and ")
    r.explain(
      why.joined(separator: " "),
      more:
        "The threads started on CPU \(cpus) (this machine has \(Threads.onlineCPUs) online). The stack pointer and program counter come from /proc/self/task/TID/syscall, which the kernel fills while a thread waits in a system call (fields: call number, six arguments, SP, PC). A thread's stack is private by convention only: the memory is shared, so a bad pointer in one thread can corrupt another's stack. A thread's first malloc may set up a new malloc arena for it (glibc reserves 64 MiB of address space with mmap(PROT_NONE) and makes only what it uses readable), so threads rarely contend for the allocator's lock."
    )
  }

  static func release(_ session: Session) -> Report {
    let r = Report()
    guard let keeper = session.keepers[ThreadCommand.keeperKey] as? BlockedThreads else {
      r.line("no threads are held; 'thread N --hold SECONDS' keeps some")
      r.fact("released", 0)
      return r
    }
    let alive = keeper.alive
    let start = MonotonicClock.nanoseconds()
    keeper.release()
    session.keepers[ThreadCommand.keeperKey] = nil
    let after = Threads.tasks()
    let heldFor = MonotonicClock.since(keeper.started)
    // How many were still blocked depends on how long after their hold the release came.
    r.line(
      "released \(Units.plural(keeper.tids.count, "thread")) held for \(r.duration(heldFor)) ("
        + r.note(
          "\(alive.count) still blocked"
            + (alive.count < keeper.tids.count ? ", the others had ended at their time limit" : ""), .text)
        + "); joined in \(r.duration(MonotonicClock.since(start)))")
    r.line(
      "/proc/\(r.pid(Threads.processID))/task now lists \(r.count(after.count)) task\(after.count == 1 ? "" : "s")"
    )
    r.fact("released", keeper.tids.count)
    r.fact("were_alive", alive.map(Int.init))
    r.fact("tasks_after", after.map(Int.init))
    r.explain(
      "Closing the pipe's write end woke every blocked thread at once (poll saw end of file); each returned from its start routine and pthread_join collected it."
    )
    return r
  }
}
