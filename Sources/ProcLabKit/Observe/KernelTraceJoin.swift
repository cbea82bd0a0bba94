/// What the kernel ran during one command that belongs to no library call: the
/// processes and threads the command started, and the shell's own work.
public struct KernelTraceReport: Sendable {
  /// Why the kernel side is missing or incomplete, when it is.
  public var note: String?
  /// System calls the kernel ran in all during the command (in the tasks traced).
  public var total = 0
  /// The shell's own calls between the library calls (the Swift runtime, building the report), by name.
  public var ownWork: [String: Int] = [:]
  public var tasks: [TaskSection] = []

  public init(note: String? = nil) { self.note = note }

  /// One process or thread the command started, and what it ran outside any library call.
  public struct TaskSection: Sendable {
    public var task: CreatedTask
    /// The library call it was made by (`posix_spawn`), when one was recorded.
    public var madeBy: String?
    public var calls: [KernelCall]
    public var counts: [String: Int] { calls.reduce(into: [:]) { $0[$1.name, default: 0] += 1 } }
  }

  public var json: JSON {
    var o = JSONObject()
    if let note { o["note"] = .string(note) }
    o["total"] = .int(total)
    o["own_work"] = .object(ObservedRun.counts(ownWork))
    o["tasks"] = .array(
      tasks.map { t in
        var j = t.task.json
        if case .object(var f) = j {
          f["made_by"] = t.madeBy.map(JSON.string) ?? .null
          f["calls"] = .object(ObservedRun.counts(t.counts))
          j = .object(f)
        }
        return j
      })
    return .object(o)
  }
}

/// Joins the kernel's record of one command with the library calls the shell and its
/// lab children recorded: a system call belongs to the innermost library call on the
/// same thread whose span holds it. That holds by construction: the tracer stamps a
/// call's entry after the library call began, and its exit before the tracee may go on.
struct KernelTraceJoin {
  let library: [TraceCall]
  let kernel: [KernelCall]
  let created: [CreatedTask]
  let shell: Int32
  let window: (start: UInt64, end: UInt64)
  let hidden: [(tid: Int32, start: UInt64, end: UInt64)]
  /// The tracer let go at its limit: after the last call it saw, "no system call" proves nothing.
  var cut = false
  /// The command measures times: the tracer let go early on purpose.
  var measurement = false

  /// Whether an argument begins with a count of calls (`×6 turns`, `4, ×6`), not a count inside
  /// a description (`child: mq_send ×6 with priorities …`).
  static func saysHowMany(_ arguments: String) -> Bool {
    for part in arguments.split(separator: ",") {
      let word = part.drop { $0 == " " }
      if word.hasPrefix("×"), word.dropFirst().first?.isNumber == true { return true }
    }
    return false
  }

  /// Which system calls an aggregate row (`pthread_mutex_lock ×4000 turns (in the workers)`) stands for.
  static func kernelNames(forAggregate name: String) -> (names: Set<String>, inWorkers: Bool) {
    if name.contains("lock") || name.hasPrefix("sem_") || name.contains("cond") {
      return (["futex"], true)
    }
    if name == "fork" || name == "pthread_create" { return (["clone", "clone3", "fork", "vfork"], false) }
    if name == "waitpid" || name == "wait4" { return (["wait4", "waitid"], false) }
    if name == "pthread_join" { return (["futex"], false) }
    if name == "mmap" || name == "munmap" { return ([name], false) }
    if name.hasPrefix("pthread_") || name.hasSuffix("_init") { return ([], false) }
    // A system call's own name (`mq_timedreceive ×6`, `read ×12`): those calls, on its thread.
    return ([name], false)
  }

  func run() -> (calls: [TraceCall], report: KernelTraceReport) {
    var report = KernelTraceReport()
    let createdTIDs = Set(created.map(\.tid))
    // Pre-existing tasks (the shell's threads): only what happened during the command,
    // and nothing of the shell's bookkeeping.
    let relevant = kernel.filter { k in
      if createdTIDs.contains(k.tid) { return true }
      return k.start >= window.start && k.start <= window.end
        && !Trace.isHidden(tid: k.tid, at: k.start, in: hidden)
    }
    report.total = relevant.count
    if cut {
      report.note =
        measurement
        ? "the kernel trace followed the first \(relevant.count) system calls and let go: the measurement ran untraced (under ptrace it would time the tracer's stops)"
        : "the kernel trace stopped after \(relevant.count) system calls (its limit); the command ran on untraced"
    }

    var calls = library
    // Rows recorded together with one start (`pthread_create ×3 workers`, `pthread_mutex_lock
    // ×6 turns (in the workers)`) are summaries of a whole run, not nested calls: joined by name.
    var starts: [String: Int] = [:]
    for c in calls where c.start > 0 { starts["\(c.tid)@\(c.start)", default: 0] += 1 }
    // So are rows that say how many calls they stand for (`×6 turns`): Trace.recordAggregate's
    // convention, also written by hand.
    for i in calls.indices
    where calls[i].start > 0
      && (starts["\(calls[i].tid)@\(calls[i].start)"]! > 1 || Self.saysHowMany(calls[i].arguments))
    {
      calls[i].aggregate = true
    }
    var assigned = [Bool](repeating: false, count: relevant.count)
    var spansByTID: [Int32: [Int]] = [:]
    for (i, c) in calls.enumerated() where c.start > 0 && !c.aggregate {
      spansByTID[c.tid, default: []].append(i)
    }

    // 1. Each system call to the innermost library call on its thread that holds it.
    var owner = [Int?](repeating: nil, count: relevant.count)
    for (k, call) in relevant.enumerated() {
      guard let spans = spansByTID[call.tid] else { continue }
      var best: Int?
      for i in spans where calls[i].start <= call.start && call.end <= calls[i].end {
        if best == nil || calls[i].nanoseconds < calls[best!].nanoseconds { best = i }
      }
      if let best {
        owner[k] = best
        assigned[k] = true
      }
    }
    // 2. A task made inside a library call (posix_spawn's child) runs its first calls
    //    (dup2, execve) before that call returns: they are part of it.
    var madeBy: [Int32: Int] = [:]
    for task in created {
      let creation = relevant.indices.first { k in
        relevant[k].tid == task.parent && ["clone", "clone3", "fork", "vfork"].contains(relevant[k].name)
          && relevant[k].start <= task.at && task.at <= relevant[k].end
      }
      if let creation, let span = owner[creation] { madeBy[task.tid] = span }
    }
    for (k, call) in relevant.enumerated() where !assigned[k] {
      // execve's own return comes after posix_spawn has returned (CLONE_VFORK resumes the
      // parent once the child has a new program): a call that began inside the span belongs to it.
      if let span = madeBy[call.tid], call.start <= calls[span].end {
        owner[k] = span
        assigned[k] = true
      }
    }
    for (k, call) in relevant.enumerated() { if let i = owner[k] { calls[i].kernel.append(call) } }

    // 3. Aggregate rows: the calls they stand for, in their window.
    let workers = Set(created.map(\.tid))
    for i in calls.indices where calls[i].aggregate {
      let (names, inWorkers) = Self.kernelNames(forAggregate: calls[i].name)
      guard !names.isEmpty else { continue }
      for (k, call) in relevant.enumerated() where !assigned[k] && names.contains(call.name) {
        guard call.start >= calls[i].start && call.start <= calls[i].end else { continue }
        let mine = inWorkers ? workers.contains(call.tid) : call.tid == calls[i].tid
        if mine {
          calls[i].kernel.append(call)
          assigned[k] = true
        }
      }
    }

    // 4. What is left: the tasks the command started, and the shell's own work.
    var byTask: [Int32: [KernelCall]] = [:]
    for (k, call) in relevant.enumerated() where !assigned[k] {
      if workers.contains(call.tid) {
        byTask[call.tid, default: []].append(call)
      } else if call.tid == shell || call.pid == shell {
        report.ownWork[call.name, default: 0] += 1
      }
    }
    for task in created {
      let made = madeBy[task.tid].map { calls[$0].name }
      report.tasks.append(.init(task: task, madeBy: made, calls: byTask[task.tid] ?? []))
    }
    return (calls, report)
  }
}
