import Glibc

/// The shell side of `crash`: starts the bystanders and the lab child that
/// will crash, looks at them in /proc before and after, and cleans up.
struct CrashExperiment {
  struct Options {
    var kind: CrashKind = .segv
    var exitCode: Int32 = 1
    var mode = CrashLab.Mode.process
    var threads = 4
    var siblings = 0
    var core = false
    var backtrace = false
    var delay: Duration = .zero
    /// The fault runs on a worker thread (handled or not).
    var inThread: Bool { mode == .thread || mode == .handled }
  }

  /// A bystander process: what /proc said before and after the crash, and how it ended.
  struct Sibling {
    var pid: Int32
    var before: ProcFS.Stat?
    var after: ProcFS.Stat?
    var end: TerminationStatus?
    var goneAfterCleanup = false
    var aliveAfterCrash: Bool { after.map { $0.state != "Z" && $0.state != "X" } ?? false }
  }

  struct Core {
    var pattern: String?
    var usesPID = false
    var destination: CoreDumps.Destination = .nowhere
    /// RLIMIT_CORE in the child just before the crash (as it reported).
    var childLimit: CoreDumps.Limit?
    /// The shell's own limit, for comparison.
    var shellLimit = CoreDumps.Limit(soft: 0, hard: 0)
    /// `ok` or the errno name when --core tried to raise the limit.
    var raise: String?
    var dumped = false
    var file: (name: String, bytes: Int)?
    var directory: String?
  }

  struct Observation {
    var options: Options
    var pid: Int32 = 0
    var ready: JSON = [:]
    var stateBefore: ProcFS.Stat?
    var tidsBefore: [Int32] = []
    var crasher: Int32?
    var workers: [Int32] = []
    var run: LabRun?
    var sinceGo: Duration = .zero
    var processGone = false
    var tidsLeft: [Int32] = []
    var siblings: [Sibling] = []
    var core = Core()
    var backtrace: (lines: [String], bytes: Int, file: String)?
    var shellPID: Int32 = 0
    var shellAfter: ProcFS.Stat?
    var shellRSS = 0
    var oom: JSON?
  }

  static let readyTimeout: Duration = .seconds(15)
  /// Core files are capped at this size: enough for a lab child, never a full disk.
  static let coreCap: UInt64 = 256 << 20

  let options: Options

  func run() throws -> Observation {
    var o = Observation(options: options)
    o.shellPID = ThisProcess.id
    o.core.shellLimit = CoreDumps.limit()
    o.core.pattern = CoreDumps.pattern
    o.core.usesPID = CoreDumps.usesPID

    let coreDirectory = options.core ? try ScratchDirectory(prefix: "proclab-core") : nil
    defer { coreDirectory?.remove() }
    let reportDirectory = options.backtrace ? try ScratchDirectory(prefix: "proclab-backtrace") : nil
    defer { reportDirectory?.remove() }
    o.core.directory = coreDirectory?.path

    // The bystanders first: they must be running when the crash happens.
    var siblings: [LabProcess] = []
    defer { for s in siblings { s.killAndReap() } }
    for _ in 0..<options.siblings {
      let s = try LabProcess.start("crash-sibling")
      siblings.append(s)
      guard try s.nextMessage(timeout: Self.readyTimeout) != nil else {
        let status = try s.finish(timeout: .zero).status
        throw LabFailure("sibling \(s.pid) did not start (\(status))")
      }
    }
    // Each sibling announces, then goes to sleep in sigtimedwait: give it a
    // moment to get there, so "before" shows it waiting (it may still be R).
    for s in siblings {
      for _ in 0..<50 where ProcFS.stat(s.pid)?.state == "R" { try MonotonicClock.sleep(.milliseconds(2)) }
    }
    o.siblings = siblings.map { Sibling(pid: $0.pid, before: ProcFS.stat($0.pid)) }

    let request = CrashLab.Request(
      kind: options.kind, exitCode: options.exitCode, mode: options.mode,
      threads: options.inThread ? options.threads : 0, coreDirectory: coreDirectory?.path,
      coreBytes: Self.coreCap,
      scratch: Leftovers.temporaryDirectory)
    var environment: [String: String] = [:]
    if let reportDirectory {
      environment["SWIFT_BACKTRACE"] = SwiftBacktracer.setting(
        "enable=yes,interactive=no,color=no,output-to=\(reportDirectory.path)")
    }
    let child = try LabProcess.start("crash", request.json, environment: environment)
    defer { child.killAndReap() }
    o.pid = child.pid

    guard let message = try child.nextMessage(timeout: Self.readyTimeout), let ready = message["message"]
    else {
      let early = try child.finish(timeout: .zero)
      let words = early.lastOutput.last.map { "; it said: \($0)" } ?? ""
      throw LabFailure("the lab child \(child.pid) ended before it was ready (\(early.status))\(words)")
    }
    o.ready = ready
    Trace.append(contentsOf: (ready["trace"]?.arrayValue ?? []).compactMap(TraceCall.init(json:)))
    o.core.childLimit = CoreDumps.Limit(json: ready["core_limit"])
    o.core.raise = ready["core_raise"]?.stringValue
    o.workers = (ready["workers"]?.arrayValue ?? []).compactMap { $0.intValue.map(Int32.init) }
    o.crasher = ready["crasher"]?.intValue.map(Int32.init)
    o.stateBefore = ProcFS.stat(child.pid)
    o.tidsBefore = ProcFS.threads(of: child.pid)

    if options.delay > .zero { try MonotonicClock.sleep(options.delay) }
    let go = MonotonicClock.nanoseconds()
    if options.kind == .kill {
      // SIGKILL for the whole process, or addressed to one thread: either way the process ends.
      if let crasher = o.crasher {
        try Faults.signal(SIGKILL, thread: crasher, of: child.pid)
      } else {
        try child.signal(SIGKILL)
      }
    } else {
      try Faults.signal(CrashLab.goSignal, thread: child.pid, of: child.pid)
    }
    let timeout: Duration = options.backtrace ? .seconds(60) : .seconds(20)
    let run = try child.finish(timeout: timeout + options.delay + Self.readyTimeout)
    o.sinceGo = MonotonicClock.since(go)
    o.run = run
    o.oom = run.messages.compactMap { $0["message"]?["oom"] }.first

    // After wait4: is anything of the process left?
    o.processGone = !ProcFS.taskDirectoryExists(child.pid)
    o.tidsLeft = o.tidsBefore.filter { ProcFS.threadExists($0, of: child.pid) }

    // The bystanders: still running? Then the shell ends and reaps them.
    for (i, s) in siblings.enumerated() {
      o.siblings[i].after = ProcFS.stat(s.pid)
    }
    for (i, s) in siblings.enumerated() {
      o.siblings[i].end = try s.finish(timeout: .zero).status
      o.siblings[i].goneAfterCleanup = !ProcFS.processExists(s.pid)
    }

    o.core.dumped = run.status == .signaled(run.status.signal ?? 0, coreDumped: true)
    if let sig = run.status.signal, let pattern = o.core.pattern {
      o.core.destination = CoreDumps.destination(
        pattern: pattern, usesPID: o.core.usesPID, pid: child.pid, command: "proclab", signal: sig)
    }
    if let coreDirectory {
      o.core.file = coreDirectory.files().first
    }
    if let reportDirectory, let file = reportDirectory.files().first,
      let text = reportDirectory.read(file.name)
    {
      o.backtrace = (
        text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init), file.bytes, file.name
      )
    }
    o.shellAfter = ProcFS.stat(o.shellPID)
    o.shellRSS = ProcFS.residentBytes(o.shellPID) ?? 0
    return o
  }
}
