import Glibc

/// `signal --merge`, `--threads`, `--no-reader`, `--auto-reap`: how signals are delivered.
enum SignalDeliveryReport {
  static func merge(_ standard: Int32, count: Int) throws -> Report {
    let m = try IPCSignals.merge(standard: standard, count: count)
    let r = Report()
    let std = Signals.name(m.standard)
    let rt = "SIGRTMIN (\(m.realtime))"
    r.line(
      "signal --merge: child \(r.pid(m.child)) blocked \(std) and \(rt); the shell sent each \(m.sent) time\(m.sent == 1 ? "" : "s")"
    )
    let both = SignalResult.has(m.sharedPending, m.standard) && SignalResult.has(m.sharedPending, m.realtime)
    r.line(
      // Both signals stay blocked until every send is done: the pending mask, one delivery of the
      // standard signal and every real-time one in order are the same on every run.
      "  while blocked: ShdPnd \(r.fixed(IPCReporting.hex(m.sharedPending)))"
        + (both ? " — one bit per signal: pending, not how many" : ""))
    r.line(
      "  unblocked: \(std) delivered \(m.standardDelivered) time\(m.standardDelivered == 1 ? "" : "s")"
    )
    r.line(
      "             \(rt) delivered \(m.realtimeDelivered) time\(m.realtimeDelivered == 1 ? "" : "s"), values "
        + m.realtimeOrder.map(String.init).joined(separator: ", "))
    r.line("  child \(r.pid(m.child)) \(m.status)")
    r.fact("child", m.child)
    r.fact("standard", Signals.name(m.standard))
    r.fact("realtime", Int(m.realtime))
    r.fact("sent", m.sent)
    r.fact("standard_delivered", m.standardDelivered)
    r.fact("realtime_delivered", m.realtimeDelivered)
    r.fact("realtime_order", m.realtimeOrder)
    r.fact("shdpnd", IPCReporting.hex(m.sharedPending))
    let inOrder = m.realtimeOrder == Array(1...m.sent)
    r.explain(
      mergeSentence(
        standard: std, sent: m.sent, standardDelivered: m.standardDelivered,
        realtimeDelivered: m.realtimeDelivered,
        inOrder: inOrder, order: m.realtimeOrder),
      more:
        "So a standard signal says \"this happened at least once\", never how often: to count events, use a pipe, "
        + "a semaphore or a real-time signal. The real-time queue is limited (RLIMIT_SIGPENDING, per user). "
        + "glibc keeps the first real-time signals for its own threads, so SIGRTMIN is \(m.realtime) here, not 32."
    )
    return r
  }

  /// The ShdPnd bit is all a standard signal has, so repeats merge; a real-time signal also has a
  /// queue entry per send. Said of this run only as far as its deliveries show it.
  static func mergeSentence(
    standard std: String, sent: Int, standardDelivered: Int, realtimeDelivered: Int, inOrder: Bool,
    order: [Int]
  ) -> String {
    let standardPart =
      standardDelivered == 1 && sent > 1
      ? "A pending standard signal is one bit in the pending set: sent again while it is pending, it changes nothing, so \(sent) sends of \(std) gave 1 delivery."
      : "\(sent) sends of \(std) gave \(standardDelivered) deliver\(standardDelivered == 1 ? "y" : "ies"): a pending standard signal is one bit in the pending set, so sends while it is pending merge."
    let realtimePart =
      "A real-time signal is queued besides its bit: each sigqueue() added an entry with its value, and \(realtimeDelivered) of \(sent) were delivered"
      + (inOrder ? ", in the order sent." : " (order: \(order)).")
    return standardPart + " " + realtimePart
  }

  static func threads(_ sig: Int32, count: Int) throws -> Report {
    var runs: [SignalThreadsResult] = []
    for mode in SignalThreadsResult.Mode.allCases {
      try Interrupt.check()
      runs.append(try IPCSignals.threads(signal: sig, mode: mode, count: count))
    }
    let name = Signals.name(sig)
    let r = Report()
    r.line(
      "signal --threads: kill(PID, \(name)) ×\(count) to a process of three threads, three ways:")
    var t = Table(["", "main", "worker 1", "worker 2", "taken by"])
    for run in runs {
      let label = ["nobody blocks", "main blocks", "sigwait in w2"][Int(run.mode.rawValue)]
      let names = ["main", "worker 1", "worker 2"]
      let who = Set(run.receivedBy).sorted {
        (run.threads.firstIndex(of: $0) ?? 3) < (run.threads.firstIndex(of: $1) ?? 3)
      }.map { tid -> String in
        let i = run.threads.firstIndex(of: tid)
        return tid == 0 ? "nobody" : names[i ?? 0]
      }.joined(separator: ", ")
      // The kernel offers a process-directed signal to the thread the PID names first, but passes
      // it on when that thread already has one pending: which unblocked threads took them varies.
      // With every thread blocking it but the sigwait one, that one takes them all, every run.
      let candidates = run.mode.rawValue == 0 ? names : run.mode.rawValue == 1 ? Array(names.dropFirst()) : []
      let subsets = (1..<(1 << candidates.count)).map { mask in
        candidates.indices.filter { mask & (1 << $0) != 0 }.map { candidates[$0] }.joined(separator: ", ")
      }
      t.add(
        [
          label, "tid \(r.tid(run.threads[0]))", "tid \(r.tid(run.threads[1]))",
          "tid \(r.tid(run.threads[2]))",
          candidates.isEmpty ? who : r.varying(who, among: subsets),
        ])
    }
    r.table(t)
    r.fact("signal", name)
    r.fact("count", count)
    r.fact(
      "runs",
      JSON.array(
        runs.map {
          [
            "mode": .string(["nobody_blocks", "main_blocks", "sigwait_thread"][Int($0.mode.rawValue)]),
            "child": .int(Int($0.child)), "threads": .array($0.threads.map { .int(Int($0)) }),
            "received_by": .array($0.receivedBy.map { .int(Int($0)) }),
          ]
        }))
    let allMain = runs[0].receivedBy.allSatisfy { $0 == runs[0].threads[0] }
    let noneMain = runs[1].receivedBy.allSatisfy { $0 != runs[1].threads[0] && $0 != 0 }
    let allWaiter = runs[2].receivedBy.allSatisfy { $0 == runs[2].threads[2] }
    var text =
      "A signal sent to a process (kill) is taken by one of its threads that does not block it. "
    text +=
      allMain
      ? "With nobody blocking it, every one went to the main thread: Linux tries the thread the PID names first. "
      : "With nobody blocking it, the kernel picked the threads shown. "
    text += noneMain ? "When the main thread blocked it, a worker took it instead. " : ""
    text +=
      allWaiter
      ? "With every thread blocking it, the one thread waiting in sigwait() took them all, synchronously: no handler ran."
      : "The sigwait thread did not take every one (unexpected)."
    r.explain(
      text,
      more:
        "That is the standard design for signals in a threaded program: block them in every thread (new threads "
        + "inherit the creator's mask, so block before creating them) and let one dedicated thread sigwait() for "
        + "them, where it may call anything — a handler may only call async-signal-safe functions. A signal sent to "
        + "one thread (pthread_kill, tgkill) or caused by it (SIGSEGV) goes to that thread only.")
    return r
  }

  static func noReader() throws -> Report {
    let plain = try IPCSignals.writeWithoutReader(ignore: false)
    let ignored = try IPCSignals.writeWithoutReader(ignore: true)
    let r = Report()
    r.line("signal --no-reader: a child writes one byte into a pipe whose read ends are all closed")
    r.line("  SIGPIPE at its default: child \(r.pid(plain.child)) was \(plain.status)")
    let result =
      ignored.writeResult.map {
        "write() returned \($0)"
          + (ignored.writeErrno.map { $0 != 0 ? " \(SystemError.name(of: $0))" : "" } ?? "")
      }
      ?? "no answer"
    r.line("  SIGPIPE ignored:       child \(r.pid(ignored.child)): \(result), then it \(ignored.status)")
    r.fact("default_status", plain.status.json)
    r.fact("ignored_status", ignored.status.json)
    if let w = ignored.writeResult { r.fact("ignored_write_result", Int(w)) }
    if let e = ignored.writeErrno { r.fact("ignored_errno", SystemError.name(of: e)) }
    let killed = plain.status.signal == SIGPIPE
    let epipe = ignored.writeErrno == EPIPE
    r.explain(
      (killed
        ? "Writing to a pipe that nobody can read any more sent the writer SIGPIPE, whose default action ended it. "
        : "The default writer was \(plain.status) (expected: killed by SIGPIPE). ")
        + (epipe
          ? "With SIGPIPE ignored, the writer survived to see what write() returns either way, -1 EPIPE, and carried on: the kernel sends the signal and fails the call (a handled or blocked SIGPIPE lets the writer see it too)."
          : "With SIGPIPE ignored, write() did not fail with EPIPE (unexpected)."),
      more:
        "That is how `yes | head -1` ends: head exits, and yes's next write kills it. A program that must survive a "
        + "vanished reader (a server, or proclab itself) ignores SIGPIPE and handles EPIPE; sockets can ask for "
        + "this per call with MSG_NOSIGNAL.")
    return r
  }

  static func autoReap() throws -> Report {
    let plain = try IPCSignals.autoReap(ignore: false, children: 3)
    let ignored = try IPCSignals.autoReap(ignore: true, children: 3)
    let r = Report()
    r.line("signal --auto-reap: a child forks 3 children that exit at once, and looks after them")
    for run in [plain, ignored] {
      r.line(
        "  SIGCHLD \(run.ignored ? "set to SIG_IGN" : "at its default"): middle \(r.pid(run.middle)), children "
          + run.children.map { r.pid($0) }.joined(separator: ", "))
      r.line(
        // Every child has exited before /proc is read: three zombies, or none with SIG_IGN, every run.
        "    after they exited, /proc showed \(run.zombies) zombie\(run.zombies == 1 ? "" : "s")"
          + (run.zombies == 0 ? " (they were gone)" : " (state Z)")
          + "; waitpid(-1) then reaped \(run.reapedByWait) and failed with \(SystemError.name(of: run.waitErrno))"
      )
    }
    func facts(_ run: AutoReapResult) -> JSON {
      [
        "middle": .int(Int(run.middle)), "children": .array(run.children.map { .int(Int($0)) }),
        "zombies": .int(run.zombies), "reaped_by_wait": .int(run.reapedByWait),
        "wait_errno": .string(SystemError.name(of: run.waitErrno)),
      ]
    }
    r.fact("default", facts(plain))
    r.fact("ignored", facts(ignored))
    let ok = plain.zombies == 3 && ignored.zombies == 0 && ignored.reapedByWait == 0
    r.explain(
      ok
        ? "With SIGCHLD at its default, each ended child stayed a zombie until its parent's waitpid collected it. "
          + "With SIGCHLD set to SIG_IGN, the kernel reaped them as they exited: no zombies, and waitpid found "
          + "nothing to collect (ECHILD) — their exit statuses were thrown away."
        : "Zombies with the default: \(plain.zombies) of 3; with SIG_IGN: \(ignored.zombies) (expected 3 and 0).",
      more:
        "Setting SIGCHLD to SIG_IGN (or SA_NOCLDWAIT in sigaction) is the way to say \"I will never wait for my "
        + "children\". Its default action, which also does nothing, is different: it keeps the zombies, because "
        + "a parent may still want the status. A zombie keeps its PID and a small kernel record (task_struct)."
    )
    return r
  }
}
