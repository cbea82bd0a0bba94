import Glibc

/// Builds an `ObservedRun` from the engine's stops: the processes and threads
/// with their lifetimes, who reaped whom, the pipes and what went through them,
/// the signals, what was left open, and a readable log of the calls that matter.
final class ObserveRecorder: PtraceListener {
  let decoder = SyscallDecoder()
  let observer: Int32
  let root: Int32
  let start: UInt64
  /// At most this many calls of one process, and in all, in the readable log.
  let logPerProcess = 200
  let logTotal = 3000
  /// The event limit: after this many calls the tree is killed (the engine's stop request).
  var limit: (calls: Int, control: TraceControl)?
  private(set) var limitReached = false

  private var processes: [Int32: ObservedProcess] = [:]
  private var order: [Int32] = []
  /// Processes that may hold a descriptor the model did not see made (an eventfd, a
  /// descriptor received over a socket…): their /proc/PID/fd is read at exit. The others'
  /// tables are exact: the program started with 0–2 only, and every modelled call is seen.
  private var unmodelled = Set<Int32>()
  /// The processes each one created, for its orphans at its exit.
  private var childrenOf: [Int32: [Int32]] = [:]
  private var threads: [Int32: ObservedThread] = [:]
  private var threadOrder: [Int32] = []
  private var counts = [Int](repeating: 0, count: 512)
  private var countsByProcess: [Int32: [Int32: Int]] = [:]
  private var total = 0
  private var signals: [ObservedSignal] = []
  private var pipes: [Int: ObservedPipe] = [:]
  private var redirections: [Redirection] = []
  private var log: [ObservedCall] = []
  private var logCount: [Int32: Int] = [:]
  private var logDropped = 0
  /// The log entry a run of reads or writes on one descriptor is being merged into.
  private var lastTransfer: [Int32: (index: Int, fd: Int32, name: String, count: Int, bytes: Int)] = [:]
  /// The log entry of a call a signal just interrupted, per thread: the signal-delivery stop
  /// that follows names the signal, and the program's disposition says what happens next.
  private var interrupted: [Int32: (index: Int, code: Int32)] = [:]
  /// Processes still in the dynamic loader's start-up after an execve.
  private var loading = Set<Int32>()
  private var heapBase: [Int32: UInt64] = [:]
  private var snapshotted = Set<Int32>()
  /// When each process called exit_group: its exit time, the same clock reading the call list shows.
  private var exitCallAt: [Int32: UInt64] = [:]
  /// The program's calls before its own execve (the start-up stop) are not its own.
  private var rootStarted = false

  init(observer: Int32, root: Int32, start: UInt64, program: [String]) {
    self.observer = observer
    self.root = root
    self.start = start
    processes[root] = ObservedProcess(pid: root, parent: 0, createdBy: "start", createdAt: 0)
    order.append(root)
    threads[root] = ObservedThread(tid: root, pid: root, createdBy: 0, createdAt: 0)
    threadOrder.append(root)
  }

  private func rel(_ t: UInt64) -> UInt64 { t >= start ? t - start : 0 }

  // MARK: listener

  func entered(_ call: inout ActiveCall, tid: Int32, pid: Int32) {
    if !rootStarted {
      guard pid == root, call.number == Sys.execve || call.number == Sys.execveat else { return }
      rootStarted = true
    }
    decoder.capture(&call, tid: tid)
  }

  func finished(_ c: FinishedCall) {
    guard rootStarted else { return }
    total += 1
    if let limit, total >= limit.calls, !limitReached {
      limitReached = true
      limit.control.stopRequested.store(true, ordering: .relaxed)
    }
    if c.number >= 0 && Int(c.number) < counts.count && c.call.native { counts[Int(c.number)] += 1 }
    countsByProcess[c.pid, default: [:]][c.call.native ? c.number : -1, default: 0] += 1
    threads[c.tid]?.calls += 1
    if c.number == Sys.exitGroup && exitCallAt[c.pid] == nil { exitCallAt[c.pid] = rel(c.call.entry) }

    if loading.contains(c.pid) {
      if isStartup(c) {
        processes[c.pid]?.startupCalls += 1
        _ = decoder.decode(c, describe: false)
        return
      }
      loading.remove(c.pid)
    }
    let notable = isNotable(c)
    let budget = (logCount[c.pid] ?? 0) < logPerProcess && log.count < logTotal
    let decoded = decoder.decode(c, describe: notable && budget)
    interrupted[c.tid] = nil
    if notable {
      let before = log.count
      if budget { addToLog(c, decoded) } else { logDropped += 1 }
      if let code = c.interruption, log.count > before { interrupted[c.tid] = (log.count - 1, code) }
    }
    if let effect = decoded.effect { apply(effect, c) }
    if !c.isError && c.number >= 0 && Int(c.number) < Self.makesDescriptors.count
      && Self.makesDescriptors[Int(c.number)] && (c.name != "ioctl" || c.result > 2)
    {
      unmodelled.insert(c.pid)
    }

    if (c.number == Sys.execve || c.number == Sys.execveat) && !c.isError,
      case .exec(let path, let argv) = c.call.capture
    {
      processes[c.pid]?.execs.append(.init(at: rel(c.exit), path: path, argv: argv))
      loading.insert(c.pid)
    }
  }

  func created(
    child: Int32, childPID: Int32, by parent: Int32, parentPID: Int32, via: String, flags: UInt64, at: UInt64
  ) {
    guard rootStarted else { return }
    if threads[child] == nil { threadOrder.append(child) }
    threads[child] = ObservedThread(tid: child, pid: childPID, createdBy: parent, createdAt: rel(at))
    if flags & Flags.cloneThread != 0 { return }
    var p = ObservedProcess(pid: child, parent: parentPID, createdBy: via, createdAt: rel(at))
    p.cloneFlags = flags
    if processes[child] == nil { order.append(child) }
    processes[child] = p
    childrenOf[parentPID, default: []].append(child)
    // CLONE_PIDFD hands the creator a descriptor for the child.
    if unmodelled.contains(parentPID) || flags & 0x1000 != 0 {
      unmodelled.insert(child)
      unmodelled.insert(parentPID)
    }
    decoder.created(child: child, parent: parentPID, flags: flags)
    if let parentHeap = heapBase[parentPID] { heapBase[child] = parentHeap }
  }

  func execed(tid: Int32, pid: Int32, at: UInt64) {
    decoder.execed(pid)
    heapBase[pid] = nil
  }

  func exiting(tid: Int32, pid: Int32, status: Int32, wholeProcess: Bool, at: UInt64) {
    threads[tid]?.endedAt = rel(at)
    if !wholeProcess { threads[tid]?.endedOnItsOwn = true }
    guard wholeProcess, !snapshotted.contains(pid) else { return }
    snapshotted.insert(pid)
    // Its parent now: the creator, unless that exited first (then it was re-parented).
    let creator = processes[pid]?.parent ?? 0
    let creatorGone = creator != 0 && processes[creator]?.exitedAt != nil
    let orphaned = processes[pid]?.orphanedAt != nil
    let parentNow = pid == root ? observer : creatorGone || orphaned ? ProcFS.stat(pid)?.parent : creator
    processes[pid]?.parentAtExit = parentNow
    // The descriptor table is still there until the last thread has gone. When the model
    // says only 0–2 are open and it saw every descriptor made, /proc need not be read.
    let modelOpen = decoder.descriptors.table(pid).entries.keys.contains { $0 > 2 }
    var open: [OpenDescriptor] = []
    let listed = modelOpen || unmodelled.contains(pid) ? ProcFS.descriptors(of: pid) : []
    for fd in listed where fd > 2 {
      let entry = decoder.descriptors.entry(pid, fd)
      let target = entry?.object.description ?? ProcFS.descriptorTarget(pid: pid, fd: fd) ?? "?"
      let origin =
        entry.map {
          $0.origin == "inherited"
            ? "inherited" : "\($0.origin) at \(Units.duration(.nanoseconds(Int64(rel($0.openedAt)))))"
        }
        ?? "inherited"
      open.append(
        OpenDescriptor(fd: fd, target: target, origin: origin, openedAt: entry.map { rel($0.openedAt) } ?? 0))
    }
    processes[pid]?.openAtExit = open
    for q in childrenOf[pid] ?? [] where processes[q]?.exitedAt == nil && q != pid {
      processes[q]?.orphanedAt = rel(at)
    }
  }

  func ended(tid: Int32, pid: Int32, how: PtraceStop, at: UInt64) {
    if threads[tid]?.endedAt == nil { threads[tid]?.endedAt = rel(at) }
    guard tid == pid, processes[pid] != nil else { return }
    switch how {
    case .exited(let code): processes[pid]?.exit = .exited(code)
    case .killed(let sig, let core): processes[pid]?.exit = .signaled(sig, coreDumped: core)
    default: break
    }
    // One clock reading per event: a process that called exit_group exited when the call list
    // says it did; one ended by a signal, when the tracer saw it end.
    processes[pid]?.exitedAt = exitCallAt[pid] ?? rel(at)
    // The tracer is the program's parent, and the parent of every orphan it adopted
    // (it is a subreaper): this same wait collected the status.
    if pid == root || processes[pid]?.parentAtExit == observer, processes[pid]?.reapedBy == nil {
      processes[pid]?.reapedBy = observer
      processes[pid]?.reapedAt = rel(at)
    }
    decoder.descriptors.forget(pid)
  }

  func signalled(tid: Int32, pid: Int32, info: Ptrace.SignalInfo, at: UInt64) {
    guard rootStarted else { return }
    let dispositions = SignalDispositions.read(tid)
    var signal = ObservedSignal(
      at: rel(at), signal: info.signal, pid: pid, tid: tid, sender: info.sender,
      faultAddress: info.address.map(UInt64.init), code: info.code)
    signal.onlyBecauseTraced =
      dispositions.map { SignalInterruption.discardedUntraced(info.signal, $0) } ?? false
    signals.append(signal)
    if let (index, code) = interrupted.removeValue(forKey: tid), index < log.count {
      log[index].text = log[index].text.replacing(
        FinishedCall.interrupted,
        with: SignalInterruption.result(code: code, signal: info.signal, dispositions))
    }
    if let address = info.address, info.isFault { processes[pid]?.faultAddress = UInt64(address) }
  }

  func reapedUntraced(pid: Int32, how: PtraceStop, at: UInt64) {
    // A zombie whose parent exited without reaping it, re-parented to the tracer.
    if processes[pid] != nil, processes[pid]?.reapedBy == nil {
      processes[pid]?.reapedBy = observer
      processes[pid]?.reapedAt = rel(at)
      if processes[pid]?.parentAtExit == nil { processes[pid]?.parentAtExit = observer }
    }
  }

  // MARK: what the calls did

  private func apply(_ effect: SyscallDecoder.Effect, _ c: FinishedCall) {
    let pid = c.pid
    let now = rel(c.exit)
    switch effect {
    case .pipe(let id, _, _):
      pipes[id] = ObservedPipe(id: id, createdBy: pid, createdAt: now)
    case .transfer(_, let object, let bytes, let isWrite):
      guard let id = object?.pipe else { return }
      updatePipe(id, pid) { u in
        if isWrite {
          u.wrote += bytes
          u.writes += 1
        } else {
          u.read += bytes
          u.reads += 1
          if bytes == 0 { u.sawEndOfFile = true }
        }
      }
    case .close(_, let object):
      guard let object, let id = object.pipe else { return }
      // Only the last copy of an end in this process closes it for this process.
      let stillOpen = decoder.descriptors.table(pid).entries.values.contains { $0.object == object }
      if !stillOpen {
        updatePipe(id, pid) { u in
          if object.isPipeWrite { u.closedWrite = now } else { u.closedRead = now }
        }
      }
    case .duplicate(_, let to, let object):
      redirections.append(
        Redirection(
          at: now, pid: pid, fd: to, target: object?.description ?? "?", pipe: object?.pipe,
          pipeWriteEnd: object?.isPipeWrite ?? false))
    case .reaped(let child, _):
      if processes[child] != nil {
        processes[child]?.reapedBy = pid
        processes[child]?.reapedAt = now
      }
    case .handler(let sig, let handler):
      if handler > 1 {
        if processes[pid]?.handlers.contains(sig) == false { processes[pid]?.handlers.append(sig) }
      } else {
        processes[pid]?.handlers.removeAll { $0 == sig }
      }
    case .futexWait(let ns):
      threads[c.tid]?.futexWaits += 1
      threads[c.tid]?.futexWaited += ns
      if ns > threads[c.tid]?.longestWait ?? 0 { threads[c.tid]?.longestWait = ns }
    case .futexWake:
      threads[c.tid]?.futexWakes += 1
    case .mapping(let bytes, let shared, let anonymous, _):
      if anonymous || shared { processes[pid]?.mappedBytes += bytes }
      if shared { processes[pid]?.sharedMappings.append(UInt64(bytes)) }
    case .heapEnd(let end):
      if let base = heapBase[pid] {
        let grown = max(processes[pid]?.heapGrowth ?? 0, Int(end) - Int(base))
        processes[pid]?.heapGrowth = grown
      } else {
        heapBase[pid] = end
      }
    case .signalSent, .open, .queue, .socket:
      break
    }
  }

  private func updatePipe(_ id: Int, _ pid: Int32, _ change: (inout ObservedPipe.Use) -> Void) {
    guard var pipe = pipes[id] else { return }
    if let i = pipe.uses.firstIndex(where: { $0.pid == pid }) {
      change(&pipe.uses[i])
    } else {
      var u = ObservedPipe.Use(pid: pid)
      change(&u)
      pipe.uses.append(u)
    }
    pipes[id] = pipe
  }

  // MARK: the readable log

  /// Calls a learner reads in the log; the rest are counted.
  private func isNotable(_ c: FinishedCall) -> Bool {
    let n = c.number
    if n == Sys.futex || n == Sys.brk || n == Sys.munmap || n == Sys.mprotect { return false }
    if n == Sys.mmap { return c.arguments[3] & 1 != 0 }  // shared mappings only
    if n == Sys.rtSigaction {
      guard case .sigaction(let handler, _) = c.call.capture else { return false }
      // glibc's own real-time signals (SIGCANCEL, SIGSETXID) are set up by every threaded program.
      let sig = c.arguments.int(0)
      return sig < 32 && (handler > 1 || (sig != SIGCHLD && handler == 1))
    }
    let listed: [Int32] = [
      Sys.fork, Sys.vfork, Sys.clone, Sys.clone3, Sys.execve, Sys.execveat, Sys.exit, Sys.exitGroup,
      Sys.wait4,
      Sys.waitid, Sys.pipe, Sys.pipe2, Sys.dup, Sys.dup2, Sys.dup3, Sys.close, Sys.open, Sys.openat,
      Sys.creat,
      Sys.read, Sys.write, Sys.readv, Sys.writev, Sys.kill, Sys.tkill, Sys.tgkill, Sys.pause,
      Sys.rtSigsuspend,
      Sys.mqOpen, Sys.mqUnlink, Sys.mqTimedsend, Sys.mqTimedreceive, Sys.socket, Sys.socketpair, Sys.connect,
      Sys.bind, Sys.listen, Sys.accept, Sys.accept4, Sys.sendto, Sys.recvfrom, Sys.unlink, Sys.unlinkat,
      Sys.mknodat, Sys.nanosleep, Sys.clockNanosleep,
    ]
    return listed.contains(n)
  }

  /// The calls listed in the log, as a table by number (looked up at every call).
  private static let listed: [Bool] = {
    var table = [Bool](repeating: false, count: SyscallNames.table.count)
    let names = [
      "fork", "vfork", "clone", "clone3", "execve", "execveat", "exit", "exit_group", "wait4", "waitid",
      "pipe",
      "pipe2", "dup", "dup2", "dup3", "close", "open", "openat", "creat", "read", "write", "readv", "writev",
      "kill",
      "tkill", "tgkill", "pause", "rt_sigsuspend", "mq_open", "mq_unlink", "mq_timedsend", "mq_timedreceive",
      "socket", "socketpair", "connect", "bind", "listen", "accept", "accept4", "sendto", "recvfrom",
      "unlink",
      "unlinkat", "mknodat", "nanosleep", "clock_nanosleep",
    ]
    for name in names { if let n = SyscallNames.number(name) { table[n] = true } }
    return table
  }()

  /// Calls that can make a descriptor the decoder does not model (ioctl only when it returns one).
  private static let makesDescriptors: [Bool] = {
    var table = [Bool](repeating: false, count: SyscallNames.table.count)
    let names = [
      "eventfd", "eventfd2", "epoll_create", "epoll_create1", "memfd_create", "memfd_secret", "signalfd",
      "signalfd4", "timerfd_create", "inotify_init", "inotify_init1", "pidfd_open", "pidfd_getfd",
      "io_uring_setup",
      "perf_event_open", "userfaultfd", "fanotify_init", "open_by_handle_at", "recvmsg", "recvmmsg", "fsopen",
      "fsmount", "fspick", "open_tree", "bpf", "seccomp", "landlock_create_ruleset", "ioctl",
    ]
    for name in names { if let n = SyscallNames.number(name) { table[n] = true } }
    return table
  }()

  private static let startupNames: Set<String> = [
    "read", "pread64", "fstat", "newfstatat", "statx", "mmap", "mprotect", "munmap", "close", "brk",
    "arch_prctl", "set_tid_address", "set_robust_list", "rseq", "prlimit64", "access", "faccessat",
    "faccessat2", "getrandom", "readlinkat", "readlink", "uname",
  ]

  /// What the dynamic loader and libc do before main: mapping libraries, setting up the thread.
  private func isStartup(_ c: FinishedCall) -> Bool {
    let n = c.number
    if n == Sys.openat || n == Sys.open {
      guard case .path(let p) = c.call.capture else { return false }
      return p.contains(".so") || p.hasPrefix("/etc/ld.so") || p.hasPrefix("/lib") || p.hasPrefix("/usr/lib")
    }
    return Self.startupNames.contains(c.name)
  }

  private func addToLog(_ c: FinishedCall, _ d: SyscallDecoder.Decoded) {
    let isTransfer = [Sys.read, Sys.write, Sys.readv, Sys.writev].contains(c.number)
    if isTransfer, let last = lastTransfer[c.tid], last.fd == c.arguments.int(0), last.name == c.name,
      last.index == log.count - 1
    {
      // A run of reads or writes on one descriptor: one line with the count and the bytes.
      let count = last.count + 1
      let bytes = last.bytes + (c.isError ? 0 : Int(c.result))
      let eof = c.number == Sys.read && c.result == 0 ? ", the last at end of file" : ""
      log[last.index].text =
        "\(c.name)(\(decoder.descriptors.describe(c.pid, c.arguments.int(0)))) ×\(count) = \(Units.bytes(bytes))\(eof)"
      log[last.index].duration = c.exit - start - log[last.index].at
      lastTransfer[c.tid] = (last.index, last.fd, last.name, count, bytes)
      return
    }
    log.append(
      ObservedCall(
        at: rel(c.call.entry), duration: c.duration, pid: c.pid, tid: c.tid, name: c.name, text: d.text))
    logCount[c.pid, default: 0] += 1
    if isTransfer {
      lastTransfer[c.tid] = (log.count - 1, c.arguments.int(0), c.name, 1, c.isError ? 0 : Int(c.result))
    } else {
      lastTransfer[c.tid] = nil
    }
  }

  // MARK: the result

  func result(program: [String], duration: UInt64) -> ObservedRun {
    var run = ObservedRun()
    run.program = program
    run.observer = observer
    run.root = root
    run.duration = duration
    run.processes = order.compactMap { pid in
      guard var p = processes[pid] else { return nil }
      for (n, count) in countsByProcess[pid] ?? [:] {
        p.calls[n < 0 ? "32-bit calls" : SyscallNames.name(Int(n)), default: 0] += count
      }
      return p
    }
    run.threads = threadOrder.compactMap { threads[$0] }
    for (n, count) in counts.enumerated() where count > 0 { run.calls[SyscallNames.name(n)] = count }
    run.totalCalls = total
    run.signals = signals
    run.pipes = pipes.keys.sorted().compactMap { pipes[$0] }
    run.redirections = redirections
    run.log = log
    run.logDropped = logDropped
    return run
  }
}
