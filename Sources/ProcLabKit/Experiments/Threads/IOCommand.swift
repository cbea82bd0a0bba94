import Glibc

/// `io`: K tasks that each wait for data — a reply that a server thread writes
/// into the task's pipe WAIT ms after the task asked — done one after another,
/// with one thread each, or by one thread multiplexing every pipe with poll().
enum IOCommand {
  enum Mode: String, CaseIterable {
    case serial, threads, poll
    var how: String {
      switch self {
      case .serial: "one thread, one task after another"
      case .threads: "one thread per task, each blocked in read()"
      case .poll: "one thread, every pipe watched by poll()"
      }
    }
  }

  static let command = Command(
    name: "io", area: .threads,
    summary: "I/O-bound tasks: serial, one thread each, or one thread with poll; waiting costs no CPU",
    usage: "io [--tasks K] [--wait MS] [--serial | --threads | --poll]",
    options: [
      .init("--tasks", value: "K", "tasks, each waiting for one reply (1…64, default 4)"),
      .init("--wait", value: "MS", "how long each reply takes to arrive (1…5000 ms, default 100)"),
      .init("--serial", "only: one task after another"),
      .init("--threads", "only: one thread per task"),
      .init("--poll", "only: one thread multiplexing all pipes with poll()"),
    ],
    examples: ["io", "io --tasks 8 --wait 50", "io --poll --tasks 32"]
  ) { args, session in
    try args.expectPositionals(atMost: 0)
    try args.exclusive("--serial", "--threads", "--poll")
    let k = try args.int("--tasks", default: 4, in: 1...64)
    let wait = try args.int("--wait", default: 100, in: 1...5000)
    var modes = Mode.allCases
    for m in Mode.allCases where args.flag("--" + m.rawValue) { modes = [m] }
    if modes.contains(.serial) && k * wait > 60_000 {
      throw UsageError(
        "io: serial waiting would take \(k) × \(wait) ms = \(k * wait) ms; keep --tasks × --wait at most 60000"
      )
    }
    return try run(tasks: k, waitMS: wait, modes: modes, session: session)
  }

  struct IOTask: Sendable {
    var tid: Int32 = 0
    var asked: UInt64 = 0
    var answered: UInt64 = 0
    var bytes = 0
  }

  struct Result {
    var mode: Mode
    var wall: UInt64
    var cpu: Duration
    var tasks: [IOTask]
    var threadsUsed: Int
  }

  /// The pipes of one run and the server thread that answers requests after a delay.
  final class Bench: @unchecked Sendable {
    let k: Int
    let wait: UInt64
    var request: (read: Int32, write: Int32) = (-1, -1)
    var replies: [(read: Int32, write: Int32)] = []
    let mutex = PthreadMutex()
    var tasks: [IOTask]
    var server: Threads.Handle?

    init(tasks k: Int, waitMS: Int) {
      self.k = k
      self.wait = UInt64(waitMS) * 1_000_000
      self.tasks = Array(repeating: IOTask(), count: k)
    }

    func open() throws {
      request = try Descriptors.pipe()
      for _ in 0..<k { replies.append(try Descriptors.pipe()) }
    }

    /// Closes every descriptor still open (and so ends the server), then joins it.
    func close() {
      if request.write >= 0 { Descriptors.close(request.write) }
      request.write = -1
      if let server { Threads.join(server, label: "server") }
      server = nil
      if request.read >= 0 { Descriptors.close(request.read) }
      request.read = -1
      for p in replies {
        Descriptors.close(p.read)
        Descriptors.close(p.write)
      }
      replies = []
    }

    /// The server: reads task numbers from the request pipe; WAIT ms after each
    /// request it writes that task's reply into the task's own pipe. Ends at end
    /// of file once nothing is pending. On Ctrl-C it answers everything at once.
    func startServer() throws {
      let fd = request.read
      server = try Threads.spawn("server") { [self] in
        var pending: [(due: UInt64, task: Int)] = []
        var open = true
        while open || !pending.isEmpty {
          let now = MonotonicClock.nanoseconds()
          let stopping = Interrupt.isRequested
          for p in pending where p.due <= now || stopping {
            try? Descriptors.writeAll(
              replies[p.task].write, "reply for task \(p.task + 1): the data it waited for\n")
          }
          pending.removeAll { $0.due <= now || stopping }
          let next = pending.map(\.due).min().map { $0 > now ? $0 - now : 0 } ?? 50_000_000
          if !open {
            Threads.pause(.nanoseconds(Int64(min(next, 20_000_000))))
            continue
          }
          let ready = Descriptors.readable([fd], timeout: .nanoseconds(Int64(min(next, 20_000_000))))
          guard ready.contains(fd) else { continue }
          guard let bytes = try? Descriptors.read(fd, max: 256), !bytes.isEmpty else {
            open = false
            continue
          }
          let arrived = MonotonicClock.nanoseconds()
          for b in bytes { pending.append((arrived + wait, Int(b))) }
        }
      }
    }

    /// A task asks for its data: one byte (its number) into the request pipe.
    func ask(_ i: Int) throws {
      let t = MonotonicClock.nanoseconds()
      mutex.lock()
      tasks[i].asked = t
      mutex.unlock()
      try Descriptors.writeAll(request.write, [UInt8(i)])
    }

    /// A task's data arrived: read it from its pipe.
    func receive(_ i: Int) throws {
      let data = try Descriptors.read(replies[i].read, max: 4096)
      let t = MonotonicClock.nanoseconds()
      mutex.lock()
      tasks[i].answered = t
      tasks[i].bytes = data.count
      tasks[i].tid = Threads.currentTID()
      mutex.unlock()
    }
  }

  static func runOnce(_ mode: Mode, tasks k: Int, waitMS: Int) throws -> Result {
    let bench = Bench(tasks: k, waitMS: waitMS)
    defer { bench.close() }
    try bench.open()
    try bench.startServer()
    let cpuBefore = ResourceUsage.currentProcess()
    let start = MonotonicClock.nanoseconds()
    var threadsUsed = 1
    switch mode {
    case .serial:
      for i in 0..<k {
        try bench.ask(i)
        try bench.receive(i)
      }
    case .threads:
      var handles: [Threads.Handle] = []
      defer { Threads.joinAll(handles, tids: bench.tasks.map(\.tid).filter { $0 != 0 }) }
      for i in 0..<k {
        handles.append(
          try Threads.spawn("task \(i + 1)") {
            do {
              try bench.ask(i)
              try bench.receive(i)
            } catch {}
          })
      }
      // Each thread ends once its reply arrived (on Ctrl-C the server answers at once).
      Threads.joinAll(handles, tids: bench.tasks.map(\.tid).filter { $0 != 0 })
      handles = []
      threadsUsed = k
    case .poll:
      for i in 0..<k { try bench.ask(i) }
      var waiting = Dictionary(uniqueKeysWithValues: (0..<k).map { (bench.replies[$0].read, $0) })
      while !waiting.isEmpty {
        try Interrupt.check()
        for fd in Descriptors.readable(Array(waiting.keys), timeout: .milliseconds(200)) {
          if let i = waiting.removeValue(forKey: fd) { try bench.receive(i) }
        }
      }
    }
    let wall = MonotonicClock.nanoseconds() - start
    let after = ResourceUsage.currentProcess()
    let cpu = (after.userTime + after.systemTime) - (cpuBefore.userTime + cpuBefore.systemTime)
    try Interrupt.check()
    return Result(mode: mode, wall: wall, cpu: cpu, tasks: bench.tasks, threadsUsed: threadsUsed)
  }

  static func run(tasks k: Int, waitMS: Int, modes: [Mode], session: Session) throws -> Report {
    let r = Report()
    var results: [Result] = []
    for (i, m) in modes.enumerated() {
      session.progress("io \(m.rawValue)", fraction: Double(i) / Double(modes.count))
      try Interrupt.check()
      results.append(try runOnce(m, tasks: k, waitMS: waitMS))
    }
    session.progressDone()
    r.line(
      "\(r.count(k)) task\(k == 1 ? "" : "s"), each waiting \(r.count(waitMS)) ms for a reply a server thread writes into its pipe"
    )
    var t = Table(
      ["how", "wall time", "in waits", "CPU time", "threads waiting"], rightAligned: [1, 2, 3, 4])
    var chart = BarChart(width: 24)
    for res in results {
      let waits = Double(res.wall) / 1e6 / Double(waitMS)
      t.add([
        res.mode.rawValue, r.seconds(Double(res.wall) / 1e9), r.number(waits), r.duration(res.cpu),
        "\(res.threadsUsed)",
      ])
      chart.add(res.mode.rawValue, Double(res.wall), Units.duration(seconds: Double(res.wall) / 1e9))
    }
    r.lines(t.lines)
    if results.count > 1 {
      r.line("wall time:")
      r.lines(chart.lines)
    }
    for res in results {
      r.line("\(res.mode.rawValue) (\(res.mode.how)): who waited when")
      var tl = Timeline(width: 48)
      for (i, task) in res.tasks.enumerated().prefix(ThreadWork.maxRows) where task.answered > 0 {
        tl.add(
          "task \(i + 1) \(r.tid(task.tid))",
          [Timeline.Interval(start: task.asked, end: max(task.answered, task.asked + 1), mark: "░")])
      }
      tl.legend = [("░", "waiting for its reply"), ("·", "not started or done")]
      r.lines(tl.lines + ThreadWork.moreRows(res.tasks.count))
    }

    r.fact("tasks", k)
    r.fact("wait_ms", waitMS)
    var modeFacts = JSONObject()
    for res in results {
      var o = JSONObject()
      o["wall_ns"] = .int(Int(res.wall))
      o["waits"] = .double(Double(res.wall) / 1e6 / Double(waitMS))
      o["cpu_ns"] = .int(Int(res.cpu.nanoseconds))
      o["threads"] = .int(res.threadsUsed)
      o["tids"] = .array(res.tasks.map { .int(Int($0.tid)) })
      o["bytes"] = .array(res.tasks.map { .int($0.bytes) })
      modeFacts[res.mode.rawValue] = .object(o)
    }
    r.fact("modes", JSON.object(modeFacts))

    var parts: [String] = []
    let byMode = Dictionary(uniqueKeysWithValues: results.map { ($0.mode, $0) })
    func waits(_ m: Mode) -> String { Units.fixed(Double(byMode[m]!.wall) / 1e6 / Double(waitMS), digits: 1) }
    if byMode[.serial] != nil {
      parts.append("One after another, the \(k) waits add up: \(waits(.serial)) waits of \(waitMS) ms.")
    }
    let overlapped = [Mode.threads, .poll].filter { byMode[$0] != nil }
    if !overlapped.isEmpty {
      parts.append(
        overlapped.map {
          "with \($0 == .threads ? "\(k) threads" : "poll() on one thread") the waits overlapped: \(waits($0)) waits"
        }
        .joined(separator: "; ").capitalizedFirst + ".")
    }
    let cpuShare = results.map { $0.cpu.seconds / max(1e-9, Double($0.wall) / 1e9) }.max() ?? 0
    parts.append(
      "Waiting costs almost no CPU: at most \(Units.percent(cpuShare)) of the wall time was spent computing — a blocked thread sleeps in the kernel until its descriptor has data."
    )
    if byMode[.threads] != nil && byMode[.poll] != nil {
      parts.append(
        "poll() got the same overlap with one thread instead of \(k): that is what asynchronous I/O (event loops, async/await) is for — many waits, few threads."
      )
    }
    r.explain(
      parts.joined(separator: " "),
      more:
        "I/O-bound work spends its time waiting for data (disk, network, another process). Threads or an event loop let the waits overlap, so K waits take about one. This helps I/O-bound work only: CPU-bound work needs free cores (see 'parallel'). Each thread costs a stack and a kernel task; poll (or epoll) watches thousands of descriptors from one thread."
    )
    return r
  }
}

extension String {
  var capitalizedFirst: String { prefix(1).uppercased() + dropFirst() }
}
