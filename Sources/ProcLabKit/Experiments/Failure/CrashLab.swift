import Glibc

/// The child side of `crash`: a lab child that gets ready, says so, waits for
/// the shell's go signal (SIGUSR1, taken with sigtimedwait) and then ends the
/// way it was asked to. Siblings just wait to be killed.
enum CrashLab {
  /// The signal the shell sends to say "crash now".
  static let goSignal = SIGUSR1
  /// How long a child waits for the go signal (or for SIGKILL) before giving up.
  static let patience: Duration = .seconds(60)
  /// The main thread's stack is capped at this when RLIMIT_STACK is larger or unlimited.
  static let mainStackCap: UInt64 = 8 << 20
  /// Room left above what the child already uses when `oom` lowers RLIMIT_AS.
  static let memoryHeadroom = 64 << 20
  static let oomBlock = 1 << 20
  /// What the clone(CLONE_VM) task writes into the memory it shares.
  static let sharedMark = 4242

  /// Where the fault runs.
  enum Mode: String, Sendable {
    /// On the lab child's main thread.
    case process
    /// On one worker thread; nothing handles the signal.
    case thread
    /// On one worker thread, with a handler that catches the signal and jumps back.
    case handled
    /// In a task made with clone(CLONE_VM): same memory, its own thread group.
    case cloneVM = "clone-vm"
  }

  struct Request {
    var kind: CrashKind
    var exitCode: Int32
    var mode: Mode
    var threads: Int
    var coreDirectory: String?
    var coreBytes: UInt64
    var scratch: String

    var json: JSON {
      [
        "kind": .string(kind.rawValue), "code": .int(Int(exitCode)), "mode": .string(mode.rawValue),
        "threads": .int(threads), "core_dir": coreDirectory.map { .string($0) } ?? .null,
        "core_bytes": .int(Int(coreBytes)), "scratch": .string(scratch),
      ]
    }

    init(
      kind: CrashKind, exitCode: Int32, mode: Mode, threads: Int, coreDirectory: String?, coreBytes: UInt64,
      scratch: String
    ) {
      self.kind = kind
      self.exitCode = exitCode
      self.mode = mode
      self.threads = threads
      self.coreDirectory = coreDirectory
      self.coreBytes = coreBytes
      self.scratch = scratch
    }

    init?(json: JSON) {
      guard let kind = json["kind"]?.stringValue.flatMap(CrashKind.init(rawValue:)),
        let mode = json["mode"]?.stringValue.flatMap(Mode.init(rawValue:))
      else { return nil }
      self.init(
        kind: kind, exitCode: Int32(json["code"]?.intValue ?? 0), mode: mode,
        threads: json["threads"]?.intValue ?? 0, coreDirectory: json["core_dir"]?.stringValue,
        coreBytes: UInt64(json["core_bytes"]?.intValue ?? 0), scratch: json["scratch"]?.stringValue ?? "/tmp")
    }
  }

  static let entry = LabEntry("crash") { json in
    guard let request = Request(json: json) else { throw LabFailure("crash: bad request \(json.serialized)") }
    let me = ThisProcess.id
    // Block the go signal first: the threads made below inherit the mask, so
    // only sigtimedwait ever takes it.
    GoSignal.block(goSignal)

    var ready = JSONObject()
    ready["pid"] = .int(Int(me))
    // Core dumps: report the limit the kernel will check, after lab mode set it to 0.
    if let dir = request.coreDirectory {
      try ScratchDirectory.enter(dir)
      do {
        try CoreDumps.allow(bytes: request.coreBytes)
        ready["core_raise"] = "ok"
      } catch let e as SystemError {
        ready["core_raise"] = .string(e.name)
      }
    }
    ready["core_limit"] = CoreDumps.limit().json

    switch request.kind {
    case .stack:
      let soft = ResourceLimits.soft(ResourceLimits.stack)
      if soft > mainStackCap { ResourceLimits.lower(ResourceLimits.stack, to: mainStackCap) }
      ready["stack_limit"] = .int(Int(clamping: ResourceLimits.soft(ResourceLimits.stack)))
    case .oom:
      let used = (ProcFS.status(me, field: "VmSize")?.split(separator: " ").first).flatMap { Int($0) } ?? 0
      let limit = UInt64(used * 1024 + memoryHeadroom)
      ResourceLimits.lower(ResourceLimits.addressSpace, to: limit)
      ready["address_space_used"] = .int(used * 1024)
      ready["address_space_limit"] = .int(Int(clamping: ResourceLimits.soft(ResourceLimits.addressSpace)))
    default: break
    }

    let fault = request.kind.fault
    let step = request.threads > 0 ? 256 << 10 : Int(mainStackCap / 8)
    var workers: FaultThreads?
    if request.threads > 0 {
      // `kill` orders no fault (the shell's SIGKILL arrives instead): its workers just wait.
      let started = try FaultThreads(
        count: request.threads, kind: fault ?? .exit, exitCode: request.exitCode, directory: request.scratch,
        reportEvery: step)
      workers = started
      ready["workers"] = .array(started.tids.map { .int(Int($0)) })
      ready["crasher"] = .int(Int(started.tids[0]))
      ready["thread_stack"] = .int(started.stackBytes)
    }
    // Every thread of this process, as the kernel lists them.
    ready["tids"] = .array(ProcFS.threads(of: me).map { .int(Int($0)) })
    // Said before announcing: the shell's SIGKILL may follow the announcement at once.
    if request.kind == .kill { say("pid \(me) is ready and waits; only the shell's SIGKILL will end it") }
    // The child will not live to send its trace with a result: send it now.
    if Trace.isEnabled { ready["trace"] = .array(Trace.drain().map(\.json)) }
    LabChild.announce(.object(ready))

    if request.kind == .kill {
      _ = GoSignal.wait(goSignal, timeout: patience)
      throw LabFailure("crash: nobody killed this child within \(Units.duration(patience))")
    }
    guard GoSignal.wait(goSignal, timeout: patience) else {
      throw LabFailure("crash: no go signal within \(Units.duration(patience))")
    }

    if request.kind == .oom {
      let (blocks, error) = Faults.exhaustMemory(block: oomBlock, maxBlocks: 1 << 16)
      LabChild.announce([
        "oom": [
          "blocks": .int(blocks), "block": .int(oomBlock), "errno": .string(SystemError.name(of: error)),
        ]
      ])
      say(
        "malloc(\(Units.bytes(oomBlock))) returned \(error == 0 ? "memory every time" : "NULL (\(SystemError.name(of: error)))") after \(blocks) blocks"
      )
      _ = Faults.trigger(.exit, exitCode: CrashKind.outOfMemoryStatus, directory: request.scratch)
    }

    guard let fault else { throw LabFailure("crash: \(request.kind) is not a fault") }
    switch request.mode {
    case .process:
      let r = Faults.trigger(fault, exitCode: request.exitCode, directory: request.scratch, reportEvery: step)
      return notEnded(value: r.value, errno: r.errno)
    case .thread:
      let r = workers?.order(0, .fault) ?? 0
      return notEnded(value: 0, errno: r < 0 ? -r : 0)
    case .handled:
      let caught = workers?.order(0, .survive) ?? 0
      // Still here: every thread that was there before the fault is still listed.
      let after = ProcFS.threads(of: me)
      workers?.release()
      return [
        "mode": "handled", "caught": caught > 0 ? .string(Signals.name(caught)) : .null,
        "tids_after_fault": .array(after.map { .int(Int($0)) }),
      ]
    case .cloneVM:
      return try cloneVM(fault, me: me)
    }
  }

  /// Still here: the fault did not happen (a CPU that does not trap, a failed setup).
  static func notEnded(value: Int, errno: Int32) -> JSON {
    [
      "survived": true, "value": .int(value),
      "errno": errno == 0 ? .null : .string(SystemError.name(of: errno)),
    ]
  }

  /// A clone(CLONE_VM) task faults; this process, which shares its memory, looks at
  /// how it ended (waitid WNOWAIT, then /proc of the zombie), reaps it and reads
  /// what it wrote.
  static func cloneVM(_ fault: Faults.Kind, me: Int32) throws -> JSON {
    let task = try Faults.SharedMemoryTask(fault, value: sharedMark)
    let threadsDuring = ProcFS.threads(of: me)
    guard let status = try Wait.endedWithoutReaping(task.pid, timeout: .seconds(10)) else {
      Children.killAndReap(task.pid)
      throw LabFailure("crash: the clone(CLONE_VM) task \(task.pid) did not end within 10 s")
    }
    // The zombie's /proc/PID/status still says which thread group it was.
    let tgid = ProcFS.status(task.pid, field: "Tgid").flatMap { Int($0) } ?? 0
    let parent = ProcFS.status(task.pid, field: "PPid").flatMap { Int($0) } ?? 0
    Wait.reap(task.pid)
    return [
      "mode": "clone-vm", "task": .int(Int(task.pid)), "task_status": status.json, "task_tgid": .int(tgid),
      "task_parent": .int(parent), "shared_written": .int(sharedMark), "shared_read": .int(task.sharedValue),
      "tids_during": .array(threadsDuring.map { .int(Int($0)) }),
      "tids_after_fault": .array(ProcFS.threads(of: me).map { .int(Int($0)) }),
    ]
  }

  /// A bystander: says it is running, then waits until the shell kills it.
  static let sibling = LabEntry("crash-sibling") { _ in
    GoSignal.block(goSignal)
    LabChild.announce(["pid": .int(Int(ThisProcess.id))])
    _ = GoSignal.wait(goSignal, timeout: .seconds(120))
    return ["pid": .int(Int(ThisProcess.id))]
  }

  /// One line on standard error: what the child says last.
  static func say(_ line: String) { Output.err("crash [tid \(Threads.currentTID())]: \(line)\n") }
}

/// An experiment that could not do what it was asked (reported as the lab child's error).
struct LabFailure: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}
