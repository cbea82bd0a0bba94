/// `thread [N] [--hold SECONDS]`, `thread --release`: N real pthreads, each
/// reporting what is its own (TID, stack, registers) and what is shared
/// (process ID, heap).
enum ThreadCommand {
  static let keeperKey = "threads"
  static let maxThreads = 64

  static let command = Command(
    name: "thread", area: .threads,
    summary: "create N threads: own TID, stack and registers; shared PID and heap",
    usage: "thread [N] [--hold SECONDS] | thread --release",
    options: [
      .init(
        "--hold", value: "SECONDS", "keep the threads blocked for up to SECONDS after the command returns"),
      .init("--release", "wake and join the threads kept by --hold"),
    ],
    examples: ["thread", "thread 4", "thread 3 --hold 60", "thread --release"]
  ) { args, session in
    try args.expectPositionals(atMost: 1)
    if args.flag("--release") {
      if args.flag("--hold") || args.positional(0) != nil {
        throw UsageError("thread: --release takes no count and no --hold; usage: thread --release")
      }
      return release(session)
    }
    let n = try args.positionalInt(0, named: "N", default: 2, in: 1...maxThreads)
    let hold = args.flag("--hold") ? try args.double("--hold", default: 0, in: 0.1...3600) : nil
    if hold != nil, let held = session.keepers[keeperKey], held.heldThreads == 0 {
      // The earlier held threads ended at their time limit: join them now.
      held.release()
      session.keepers[keeperKey] = nil
    }
    if hold != nil, let held = session.keepers[keeperKey] {
      throw UsageError(
        "thread: \(held.heldThreads) thread(s) are already held; run 'thread --release' first")
    }
    return try run(count: n, hold: hold, session: session)
  }

  /// What every thread writes about itself, collected under a mutex.
  final class Reports: @unchecked Sendable {
    let mutex = PthreadMutex()
    var views: [Threads.SelfView?]
    var errors: [String] = []
    init(_ n: Int) { views = Array(repeating: nil, count: n) }
    func set(_ i: Int, _ v: Threads.SelfView) {
      mutex.lock()
      views[i] = v
      mutex.unlock()
    }
    func fail(_ e: String) {
      mutex.lock()
      errors.append(e)
      mutex.unlock()
    }
  }

  static func run(count n: Int, hold: Double?, session: Session) throws -> Report {
    let r = Report()
    let pid = Threads.processID
    let before = Threads.tasks()
    let mainView = try Threads.probeSelf()
    let shared = SharedCounter()
    let reports = Reports(n)
    let latch = Latch(count: n)
    let gate = try Descriptors.pipe()
    let limit: Duration = hold.map { .milliseconds(Int64($0 * 1000)) } ?? .seconds(30)
    var handles: [Threads.Handle] = []
    var kept = false
    // Unless the threads are kept, wake and join them on every way out.
    defer {
      if !kept {
        let tids = reports.views.compactMap { $0?.tid }
        BlockedThreads(handles: handles, tids: tids, pipe: gate, holdFor: .zero).release()
      }
    }
    let gateRead = gate.read
    let createStart = MonotonicClock.nanoseconds()
    for i in 0..<n {
      handles.append(
        try Threads.spawn("proclab-t\(i + 1)") {
          do {
            let me = try Threads.probeSelf()
            shared.atomicAdd(1)
            reports.set(i, me)
          } catch { reports.fail("\(error)") }
          latch.arrive()
          BlockedThreads.block(on: gateRead, for: limit)
        })
    }
    let createWall = MonotonicClock.since(createStart)
    guard latch.wait(timeout: .seconds(10)) else {
      throw UsageError("thread: the new threads did not report within 10 s; they were woken and joined")
    }
    if let e = reports.errors.first {
      throw UsageError("thread: a thread could not read its own attributes: \(e)")
    }
    let views = reports.views.compactMap { $0 }
    // Read /proc while every thread is alive and blocked.
    let during = Threads.tasks()
    // Give each thread a moment to enter poll() so its registers show where it waits.
    var states: [Int32: Threads.SyscallState] = [:]
    for _ in 0..<50 {
      states = [:]
      for v in views { if let s = Threads.syscallState(v.tid) { states[v.tid] = s } }
      if states.values.allSatisfy({ $0.number != nil }) && states.count == views.count { break }
      Threads.pause(.milliseconds(2))
    }

    let each = handles.map { Double($0.creationNanoseconds) }
    let meanCreate = each.reduce(0, +) / Double(max(1, each.count))
    let firstRun = views.map { Double($0.started &- createStart) }.max() ?? 0

    r.line(
      "created \(n) threads in \(r.duration(createWall)) (pthread_create took \(r.seconds(meanCreate / 1e9)) each on average); all in process \(r.pid(pid))"
    )
    let ours = Set(views.map(\.tid))
    let taskWords = during.map { t -> String in
      t == pid ? "\(r.tid(t)) (main)" : ours.contains(t) ? r.tid(t) : "\(r.tid(t)) (other)"
    }
    r.line(
      // The list comes in TID order (which wraps around pid_max) and may hold other threads of
      // the shell: a recording accepts any list here and captures the TIDs in the table below.
      "/proc/\(r.pid(pid))/task while they live: \(r.count(during.count)) tasks: \(r.note(taskWords.joined(separator: ", "), .text))"
    )
    var t = Table([
      "thread name", "TID", "CPU", "local variable", "its stack", "waits in", "stack pointer",
      "program counter",
    ])
    t.add([
      "\(Threads.name(of: mainView.tid) ?? "proclab") (main)", r.tid(mainView.tid), r.count(mainView.cpu),
      r.addr(mainView.localAddress),
      "\(r.addr(mainView.stackLow))–\(r.addr(mainView.stackHigh))", "(running)", "", "",
    ])
    for (i, v) in views.enumerated() {
      let s = states[v.tid]
      t.add([
        Threads.name(of: v.tid) ?? "\(i + 1)", r.tid(v.tid), r.count(v.cpu), r.addr(v.localAddress),
        "\(r.addr(v.stackLow))–\(r.addr(v.stackHigh))",
        s.map { $0.callName } ?? "?", s.map { r.addr($0.stackPointer) } ?? "?",
        s.map { r.addr($0.programCounter) } ?? "?",
      ])
    }
    r.lines(t.lines)
    r.line(
      "shared heap variable at \(r.addr(shared.address)) in every thread: it holds \(shared.value) after each of the \(n) threads added 1"
    )

    // Facts computed from what the threads reported.
    let tids = views.map(\.tid)
    let distinctTIDs = Set(tids).count == tids.count && !tids.contains(pid)
    let allListed = tids.allSatisfy { during.contains($0) }
    let locals = views.map(\.localAddress) + [mainView.localAddress]
    let distinctLocals = Set(locals).count == locals.count
    let localsInOwnStack = views.allSatisfy { $0.stackContains($0.localAddress) }
    let allStacks = views + [mainView]
    var overlapping = false
    for a in allStacks.indices {
      for b in allStacks.indices where a < b {
        if allStacks[a].stackLow < allStacks[b].stackHigh && allStacks[b].stackLow < allStacks[a].stackHigh {
          overlapping = true
        }
      }
    }
    let spInStack = views.filter { v in states[v.tid].map { v.stackContains($0.stackPointer) } ?? false }
      .count
    let pcs = Set(states.values.map(\.programCounter))
    let pcMapping = pcs.first.flatMap { ProcFS.mapping(pid: pid, containing: $0) }
    let pcLibrary = pcMapping.map { String($0.split(separator: " ").last ?? "") }.map {
      $0.split(separator: "/").last.map(String.init) ?? $0
    }
    let cpus = Set(views.map(\.cpu))
    let stackSize = views.first?.stackBytes ?? 0

    r.fact("pid", pid)
    r.fact("count", n)
    r.fact("tasks_before", before.map(Int.init))
    r.fact("tasks_during", during.map(Int.init))
    r.fact("main_tid", mainView.tid)
    r.fact("shared_address", Int(bitPattern: shared.address))
    r.fact("shared_value", shared.value)
    r.fact("create_ns_each", each.map { Int($0) })
    r.fact("create_wall_ns", Int(createWall.nanoseconds))
    r.fact("first_run_after_ns", Int(firstRun))
    r.fact(
      "threads",
      JSON.array(
        views.map { v in
          let s = states[v.tid]
          var o = JSONObject()
          o["tid"] = .int(Int(v.tid))
          o["cpu"] = .int(v.cpu)
          o["name"] = .string(Threads.name(of: v.tid) ?? "")
          o["local_address"] = .int(Int(bitPattern: v.localAddress))
          o["stack_low"] = .int(Int(bitPattern: v.stackLow))
          o["stack_high"] = .int(Int(bitPattern: v.stackHigh))
          o["shared_address"] = .int(Int(bitPattern: shared.address))
          if let s {
            o["stack_pointer"] = .int(Int(bitPattern: s.stackPointer))
            o["program_counter"] = .int(Int(bitPattern: s.programCounter))
            o["waits_in"] = .string(s.callName)
          }
          return JSON.object(o)
        }))
    r.fact("distinct_tids", distinctTIDs)
    r.fact("all_listed_in_proc", allListed)
    r.fact("distinct_stacks", !overlapping && distinctLocals)
    r.fact("stack_pointers_in_own_stack", spInStack)

    var why = [String]()
    why.append(
      distinctTIDs && allListed
        ? "The kernel gave each of the \(n) threads its own task ID, and /proc/\(pid)/task listed all of them next to the main thread (\(during.count) tasks): threads are kernel-scheduled tasks that share one process ID."
        : "Surprise: not every thread had its own TID listed in /proc (\(Set(tids).count) distinct, listed: \(allListed))."
    )
    why.append(
      !overlapping && distinctLocals && localsInOwnStack
        ? "Each thread's local variable sits at a different address, inside its own \(Units.bytes(stackSize)) stack; the heap variable has one address that every thread used, and it counted all \(shared.value) additions: one address space, separate stacks."
        : "Surprise: stacks overlapped or locals coincided (distinct locals: \(distinctLocals), inside own stack: \(localsInOwnStack))."
    )
    if !states.isEmpty {
      let callNames = Set(states.values.map(\.callName)).sorted().joined(separator: "/")
      why.append(
        "While blocked in \(callNames), each thread's saved stack pointer lay in its own stack (\(spInStack) of \(views.count))"
          + (pcs.count == 1
            ? " and every program counter was the same address\(pcLibrary.map { " in \($0)" } ?? ""): the threads run the same code, each with its own registers."
            : "; the program counters differ in \(pcs.count) places: each thread has its own registers."))
    }
    why.append(
      "Creating a thread took about \(Units.duration(seconds: meanCreate / 1e9)): no new address space, just a stack (mmap) and a clone(2) with CLONE_VM."
    )
    r.explain(
      why.joined(separator: " "),
      more:
        "The threads started on CPU \(cpus.sorted().map(String.init).joined(separator: " and ")) (this machine has \(Threads.onlineCPUs) online). The stack pointer and program counter come from /proc/self/task/TID/syscall, which the kernel fills while a thread waits in a system call (fields: call number, six arguments, SP, PC). A thread's stack is private by convention only: the memory is shared, so a bad pointer in one thread can corrupt another's stack."
    )

    if let hold {
      let keeper = BlockedThreads(handles: handles, tids: tids, pipe: gate, holdFor: limit)
      session.keepers[keeperKey] = keeper
      kept = true
      r.line(
        "holding \(r.count(n)) threads blocked in poll() for up to \(Units.plain(hold)) s: they are listed in /proc/\(r.pid(pid))/task (and by 'ps -L -p \(r.pid(pid))'); 'thread --release' joins them (quit does too)"
      )
      r.fact("held", n)
    } else {
      // Wake them (close the write end: end of file), join them, check /proc.
      let joinStart = MonotonicClock.nanoseconds()
      kept = true
      BlockedThreads(handles: handles, tids: tids, pipe: gate, holdFor: .zero).release()
      let after = Threads.tasks()
      let left = tids.filter { after.contains($0) }
      r.line(
        "joined all \(r.count(n)) in \(r.duration(MonotonicClock.since(joinStart))); /proc/\(r.pid(pid))/task now lists \(r.count(after.count)) task\(after.count == 1 ? "" : "s")"
          + (left.isEmpty ? "" : " (still listed: \(left.map(String.init).joined(separator: ", ")))"))
      r.fact("tasks_after", after.map(Int.init))
    }
    return r
  }

  static func release(_ session: Session) -> Report {
    let r = Report()
    guard let keeper = session.keepers[keeperKey] as? BlockedThreads else {
      r.line("no threads are held; 'thread N --hold SECONDS' keeps some")
      r.fact("released", 0)
      return r
    }
    let alive = keeper.alive
    let start = MonotonicClock.nanoseconds()
    keeper.release()
    session.keepers[keeperKey] = nil
    let after = Threads.tasks()
    let heldFor = MonotonicClock.since(keeper.started)
    r.line(
      "released \(r.count(keeper.tids.count)) threads held for \(r.duration(heldFor)) (\(r.count(alive.count)) still blocked"
        + (alive.count < keeper.tids.count ? ", the others had ended at their time limit" : "")
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
