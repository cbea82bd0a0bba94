import Glibc

/// The tracer behind `set trace on`: a lab child that seizes every thread of
/// the shell for one command's duration, follows whatever the command starts
/// (lab children, forks, threads), records each system call with its entry
/// and exit times, then detaches and sends the record back. A process cannot
/// trace itself, so this runs in a copy of proclab the shell starts.
enum KernelTraceLab {
  /// The most calls recorded for one command; then the tracer detaches and the command runs on untraced.
  static let limit = 20_000

  static let entry = LabEntry("kernel-trace") { request in
    guard let pid = request["pid"]?.intValue.map(Int32.init) else {
      throw ObserveLab.NotPermitted(reason: "bad request")
    }
    // The shell asks the tracer to let go with SIGINT: a handler without SA_RESTART
    // makes the loop's waitpid return EINTR.
    Interrupt.install()
    let control = TraceControl()
    let recorder = KernelTraceRecorder(control: control, limit: request["limit"]?.intValue ?? limit)
    let engine = PtraceEngine(mode: .attach, control: control, listener: recorder)
    let tids: [Int32]
    do {
      tids = try PtraceAttach.seizeAll(pid, options: .followAll)
    } catch let e as SystemError {
      throw ObserveLab.NotPermitted(reason: Ptrace.refusalReason(e))
    } catch let e as AlreadyTraced {
      throw ObserveLab.NotPermitted(reason: e.description)
    }
    for tid in tids { engine.adopt(tid, pid: pid, awaitingStop: true) }
    // Never longer than a command may run: the shell's own limits are far below this.
    let watchdog = try TraceWatchdog.start(
      control, deadline: MonotonicClock.nanoseconds() + 3_600_000_000_000)
    defer {
      control.finished.store(true, ordering: .relaxed)
      Threads.join(watchdog)
    }
    try engine.run { LabChild.announce(["ready": .bool(true), "threads": .int(tids.count)]) }
    return [
      "calls": .array(recorder.calls.map(\.json)),
      "created": .array(recorder.created),
      "dropped": .int(recorder.dropped),
      "stops": .int(engine.stops),
    ]
  }
}

/// Records every call of every traced task, decoded, for the shell to join with
/// the library calls it made.
final class KernelTraceRecorder: PtraceListener {
  let decoder = SyscallDecoder()
  let control: TraceControl
  let limit: Int
  private(set) var calls: [KernelCall] = []
  /// Tasks the command made: `{tid, pid, parent, via, ns}`.
  private(set) var created: [JSON] = []
  private(set) var dropped = 0

  init(control: TraceControl, limit: Int) {
    self.control = control
    self.limit = limit
  }

  func entered(_ call: inout ActiveCall, tid: Int32, pid: Int32) { decoder.capture(&call, tid: tid) }

  func finished(_ c: FinishedCall) {
    guard calls.count < limit else {
      dropped += 1
      // Enough for one command: let go, so the rest runs at full speed.
      control.stopRequested.store(true, ordering: .relaxed)
      return
    }
    let text = decoder.decode(c).text
    calls.append(
      KernelCall(
        pid: c.pid, tid: c.tid, name: c.name, text: text, start: c.call.entry, nanoseconds: Int64(c.duration))
    )
  }

  func created(
    child: Int32, childPID: Int32, by parent: Int32, parentPID: Int32, via: String, flags: UInt64, at: UInt64
  ) {
    decoder.created(child: child, parent: parentPID, flags: flags)
    created.append([
      "tid": .int(Int(child)), "pid": .int(Int(childPID)), "parent": .int(Int(parent)), "via": .string(via),
      "thread": .bool(flags & Flags.cloneThread != 0), "ns": .int(Int(clamping: at)),
    ])
  }

  func execed(tid: Int32, pid: Int32, at: UInt64) { decoder.execed(pid) }
  func exiting(tid: Int32, pid: Int32, status: Int32, wholeProcess: Bool, at: UInt64) {}
  func ended(tid: Int32, pid: Int32, how: PtraceStop, at: UInt64) {}
  func signalled(tid: Int32, pid: Int32, info: Ptrace.SignalInfo, at: UInt64) {
    guard calls.count < limit else { return }
    let from =
      info.sender.map { " (sent by \($0))" }
      ?? (info.address.map { " (a fault at \(Units.address($0)))" } ?? "")
    calls.append(
      KernelCall(
        pid: pid, tid: tid, name: "signal", text: "\(Signals.name(info.signal)) delivered\(from)", start: at,
        nanoseconds: 0))
  }
  func reapedUntraced(pid: Int32, how: PtraceStop, at: UInt64) {}
}
