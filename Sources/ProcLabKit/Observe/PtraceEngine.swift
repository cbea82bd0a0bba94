import Glibc
import Synchronization

/// What the engine tells whoever records a traced run, at each stop, while the
/// thread is still stopped (so /proc and its memory can still be read).
protocol PtraceListener: AnyObject {
  /// A call began; the listener may read memory the call's arguments point to.
  func entered(_ call: inout ActiveCall, tid: Int32, pid: Int32)
  func finished(_ call: FinishedCall)
  /// A fork, vfork or clone made `child` (`flags` are the clone flags; CLONE_THREAD means a thread).
  /// `via` is the call that made it: fork, vfork, clone or clone3.
  func created(
    child: Int32, childPID: Int32, by parent: Int32, parentPID: Int32, via: String, flags: UInt64, at: UInt64)
  /// An execve succeeded in `pid` (its argv was captured at the call's entry).
  func execed(tid: Int32, pid: Int32, at: UInt64)
  /// A thread is about to exit (PTRACE_EVENT_EXIT); `wholeProcess` when it is the process's end.
  func exiting(tid: Int32, pid: Int32, status: Int32, wholeProcess: Bool, at: UInt64)
  /// A thread is gone; for a process leader, the process has ended with `how`.
  func ended(tid: Int32, pid: Int32, how: PtraceStop, at: UInt64)
  /// A signal is about to be delivered to `tid`.
  func signalled(tid: Int32, pid: Int32, info: Ptrace.SignalInfo, at: UInt64)
  /// A process the engine did not trace ended and was reaped by the tracer (a zombie re-parented to it).
  func reapedUntraced(pid: Int32, how: PtraceStop, at: UInt64)
}

/// Flags shared between the ptrace loop and the threads that may ask it to stop
/// (the watchdog, the SIGINT handler): atomics, since they are read at every stop.
final class TraceControl: Sendable {
  let stopRequested = Atomic<Bool>(false)
  let timedOut = Atomic<Bool>(false)
  let finished = Atomic<Bool>(false)
  /// The loop's thread: the one a stop request interrupts (tgkill) out of waitpid.
  let loopThread = Atomic<Int32>(0)
  /// Processes to SIGKILL when a launched run must end (timeout, Ctrl-C).
  let processes = Mutex<Set<Int32>>([])
}

/// The ptrace loop: follows every process and thread of a traced tree, stop by
/// stop, and tells a listener what happened. One thread runs it: the kernel
/// reports a tracee's stops to the thread that attached it.
final class PtraceEngine {
  enum Mode {
    /// A program this engine started: on a stop request or timeout, kill the whole tree.
    case launch
    /// Threads of a running process (the shell): on a stop request, detach and let them run on.
    case attach
  }

  struct Tracee {
    var pid: Int32
    var call: ActiveCall?
    /// Not yet past its first stop: resume it without reporting anything.
    var fresh = true
    var detaching = false
  }

  let mode: Mode
  let control: TraceControl
  unowned let listener: any PtraceListener
  private(set) var tracees: [Int32: Tracee] = [:]
  /// Threads seized at the start that have not yet reported their first stop.
  private var awaitingFirstStop = Set<Int32>()
  private var detaching = false
  private var killed = false
  /// Every stop handled.
  private(set) var stops = 0
  /// New tasks stopped at their first stop, waiting for their creator's fork event (and when they stopped).
  private var parked: [Int32: Int] = [:]

  init(mode: Mode, control: TraceControl, listener: any PtraceListener) {
    self.mode = mode
    self.control = control
    self.listener = listener
  }

  /// The tracee list, for the caller after a launch or an attach.
  func adopt(_ tid: Int32, pid: Int32, awaitingStop: Bool) {
    tracees[tid] = Tracee(pid: pid)
    if awaitingStop { awaitingFirstStop.insert(tid) }
    if mode == .launch { control.processes.withLock { _ = $0.insert(pid) } }
  }

  /// Runs until every tracee is gone (launch) or detached (attach).
  /// `ready` is called once every thread seized at the start is being traced.
  func run(ready: () -> Void = {}) throws {
    control.loopThread.store(Threads.currentTID(), ordering: .relaxed)
    var announced = false
    while true {
      if !announced && awaitingFirstStop.isEmpty {
        announced = true
        ready()
      }
      if control.stopRequested.load(ordering: .relaxed) { stopEverything() }
      if detaching && tracees.isEmpty { break }
      switch try Ptrace.waitAny() {
      case .interrupted, .nothing: continue
      case .none: return
      case .stop(let tid, let stop):
        stops += 1
        handle(tid, stop)
        if !parked.isEmpty && stops % 512 == 0 { releaseLongParked() }
      }
    }
  }

  /// A task whose creator's event never came (it should not happen): learn its process from /proc.
  private func releaseLongParked() {
    for (tid, since) in parked where stops - since > 512 {
      parked[tid] = nil
      let pid = ProcFS.status(tid, field: "Tgid").flatMap { Int32($0) } ?? tid
      tracees[tid] = Tracee(pid: pid, detaching: detaching)
      if mode == .launch { control.processes.withLock { _ = $0.insert(pid) } }
      resume(tid)
    }
  }

  private func stopEverything() {
    switch mode {
    case .launch:
      guard !killed else { return }
      killed = true
      killTree()
    case .attach:
      guard !detaching else { return }
      detaching = true
      // Each running thread stops at PTRACE_INTERRUPT and is let go at that stop.
      for tid in tracees.keys {
        tracees[tid]?.detaching = true
        try? Ptrace.interrupt(tid)
      }
    }
  }

  /// SIGKILL to every traced process (a tracee in a ptrace-stop dies too).
  func killTree() {
    for tid in tracees.keys { SignalSender.sendQuietly(SIGKILL, to: tid) }
    for pid in control.processes.withLock({ $0 }) { SignalSender.sendQuietly(SIGKILL, to: pid) }
  }

  private func handle(_ tid: Int32, _ stop: PtraceStop) {
    let now = MonotonicClock.nanoseconds()
    if tracees[tid] == nil {
      if stop.isEnd {
        // Not a tracee: a zombie re-parented to the tracer (a subreaper), reaped just now.
        listener.reapedUntraced(pid: tid, how: stop, at: now)
        return
      }
      // A new task may report its first stop before its parent's fork event says what it
      // is (a process or a thread): it waits, stopped, until that event arrives.
      if stop == .event(.stop) && parked.count < 4096 {
        parked[tid] = stops
        return
      }
      let pid = ProcFS.status(tid, field: "Tgid").flatMap { Int32($0) } ?? tid
      tracees[tid] = Tracee(pid: pid)
      if mode == .launch { control.processes.withLock { _ = $0.insert(pid) } }
      if detaching { tracees[tid]?.detaching = true }
    }
    awaitingFirstStop.remove(tid)
    let pid = tracees[tid]!.pid
    if tracees[tid]!.detaching && !stop.isEnd {
      let signal: Int32 = if case .signal(let s) = stop { s } else { 0 }
      try? Ptrace.detach(tid, signal: signal)
      tracees[tid] = nil
      return
    }

    switch stop {
    case .syscall:
      syscallStop(tid, pid: pid, at: now)
      resume(tid)
    case .event(let event):
      eventStop(tid, pid: pid, event: event, at: now)
    case .groupStop:
      // Stay stopped, as the signal asked; a later SIGCONT re-traps and is resumed then.
      if (try? Ptrace.listen(tid)) == nil { resume(tid) }
    case .signal(let sig):
      if let info = try? Ptrace.signalInfo(tid) {
        listener.signalled(tid: tid, pid: pid, info: info, at: now)
      }
      resume(tid, signal: sig)
    case .exited, .killed:
      if let pending = tracees[tid]?.call {
        // The call never returned (exit, exit_group, execve in another thread, a fatal signal).
        listener.finished(
          FinishedCall(tid: tid, pid: pid, call: pending, exit: pending.entry, result: 0, isError: false))
      }
      tracees[tid] = nil
      listener.ended(tid: tid, pid: pid, how: stop, at: now)
    }
  }

  private func syscallStop(_ tid: Int32, pid: Int32, at now: UInt64) {
    guard let info = try? Ptrace.syscallInfo(tid) else { return }
    switch info {
    case .entry(let number, let arguments, let arch):
      var call = ActiveCall(number: Int32(truncatingIfNeeded: number), arguments: arguments, entry: now)
      call.native = arch == Ptrace.nativeArch
      listener.entered(&call, tid: tid, pid: pid)
      tracees[tid]?.call = call
    case .exit(let value, let isError):
      // An exit without its entry: tracing began inside the call. Nothing to say about it.
      guard let call = tracees[tid]?.call else { return }
      tracees[tid]?.call = nil
      listener.finished(
        FinishedCall(tid: tid, pid: pid, call: call, exit: now, result: value, isError: isError))
    case .none:
      break
    }
  }

  private func eventStop(_ tid: Int32, pid: Int32, event: Ptrace.Event, at now: UInt64) {
    switch event {
    case .fork, .vfork, .clone:
      if let message = try? Ptrace.eventMessage(tid) {
        let child = Int32(truncatingIfNeeded: message)
        let flags = cloneFlags(tracees[tid]?.call, event: event)
        let childPID = flags & Flags.cloneThread != 0 ? pid : child
        if tracees[child] == nil {
          tracees[child] = Tracee(pid: childPID)
          if detaching { tracees[child]?.detaching = true }
        } else {
          tracees[child]?.pid = childPID
        }
        if mode == .launch { control.processes.withLock { _ = $0.insert(childPID) } }
        if parked.removeValue(forKey: child) != nil {
          if tracees[child]!.detaching {
            try? Ptrace.detach(child)
            tracees[child] = nil
          } else {
            resume(child)
          }
        }
        let via = tracees[tid]?.call.map { SyscallNames.name(Int($0.number)) } ?? "\(event)"
        // Created when the creating call was made: the time the call list shows for it.
        listener.created(
          child: child, childPID: childPID, by: tid, parentPID: pid, via: via, flags: flags,
          at: tracees[tid]?.call?.entry ?? now)
      }
    case .exec:
      // A thread other than the leader that calls execve takes over the leader's TID.
      if let former = try? Ptrace.eventMessage(tid), Int32(truncatingIfNeeded: former) != tid {
        let old = Int32(truncatingIfNeeded: former)
        if let moved = tracees[old] {
          tracees[tid] = moved
          tracees[old] = nil
        }
      }
      listener.execed(tid: tid, pid: pid, at: now)
    case .exit:
      let status = Int32(truncatingIfNeeded: (try? Ptrace.eventMessage(tid)) ?? 0)
      let byGroupExit = tracees[tid]?.call?.number == Sys.exitGroup
      let bySignal = status & 0x7f != 0
      let lastThread = !tracees.contains { $0.key != tid && $0.value.pid == pid }
      listener.exiting(
        tid: tid, pid: pid, status: status, wholeProcess: byGroupExit || bySignal || lastThread, at: now)
    case .stop, .vforkDone:
      break
    }
    resume(tid)
  }

  /// The flags of the clone that made a child: from the clone call's registers or clone3's struct.
  private func cloneFlags(_ call: ActiveCall?, event: Ptrace.Event) -> UInt64 {
    switch event {
    case .fork: return call.map { $0.number == Sys.clone ? $0.arguments[0] : 17 } ?? 17
    case .vfork: return Flags.cloneVM | Flags.cloneVfork | 17
    default:
      guard let call else { return 0 }
      if call.number == Sys.clone3, case .clone3(let flags, let sig) = call.capture { return flags | sig }
      return call.arguments[0]
    }
  }

  private func resume(_ tid: Int32, signal: Int32 = 0) {
    // ESRCH: the tracee was killed meanwhile; its end is the next thing waitpid reports.
    try? Ptrace.resume(tid, signal: signal)
  }
}

/// A thread that ends a run at its deadline or when asked (Ctrl-C, the shell's
/// request): it tgkills the loop's thread out of waitpid with SIGINT, whose
/// handler (installed without SA_RESTART) makes waitpid return EINTR. It also
/// sends the program a signal at a set time (`observe --signal INT --after 0.5`).
enum TraceWatchdog {
  static func start(
    _ control: TraceControl, deadline: UInt64, root: Int32 = 0, scheduled: (sig: Int32, at: UInt64)? = nil
  ) throws -> Threads.Handle {
    try Threads.spawn("watchdog") {
      var pending = scheduled
      while !control.finished.load(ordering: .relaxed) {
        let now = MonotonicClock.nanoseconds()
        if let p = pending, now >= p.at {
          SignalSender.sendQuietly(p.sig, to: root)
          pending = nil
        }
        if now >= deadline && !control.stopRequested.load(ordering: .relaxed) {
          control.timedOut.store(true, ordering: .relaxed)
          control.stopRequested.store(true, ordering: .relaxed)
        }
        if Interrupt.isRequested { control.stopRequested.store(true, ordering: .relaxed) }
        if control.stopRequested.load(ordering: .relaxed) {
          let loop = control.loopThread.load(ordering: .relaxed)
          if loop > 0 { Ptrace.interruptWait(of: loop) }
        }
        MonotonicClock.pause(.milliseconds(10))
      }
    }
  }
}
