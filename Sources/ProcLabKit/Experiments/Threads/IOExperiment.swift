import Synchronization

/// The OS work of `io`: a server thread answers each task WAIT ms after it
/// asked by writing the task's eventfd; tasks wait for their reply in one of
/// three ways. Nothing here reads a disk or a network: the waits are real
/// kernel waits (read, poll) for data that a sleeping thread provides.
enum IOExperiment {
  typealias Mode = IOCommand.Mode

  struct IOTask: Sendable {
    var tid: Int32 = 0
    var asked: UInt64 = 0
    var answered: UInt64 = 0
    var value: UInt64 = 0
  }

  struct Result {
    var mode: Mode
    var wall: UInt64
    var cpu: Duration
    var tasks: [IOTask]
    var threadsUsed: Int
    /// The most threads of this process alive at once during the run.
    var peakThreads: Int
    /// Growth of resident memory (VmHWM) and of the address space (VmSize) at the peak.
    var residentGrowth: Int
    var virtualGrowth: Int
  }

  /// The replies of one run: one eventfd per task, a request eventfd that wakes
  /// the server, and the queue of replies due.
  final class Bench: Sendable {
    struct State {
      var tasks: [IOTask]
      var due: [(at: UInt64, task: Int)] = []
      var closed = false
    }
    let wait: UInt64
    let request: Int32
    let replies: [Int32]
    let state: Mutex<State>

    init(tasks k: Int, waitMS: Int) throws {
      wait = UInt64(waitMS) * 1_000_000
      var fds: [Int32] = []
      do {
        for _ in 0...k { fds.append(try EventCounter.create()) }
      } catch {
        for fd in fds { Descriptors.close(fd) }
        throw UsageError(
          "io: could not open \(k + 1) eventfd descriptors (\(error)); the descriptor limit (ulimit -n) allows fewer tasks"
        )
      }
      request = fds[0]
      replies = Array(fds.dropFirst())
      state = Mutex(State(tasks: Array(repeating: IOTask(), count: k)))
    }

    func closeAll() {
      for fd in [request] + replies { Descriptors.close(fd) }
    }

    /// The server: sleeps in poll() on the request eventfd until the next reply is
    /// due, then writes each due task's eventfd. Ends once closed and nothing is pending;
    /// on Ctrl-C it answers everything at once.
    func serve() {
      while true {
        let now = MonotonicClock.nanoseconds()
        let stopping = Interrupt.isRequested
        let (ready, next, done) = state.withLock { s -> ([Int], UInt64?, Bool) in
          let ready = s.due.filter { $0.at <= now || stopping }.map(\.task)
          s.due.removeAll { $0.at <= now || stopping }
          return (ready, s.due.map(\.at).min(), s.closed && s.due.isEmpty)
        }
        for task in ready { try? EventCounter.signal(replies[task]) }
        if done { return }
        let sleep = next.map { $0 > now ? $0 - now : 0 } ?? 20_000_000
        if Descriptors.readable([request], timeout: .nanoseconds(Int64(min(sleep, 20_000_000)))).contains(
          request)
        {
          _ = try? EventCounter.wait(request)
        }
      }
    }

    /// A task asks for its data: the reply is due WAIT ms from now.
    func ask(_ i: Int) {
      let t = MonotonicClock.nanoseconds()
      state.withLock {
        $0.tasks[i].asked = t
        $0.due.append((t + wait, i))
      }
      try? EventCounter.signal(request)
    }

    /// A task's reply arrived (or, in poll mode, is known to be there): read it.
    func receive(_ i: Int) throws {
      let value = try EventCounter.wait(replies[i])
      let t = MonotonicClock.nanoseconds()
      let tid = Threads.currentTID()
      state.withLock {
        $0.tasks[i].answered = t
        $0.tasks[i].value = value
        $0.tasks[i].tid = tid
      }
    }

    func close() {
      state.withLock { $0.closed = true }
      try? EventCounter.signal(request)
    }
  }

  static func run(tasks k: Int, waitMS: Int, modes: [Mode], session: Session) throws -> [Result] {
    var results: [Result] = []
    for (i, m) in modes.enumerated() {
      session.progress("io \(m.rawValue)", fraction: Double(i) / Double(modes.count))
      try Interrupt.check()
      results.append(try runOnce(m, tasks: k, waitMS: waitMS))
    }
    session.progressDone()
    return results
  }

  static func runOnce(_ mode: Mode, tasks k: Int, waitMS: Int) throws -> Result {
    let bench = try Bench(tasks: k, waitMS: waitMS)
    defer { bench.closeAll() }
    var server = WorkerThreads()
    defer {
      bench.close()
      server.joinAll()
    }
    try server.start("server") { bench.serve() }
    let baseThreads = Threads.tasks().count
    ProcessMemoryUse.resetPeak()
    let memoryBefore = ProcessMemoryUse.sample()
    var peakVirtual = memoryBefore.virtual
    var peakThreads = baseThreads
    let cpuBefore = ResourceUsage.currentProcess()
    let start = MonotonicClock.nanoseconds()
    var threadsUsed = 1
    switch mode {
    case .serial:
      for i in 0..<k {
        try Interrupt.check()
        bench.ask(i)
        try bench.receive(i)
      }
    case .threads:
      let alive = Atomic(0)
      var workers = WorkerThreads()
      defer { workers.joinAll() }
      for i in 0..<k {
        try workers.start("task \(i + 1)") {
          alive.add(1, ordering: .relaxed)
          bench.ask(i)
          try? bench.receive(i)
          alive.subtract(1, ordering: .relaxed)
        }
        if i % 256 == 255 {
          peakVirtual = max(peakVirtual, ProcessMemoryUse.sample().virtual)
          peakThreads = max(peakThreads, baseThreads + alive.load(ordering: .relaxed))
        }
      }
      // Watch the peak while the threads wait; each ends once its reply arrived.
      while alive.load(ordering: .relaxed) > 0
        || bench.state.withLock({ $0.tasks.contains { $0.answered == 0 } })
      {
        peakVirtual = max(peakVirtual, ProcessMemoryUse.sample().virtual)
        peakThreads = max(peakThreads, baseThreads + alive.load(ordering: .relaxed))
        if Interrupt.isRequested { break }
        // Reading /proc costs CPU too: look only now and then.
        MonotonicClock.pause(.milliseconds(20))
      }
      workers.joinAll()
      threadsUsed = k
    case .poll:
      for i in 0..<k { bench.ask(i) }
      peakVirtual = max(peakVirtual, ProcessMemoryUse.sample().virtual)
      var waiting = Dictionary(uniqueKeysWithValues: (0..<k).map { (bench.replies[$0], $0) })
      while !waiting.isEmpty {
        try Interrupt.check()
        for fd in Descriptors.readable(Array(waiting.keys), timeout: .milliseconds(200)) {
          if let i = waiting.removeValue(forKey: fd) { try bench.receive(i) }
        }
      }
    }
    let wall = MonotonicClock.nanoseconds() - start
    let after = ResourceUsage.currentProcess()
    let memoryAfter = ProcessMemoryUse.sample()
    let cpu = (after.userTime + after.systemTime) - (cpuBefore.userTime + cpuBefore.systemTime)
    try Interrupt.check()
    return Result(
      mode: mode, wall: wall, cpu: cpu, tasks: bench.state.withLock { $0.tasks }, threadsUsed: threadsUsed,
      peakThreads: peakThreads, residentGrowth: max(0, memoryAfter.residentPeak - memoryBefore.resident),
      virtualGrowth: max(0, peakVirtual - memoryBefore.virtual))
  }

  /// 10, 100, 1000… up to K (and K), threads then poll at each size.
  static func sweep(upTo k: Int, waitMS: Int, session: Session) throws -> [Result] {
    var sizes: [Int] = []
    var n = 10
    while n < k {
      sizes.append(n)
      n *= 10
    }
    sizes.append(k)
    var rows: [Result] = []
    for (i, size) in sizes.enumerated() {
      for mode in [Mode.threads, .poll] {
        session.progress("io \(size) \(mode.rawValue)", fraction: Double(i) / Double(sizes.count))
        try Interrupt.check()
        rows.append(try runOnce(mode, tasks: size, waitMS: waitMS))
      }
    }
    session.progressDone()
    return rows
  }
}
