import CLab

/// `thread N --fork`: in a lab child, N threads run (one of them holding a
/// mutex), the main thread forks, and the forked child — which has only the
/// thread that called fork — tries to lock that mutex. A watchdog in the lab
/// child notices the hang, reads where the child waits, and kills it.
enum ThreadForkExperiment {
  static let holdMS = 300
  static let watchdogMS = 500

  struct Result {
    var labPID: Int32
    var threads: Int
    var atfork: Bool
    var parentThreads: Int
    var childPID: Int
    var childThreads: Int
    var childLocked: Bool
    var childHung: Bool
    var childWaitsIn: String
    var childStatus: String
    var forkNanoseconds: Int
    var holderTID: Int
  }

  static func run(threads n: Int, atfork: Bool) throws -> Result {
    let run = try Lab.run(entry.name, ["threads": .int(n), "atfork": .bool(atfork)], timeout: .seconds(20))
    guard let res = run.result, run.status == .exited(0) else {
      let why = run.timedOut ? "did not answer within 20 s and was killed" : "\(run.status)"
      throw UsageError(
        "thread: the lab child \(run.pid) \(why); its last words: \(run.lastOutput.joined(separator: " / "))")
    }
    func int(_ k: String) -> Int { res[k]?.intValue ?? 0 }
    return Result(
      labPID: run.pid, threads: n, atfork: atfork, parentThreads: int("parent_threads"),
      childPID: int("child_pid"), childThreads: int("child_threads"),
      childLocked: res["child_locked"]?.boolValue ?? false, childHung: res["child_hung"]?.boolValue ?? false,
      childWaitsIn: res["child_waits_in"]?.stringValue ?? "",
      childStatus: res["child_status"]?.stringValue ?? "",
      forkNanoseconds: int("fork_ns"), holderTID: int("holder_tid"))
  }

  /// The lab side: N threads (thread 1 holds the mutex), fork, watch the child.
  static let entry = LabEntry("threads.fork") { request in
    let n = max(1, request["threads"]?.intValue ?? 2)
    let atfork = request["atfork"]?.boolValue ?? false
    let lock = try SyncMemory<clab_fork_lock>.map(shared: false)
    try PthreadPrimitives.initMutex(lock.field(\.mutex))
    lock.pointer.pointee.hold_ns = Int64(holdMS) * 1_000_000
    let gate = try Descriptors.pipe()
    var handles: [Threads.Handle] = []
    let gateRead = gate.read
    handles.append(try Threads.spawn("holder") { clab_fork_holder(lock.pointer) })
    for i in 1..<n {
      handles.append(
        try Threads.spawn("idle \(i + 1)") { BlockedThreads.block(on: gateRead, for: .seconds(20)) })
    }
    let threadsOnly = BlockedThreads(handles: handles, tids: [], pipe: gate, holdFor: .zero)
    defer {
      SharedInt32.store(lock.field(\.release), 1)
      threadsOnly.release()
    }
    while SharedInt32.load(lock.field(\.holder_ready)) == 0 { MonotonicClock.pause(.microseconds(200)) }
    let parentThreads = Threads.tasks().count
    if atfork { try ForkWithThreads.registerAtfork(lock.pointer) }
    let report = try Descriptors.pipe()
    defer {
      Descriptors.close(report.read)
      Descriptors.close(report.write)
    }
    let start = MonotonicClock.nanoseconds()
    let pid = try ForkWithThreads.forkChildThatLocks(lock.pointer, reportFD: report.write)
    let forkTime = MonotonicClock.nanoseconds() - start
    var reaped = false
    defer { if !reaped { _ = ForkedWorkers.killAndReap(pid) } }
    guard readByte(report.read, within: .seconds(5)) == UInt8(ascii: "f") else {
      throw UsageError("thread: the forked child \(pid) did not start")
    }
    let childThreads = ProcFS.threads(of: pid).count
    let locked = readByte(report.read, within: .milliseconds(Int64(watchdogMS))) == UInt8(ascii: "l")
    var waitsIn = ""
    if !locked {
      // The watchdog: where is it stuck? /proc/PID/syscall names the call it sleeps in.
      let words = ProcFS.read("/proc/\(pid)/syscall")?.split(separator: " ") ?? []
      if let nr = words.first.flatMap({ Int($0) }) {
        waitsIn = Threads.SyscallState(number: nr, stackPointer: 0, programCounter: 0).callName
      }
      if waitsIn.isEmpty, let wchan = ProcFS.read("/proc/\(pid)/wchan") { waitsIn = wchan }
    }
    let status: String
    if locked, let r = try Wait.wait4(pid, timeout: .seconds(5)) {
      status = r.status.description
    } else {
      status = ForkedWorkers.killAndReap(pid)?.status.description ?? "gone"
    }
    reaped = true
    return [
      "parent_threads": .int(parentThreads), "child_pid": .int(Int(pid)), "child_threads": .int(childThreads),
      "child_locked": .bool(locked), "child_hung": .bool(!locked), "child_waits_in": .string(waitsIn),
      "child_status": .string(status), "fork_ns": .int(Int(forkTime)),
      "holder_tid": .int(Int(lock.pointer.pointee.holder_tid)),
    ]
  }

  static func readByte(_ fd: Int32, within timeout: Duration) -> UInt8? {
    guard Descriptors.readable([fd], timeout: timeout).contains(fd) else { return nil }
    return (try? Descriptors.read(fd, max: 1))?.first
  }
}
