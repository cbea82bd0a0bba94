import Glibc

/// Turns what `crash` observed into lines, facts and an explanation.
struct CrashReport {
  typealias Observation = CrashExperiment.Observation
  let o: Observation
  let r = Report()

  init(_ observation: Observation) { o = observation }

  var kind: CrashKind { o.options.kind }
  var status: TerminationStatus { o.run?.status ?? .signaled(SIGKILL, coreDumped: false) }
  var timedOut: Bool { o.run?.timedOut ?? false }
  var survived: Bool { o.run?.result?["survived"]?.boolValue ?? false }
  var title: String { kind == .exit ? "crash exit \(o.options.exitCode)" : "crash \(kind.rawValue)" }
  var threadCount: Int { o.tidsBefore.count }

  /// What the lab child reported after a fault it lived through on purpose (--handled, --clone-vm).
  var survivalResult: JSON? {
    guard let result = o.run?.result, status == .exited(0),
      let mode = result["mode"]?.stringValue, mode == "handled" || mode == "clone-vm"
    else { return nil }
    return result
  }

  func build() -> Report {
    if let result = survivalResult { return buildSurvival(result) }
    headline()
    var t = Table([])
    signalRows(&t)
    t.add(["cause", cause])
    if let words = lastWords { t.add(["last words", "\"\(r.note(words, .text))\""]) }
    lifeRow(&t)
    memoryRow(&t)
    t.add(["core dump", coreVerdict])
    t.add(["the shell", shellRow])
    r.table(t)
    threadBlock()
    siblingBlock()
    backtraceBlock()
    facts()
    explain()
    // A fault that did not happen is an observation, explained above; a hang is a failure.
    r.succeeded = !timedOut
    return r
  }

  // MARK: lines

  private func headline() {
    let who = "lab child \(r.pid(o.pid))"
    let deed = kind == .kill ? "got SIGKILL" : kind == .exit ? "called exit()" : "faulted"
    let inThreads =
      o.options.inThread
      ? " (\(threadCount) threads: main + \(o.workers.count) workers; worker \(r.tid(o.crasher ?? 0)) \(deed))"
      : ""
    if timedOut {
      r.line("\(title): \(who) did not end within the timeout; the shell killed it with SIGKILL")
    } else if survived {
      r.line("\(title): \(who) did not crash: the fault did not happen on this machine, and it exited")
    } else {
      switch status {
      case .signaled(let sig, let core):
        r.line(
          "\(title): \(who) was killed by \(Signals.name(sig)) (signal \(sig))\(core ? ", core dumped" : "")\(inThreads)"
        )
      case .exited(let code):
        r.line("\(title): \(who) exited with status \(code)\(inThreads)")
      default:
        r.line("\(title): \(who) ended: \(status)")
      }
    }
  }

  func signalRows(_ t: inout Table) {
    if let sig = status.signal, let info = Signals.info(sig) {
      t.add(["signal", "\(info.name) = \(sig): \(info.meaning) (default action: \(info.defaultAction))"])
    } else if let code = status.exitCode {
      t.add(["status", "exit status \(code), chosen by the program; no signal was involved"])
    }
  }

  /// The child's own last line (the backtracer may write after it).
  var lastWords: String? {
    let lines = o.run?.lastOutput ?? []
    return lines.last { $0.hasPrefix("crash [") } ?? lines.last
  }

  private var cause: String {
    if timedOut { return "it was still running at the timeout" }
    if survived {
      let e = o.run?.result?["errno"]?.stringValue
      return e.map { "setting up the fault failed (\($0))" }
        ?? "the CPU did not trap: the operation returned a value"
    }
    var text = kind.why(
      stackLimit: o.ready["stack_limit"]?.intValue.map { Units.bytes($0) },
      threadStack: o.options.inThread ? o.ready["thread_stack"]?.intValue.map { Units.bytes($0) } : nil)
    if kind == .kill && o.options.inThread {
      text =
        "the shell sent SIGKILL with tgkill(2) to thread \(o.crasher ?? 0) alone; SIGKILL always ends the whole process"
    }
    return text
  }

  func lifeRow(_ t: inout Table) {
    guard let run = o.run else { return }
    let u = run.usage
    // Whether the split is shown depends on the clock ticks the child used: one varying text.
    let cpu =
      u.splitIsMeaningful
      ? "CPU: \(Units.duration(u.userTime)) user, \(Units.duration(u.systemTime)) system"
      : "CPU: \(Units.duration(u.cpuTime)), too short to split into user and system"
    let after = kind == .kill ? "after SIGKILL" : "after the go signal"
    let lived = r.duration(run.elapsed)
    let ended = r.duration(o.sinceGo)
    t.add(["lived", "\(lived) from posix_spawn to wait4; ended \(ended) \(after) (\(r.note(cpu, .text)))"])
  }

  private func memoryRow(_ t: inout Table) {
    guard kind == .oom else { return }
    let limit = o.ready["address_space_limit"]?.intValue ?? 0
    let used = o.ready["address_space_used"]?.intValue ?? 0
    var text =
      "RLIMIT_AS \(r.note(Units.bytes(limit), .text)) (\(r.note(Units.bytes(used), .text)) already mapped + \(Units.bytes(CrashLab.memoryHeadroom)) room)"
    if let oom = o.oom {
      let blocks = oom["blocks"]?.intValue ?? 0
      let e = oom["errno"]?.stringValue ?? "?"
      text +=
        "; malloc(\(Units.bytes(oom["block"]?.intValue ?? 0))) succeeded \(r.count(blocks)) times, then returned NULL (\(e))"
    }
    t.add(["memory", text])
  }

  var shellRow: String {
    let state = o.shellAfter.map { "state \($0.state)" } ?? "state unknown"
    return
      "pid \(r.pid(o.shellPID)) still running (\(state), \(r.note(Units.bytes(o.shellRSS), .text)) resident): the crash did not touch it"
  }

  private func threadBlock() {
    guard o.options.inThread else { return }
    r.line()
    r.line(
      "threads of \(r.pid(o.pid)), from /proc/\(r.pid(o.pid))/task before the go signal, and after wait4:")
    var t = Table(["tid", "role", "before", "after"])
    for tid in o.tidsBefore {
      let role: String
      if tid == o.pid {
        role =
          kind == .kill ? "main thread (waits in sigtimedwait)" : "main thread (waits for worker 1: read)"
      } else if tid == o.crasher {
        role = kind == .kill ? "worker 1 (gets SIGKILL)" : "worker 1 (faults: \(kind.rawValue))"
      } else if let i = o.workers.firstIndex(of: tid) {
        role = "worker \(i + 1) (waits for an order: read)"
      } else {
        role = "runtime thread"
      }
      t.add([r.tid(tid), role, "present", o.tidsLeft.contains(tid) ? "STILL THERE" : "gone"])
    }
    r.table(t)
    r.line(
      "  /proc/\(r.pid(o.pid))/task \(o.processGone ? "no longer exists" : "still exists"): \(o.tidsLeft.isEmpty ? "every thread ended with the process" : "\(o.tidsLeft.count) thread(s) remain")"
    )
  }

  func siblingBlock() {
    guard !o.siblings.isEmpty else { return }
    let alive = o.siblings.filter(\.aliveAfterCrash).count
    r.line()
    r.line(
      // Every sibling survives: the count is the teaching fact, so a recording keeps it literal.
      "siblings: \(alive) of \(o.siblings.count) other lab processes still running after the crash")
    var t = Table(["pid", "before", "after the crash", "then (cleanup)"])
    for s in o.siblings {
      let before =
        s.before.map { "\($0.state) \(ProcFS.meaning(ofState: $0.state).split(separator: " ").first ?? "")" }
        ?? "?"
      let after =
        s.after.map { "\($0.state) \(ProcFS.meaning(ofState: $0.state).split(separator: " ").first ?? "")" }
        ?? "gone"
      let end = s.end.map { "\($0) (sent by the shell)" } ?? "?"
      // A sibling sleeps or runs, as the scheduler has it; dead or a zombie would be the news.
      let alive = ["S sleeping", "R running", "D waiting"]
      t.add([
        r.pid(s.pid), r.varying(before, among: alive), r.varying(after, among: alive),
        end + (s.goneAfterCleanup ? ", reaped" : ", NOT reaped"),
      ])
    }
    r.table(t)
  }

  private func backtraceBlock() {
    guard o.options.backtrace else { return }
    r.line()
    guard let report = o.backtrace else {
      let reason =
        kind == .stack
        ? " (most likely the overflowing thread had no stack left to run the backtracer's signal handler on, so the kernel ended the process at once)"
        : ""
      r.line(
        "crash report: the Swift backtracer wrote nothing\(reason); the child's last lines of standard error:"
      )
      for line in o.run?.lastOutput ?? [] { r.line("  " + r.note(line, .text)) }
      return
    }
    let lines = report.lines.filter { !$0.trimmed().isEmpty }
    r.line(
      "crash report by the Swift backtracer (\(r.count(lines.count)) lines, \(r.note(Units.bytes(report.bytes), .text)); first lines, then deleted with its private directory):"
    )
    // A long frame goes on inside the gutter, a little further in than the frame numbers.
    for line in lines.prefix(Self.backtraceLines) {
      r.line("  │ " + r.note(line, .text), continuation: "  │           ")
    }
    if lines.count > Self.backtraceLines { r.line("  │ …") }
  }

  static let backtraceLines = 14

  // MARK: facts

  private var matchesExpectation: Bool {
    if let sig = kind.expectedSignal { return status.signal == sig }
    if kind == .exit { return status == .exited(o.options.exitCode) }
    if kind == .oom { return status == .exited(CrashKind.outOfMemoryStatus) }
    return true
  }

  private var coreVerdict: String {
    let c = o.core
    guard let sig = status.signal else {
      return "none: only a signal whose default action is \"core dump\" makes one"
    }
    let info = Signals.info(sig)
    if info?.defaultAction != "core dump" {
      return "none: \(Signals.name(sig))'s default action is \(info?.defaultAction ?? "?"), not core dump"
    }
    let place = destinationText
    if c.dumped {
      if let f = c.file {
        return
          "written: \(r.note(f.name, .word)), \(r.note(Units.bytes(f.bytes), .text)) in a private directory (\(place)); deleted"
      }
      return "written (WCOREDUMP is set): \(place)"
    }
    let limit = c.childLimit?.soft
    if limit == 0 {
      if let raise = c.raise, raise != "ok" {
        return
          "not written: raising RLIMIT_CORE failed with \(raise) (the hard limit is \(CoreDumps.Limit.describe(c.childLimit?.hard))); \(place)"
      }
      return
        "not written: RLIMIT_CORE was 0 in the child (lab children set it to 0; --core raises it); \(place)"
    }
    return
      "not written although RLIMIT_CORE was \(CoreDumps.Limit.describe(limit)): the kernel declined (\(place))"
  }

  /// The machine's core_pattern decides this phrase (a file name, systemd-coredump): noted whole.
  private var destinationText: String {
    let pattern = o.core.pattern ?? "?"
    let text: String
    switch o.core.destination {
    case .file(let name) where name.hasPrefix("/"):
      text = "core_pattern \"\(pattern)\" names \(name)"
    case .file(let name):
      text = "core_pattern \"\(pattern)\" puts \(name) in the child's working directory"
    case .program(let program):
      text = "core_pattern \"\(pattern)\" pipes cores to \(program)"
    case .nowhere:
      text = "core_pattern is empty: no core file anywhere"
    }
    return r.machine(text)
  }

  func facts() {
    r.fact("kind", kind.rawValue)
    r.fact("pid", o.pid)
    r.fact("status", status.json)
    if let sig = status.signal {
      r.fact("signal", Signals.name(sig))
      r.fact("signal_number", sig)
      r.fact("signal_meaning", Signals.info(sig)?.meaning ?? "")
    }
    if let code = status.exitCode { r.fact("exit_code", code) }
    r.fact("expected", kind.expectedSignal.map { JSON.string(Signals.name($0)) } ?? .string("exit"))
    r.fact("as_expected", matchesExpectation)
    r.fact("timed_out", timedOut)
    r.fact("survived", survived)
    r.fact("last_output", o.run?.lastOutput ?? [])
    r.fact("lifetime_ms", o.run?.elapsed.milliseconds ?? 0)
    r.fact("after_go_ms", o.sinceGo.milliseconds)
    r.fact("process_gone", o.processGone)
    var core = JSONObject()
    core["pattern"] = o.core.pattern.map { .string($0) } ?? .null
    core["child_limit"] = o.core.childLimit?.json ?? .null
    core["shell_limit"] = o.core.shellLimit.json
    core["requested"] = .bool(o.options.core)
    core["raise"] = o.core.raise.map { .string($0) } ?? .null
    core["dumped"] = .bool(o.core.dumped)
    core["directory"] = o.core.directory.map { .string($0) } ?? .null
    core["file"] = o.core.file.map { ["name": .string($0.name), "bytes": .int($0.bytes)] } ?? .null
    r.fact("core", JSON.object(core))
    if o.options.inThread {
      r.fact(
        "threads",
        [
          "tids_before": .array(o.tidsBefore.map { .int(Int($0)) }),
          "workers": .array(o.workers.map { .int(Int($0)) }),
          "crasher": .int(Int(o.crasher ?? 0)), "tids_left": .array(o.tidsLeft.map { .int(Int($0)) }),
          "all_gone": .bool(o.tidsLeft.isEmpty && o.processGone),
        ] as JSON)
    }
    if !o.options.inThread { r.fact("tids_before", o.tidsBefore) }
    if !o.siblings.isEmpty {
      r.fact(
        "siblings",
        o.siblings.map { s -> JSON in
          [
            "pid": .int(Int(s.pid)), "state_before": .string(s.before.map { String($0.state) } ?? ""),
            "state_after": .string(s.after.map { String($0.state) } ?? ""),
            "parent": .int(Int(s.after?.parent ?? 0)), "alive_after_crash": .bool(s.aliveAfterCrash),
            "ended": s.end?.json ?? .null, "gone": .bool(s.goneAfterCleanup),
          ]
        })
    }
    if kind == .oom, let oom = o.oom {
      r.fact("oom", oom)
      r.fact("address_space_limit", o.ready["address_space_limit"]?.intValue ?? 0)
    }
    if let limit = o.ready["stack_limit"]?.intValue { r.fact("stack_limit", limit) }
    if o.options.backtrace {
      r.fact(
        "backtrace",
        o.backtrace.map {
          [
            "lines": .int($0.lines.count), "bytes": .int($0.bytes),
            "head": .array($0.lines.prefix(Self.backtraceLines).map { .string($0) }),
          ] as JSON
        } ?? .null)
    }
    r.fact("shell_pid", o.shellPID)
    r.fact("shell_alive", o.shellAfter != nil)
    r.fact("shell_rss_bytes", o.shellRSS)
  }

  // MARK: explanation

  private func explain() {
    let sig = status.signal.map(Signals.name)
    let aliveSiblings = o.siblings.filter(\.aliveAfterCrash).count
    var short = ""
    if timedOut {
      short =
        "The child did not end by itself before the timeout, so the shell killed it; nothing else was affected."
    } else if survived {
      short =
        "The fault did not happen: this machine did not trap on it, so the child carried on and exited normally."
    } else if o.options.inThread {
      let count = threadCount
      if let sig {
        short =
          kind == .kill
          ? "One thread (\(o.crasher ?? 0)) was sent SIGKILL, and all \(count) threads of process \(o.pid) ended with it: SIGKILL always ends the whole thread group."
          : "One thread (\(o.crasher ?? 0)) faulted, and all \(count) threads of process \(o.pid) ended with it: the kernel sent \(sig) to that thread, nothing handled it, and the default action (\(Signals.info(status.signal ?? 0)?.defaultAction ?? "terminate")) ends the whole thread group — every thread pthread_create made with CLONE_THREAD. It is the thread group and the signal's process-wide action, not the shared memory: `crash \(kind.rawValue) --clone-vm` shares the memory and dies alone, and `crash \(kind.rawValue) --in-thread --handled` catches the signal and lives on. So a crashing thread may take its process with it; here it did."
      } else {
        short =
          "One thread (\(o.crasher ?? 0)) called exit(), and all \(count) threads of process \(o.pid) ended: exit() ends the process, not the thread (pthread_exit would end only the thread)."
      }
      if !o.tidsLeft.isEmpty {
        short += " Surprise: \(o.tidsLeft.count) thread(s) were still listed afterwards."
      }
    } else if let sig {
      short = "Only process \(o.pid) ended: the kernel delivered \(sig) to it alone."
      short +=
        o.siblings.isEmpty
        ? " The shell kept running: the default action of \(sig) ends only the thread group it was delivered to, and the shell is another thread group."
        : " The shell and \(aliveSiblings) of \(o.siblings.count) siblings kept running: the default action of \(sig) ends only the thread group it was delivered to, and each of them is another thread group."
    } else if kind == .oom {
      let limit = Units.bytes(o.ready["address_space_limit"]?.intValue ?? 0)
      short =
        "What you saw is the address-space limit, not the machine running out of memory: proclab set RLIMIT_AS to \(limit) in the child, so once its mappings reached that, the mmap inside malloc failed with ENOMEM and malloc returned NULL. The program checked, and chose to exit with status \(CrashKind.outOfMemoryStatus): no signal."
    } else {
      short =
        "No fault: the child ended itself with exit(\(o.options.exitCode)), and wait4 reported the status it chose."
    }
    if !o.siblings.isEmpty && aliveSiblings < o.siblings.count {
      short += " Surprise: \(o.siblings.count - aliveSiblings) sibling(s) were not running after the crash."
    }
    var more: [String] = []
    more.append(
      "A fault is the CPU's complaint about one instruction of one thread. The kernel turns it into a signal for that thread; when nothing handles it and the signal's default action is to terminate (or dump core), the kernel ends every thread of the thread group together, frees the process's memory and keeps only its exit status for the parent's wait4. Other processes are other thread groups, with their own address spaces, and go on."
    )
    if kind == .oom {
      let mode = ProcFS.read("/proc/sys/vm/overcommit_memory").flatMap { $0.first } ?? "?"
      more.append(
        "Without such a limit Linux usually behaves differently. With overcommit (vm.overcommit_memory is \(mode) here; 0 and 1 overcommit) malloc succeeds for more than there is, because pages are only found when they are touched; when the machine then truly runs out, malloc does not return NULL: the kernel's OOM killer sends SIGKILL to the process it scores worst (the largest, usually), which may be another process than the one allocating. That is not what happened here."
      )
    }
    more.append(
      "A core file is a snapshot of the dying process's memory for a debugger (gdb PROGRAM CORE). The kernel writes one only if the signal's default action is core dump, RLIMIT_CORE allows it and /proc/sys/kernel/core_pattern names a file or a program. Lab children run with RLIMIT_CORE 0 so crashes leave nothing behind; crash --core raises it in that child only and deletes what it wrote."
    )
    if !o.options.backtrace {
      more.append(
        "Lab children run with SWIFT_BACKTRACE=enable=no so a crash is quick and quiet; crash --backtrace shows the report Swift's backtracer writes instead."
      )
    }
    r.explain(short, more: more.joined(separator: "\n\n"))
  }
}
