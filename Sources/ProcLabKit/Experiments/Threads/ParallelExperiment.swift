import CLab

/// The OS work of `parallel`: calibrate a unit of work, then run the same total
/// over 1, 2, 4…N threads (pthread_create) or forked processes (fork), timing
/// each run and reading which CPUs each worker ran on.
enum ParallelExperiment {
  static let steps = 2000
  static let sliceCapacity = 96
  /// CPython's default switch interval (sys.getswitchinterval() is 0.005 s).
  static let switchInterval = Duration.milliseconds(5)

  struct Run {
    var workers: Int
    var wall: UInt64
    var cpu: UInt64
    var checksum: UInt64
    var tracks: [WorkerTrack]
    var pids: [Int32]
    /// Forced switches of the global lock (handed to a waiting thread).
    var handoffs: Int = 0
    /// Cores that other programs kept busy during the run, on average (/proc/stat minus our own CPU time).
    var othersCores: Double = 0
    /// Time during which at least two workers computed at once on different CPUs.
    var parallelTime: UInt64 { ParallelExperiment.simultaneousOnDifferentCPUs(tracks) }
  }

  struct Result {
    var runs: [Run]
    var kind: String
    var processes: Bool
    var gil: Bool
    var workMS: Int
    var units: UInt64
    var perUnit: Double
    var onlineCPUs: Int
    /// The CPUs this process may run on (sched_getaffinity).
    var allowedCPUs: [Int]
  }

  /// CPU nanoseconds one unit takes on this machine, timed with the calling
  /// thread's CPU clock (so a busy machine does not change the amount of work).
  static func calibrate() -> Double {
    let start = Threads.cpuTime()
    var units: UInt64 = 0
    var sink: UInt64 = 0
    while Threads.cpuTime() - start < .milliseconds(15) {
      for _ in 0..<16 {
        sink &+= clab_work_unit(units, Int32(steps))
        units += 1
      }
    }
    let elapsed = Double((Threads.cpuTime() - start).nanoseconds)
    // The sum is used so the calibration itself is real work too.
    return elapsed / Double(units) + (sink == 42 ? 1e-9 : 0)
  }

  // why: worker threads write their own slot of each buffer; the parent reads after joining.
  final class Buffers: @unchecked Sendable {
    let slices: UnsafeMutablePointer<clab_slice>
    let results: UnsafeMutablePointer<clab_work_result>
    init(_ k: Int) {
      slices = .allocate(capacity: k * ParallelExperiment.sliceCapacity)
      results = .allocate(capacity: k)
      results.initialize(repeating: clab_work_result(), count: k)
    }
    deinit {
      slices.deallocate()
      results.deallocate()
    }
  }

  static func split(_ total: UInt64, _ k: Int) -> [Range<UInt64>] {
    (0..<k).map { i in (total * UInt64(i) / UInt64(k))..<(total * UInt64(i + 1) / UInt64(k)) }
  }

  static func tracks(_ b: Buffers, _ k: Int, labels: (Int) -> String) -> [WorkerTrack] {
    (0..<k).map { i in
      let base = b.slices + i * sliceCapacity
      let n = Int(b.results[i].slices)
      return WorkerTrack(label: labels(i), tid: b.results[i].tid, slices: (0..<n).map { Slice(base[$0]) })
    }
  }

  static func runThreads(_ k: Int, total: UInt64, perSlice: Int, gil: Bool) throws -> Run {
    let b = Buffers(k)
    let lock = gil ? try SyncMemory<clab_gil>.map(shared: false) : nil
    if let lock { try PthreadPrimitives.initMutex(lock.field(\.mutex)) }
    defer {
      if let lock {
        PthreadPrimitives.destroy(lock.field(\.mutex))
        lock.unmap()
      }
    }
    let ranges = split(total, k)
    let start = MonotonicClock.nanoseconds()
    var threads = WorkerThreads()
    defer { threads.joinAll() }
    for i in 0..<k {
      let range = ranges[i]
      try threads.start("worker \(i + 1)") {
        clab_work_range(
          range.lowerBound, range.upperBound, Int32(steps), Int32(perSlice), lock?.pointer,
          b.slices + i * sliceCapacity, Int32(sliceCapacity), b.results + i)
      }
    }
    threads.joinAll()
    let wall = MonotonicClock.nanoseconds() - start
    Threads.waitUntilGone((0..<k).map { b.results[$0].tid })
    try Interrupt.check()
    let cpu = (0..<k).reduce(UInt64(0)) { $0 + b.results[$1].cpu_ns }
    let sum = (0..<k).reduce(UInt64(0)) { $0 &+ b.results[$1].checksum }
    let handoffs = (0..<k).reduce(0) { $0 + Int(b.results[$1].handoffs) }
    return Run(
      workers: k, wall: wall, cpu: cpu, checksum: sum, tracks: tracks(b, k) { "thread \($0 + 1)" }, pids: [],
      handoffs: handoffs)
  }

  static func runProcesses(_ k: Int, total: UInt64, perSlice: Int, gil: Bool, timeout: Duration) throws -> Run
  {
    let b = Buffers(k)
    let ranges = split(total, k)
    var pids: [Int32] = []
    var fds: [Int32] = []
    var reaped: [Int32: ReapedChild] = [:]
    // Every child is reaped and every pipe closed, whatever happens.
    defer {
      for pid in pids where reaped[pid] == nil { _ = ForkedWorkers.killAndReap(pid) }
      for fd in fds { Descriptors.close(fd) }
    }
    let start = MonotonicClock.nanoseconds()
    for i in 0..<k {
      let p = try Descriptors.pipe()
      fds.append(p.read)
      do {
        pids.append(
          try ForkedWorkers.start(
            units: ranges[i], steps: steps, unitsPerSlice: perSlice, ownLock: gil, reportFD: p.write,
            sliceCapacity: sliceCapacity))
      } catch {
        Descriptors.close(p.write)
        throw error
      }
      Descriptors.close(p.write)
    }
    for i in 0..<k {
      let size = MemoryLayout<clab_work_result>.size
      let got = ForkedWorkers.readExactly(fds[i], into: b.results + i, length: size, timeout: timeout)
      try Interrupt.check()
      guard got == size else {
        throw UsageError(
          "parallel: worker process \(pids[i]) did not report within \(Units.duration(timeout))")
      }
      let n = Int(b.results[i].slices)
      if n > 0 {
        let bytes = n * MemoryLayout<clab_slice>.stride
        _ = ForkedWorkers.readExactly(
          fds[i], into: b.slices + i * sliceCapacity, length: bytes, timeout: .seconds(5))
      }
    }
    for pid in pids {
      if let r = try Wait.wait4(pid, timeout: .seconds(10)) { reaped[pid] = r }
    }
    let wall = MonotonicClock.nanoseconds() - start
    let cpu = reaped.values.reduce(UInt64(0)) {
      $0 + UInt64(max(0, ($1.usage.userTime + $1.usage.systemTime).nanoseconds))
    }
    let sum = (0..<k).reduce(UInt64(0)) { $0 &+ b.results[$1].checksum }
    var t = tracks(b, k) { "process \($0 + 1)" }
    for i in t.indices { t[i].tid = pids[i] }
    return Run(workers: k, wall: wall, cpu: cpu, checksum: sum, tracks: t, pids: pids)
  }

  /// 1, 2, 4, … below n, then n.
  static func counts(upTo n: Int) -> [Int] {
    var counts = [1]
    var c = 2
    while c < n {
      counts.append(c)
      c *= 2
    }
    if n > 1 { counts.append(n) }
    return counts
  }

  static func run(workers n: Int, processes: Bool, workMS: Int, gil: Bool, session: Session) throws -> Result
  {
    let perUnit = calibrate()
    let total = UInt64(max(1, Double(workMS) * 1e6 / perUnit))
    // A slice is one switch interval of work (5 ms, CPython's default).
    let perSlice = max(1, Int(Double(switchInterval.nanoseconds) / perUnit))
    let counts = counts(upTo: n)
    var runs: [Run] = []
    for (i, k) in counts.enumerated() {
      session.progress("parallel", fraction: Double(i) / Double(counts.count))
      try Interrupt.check()
      let timeout = Duration.milliseconds(Int64(workMS) * 20 + 10_000)
      let machineBefore = MachineCPU.sample()
      var run =
        processes
        ? try runProcesses(k, total: total, perSlice: perSlice, gil: gil, timeout: timeout)
        : try runThreads(k, total: total, perSlice: perSlice, gil: gil)
      if let a = machineBefore, let b = MachineCPU.sample() {
        let others = (b.busy - a.busy).seconds - Double(run.cpu) / 1e9
        run.othersCores = max(0, others / max(1e-9, Double(run.wall) / 1e9))
      }
      runs.append(run)
    }
    session.progressDone()
    return Result(
      runs: runs, kind: processes ? "process" : "thread", processes: processes, gil: gil, workMS: workMS,
      units: total, perUnit: perUnit, onlineCPUs: Threads.onlineCPUs, allowedCPUs: Threads.allowedCPUs())
  }

  /// Nanoseconds during which slices of two or more workers were open at once
  /// on different CPUs (each slice carries the CPU it ended on).
  static func simultaneousOnDifferentCPUs(_ tracks: [WorkerTrack]) -> UInt64 {
    var events: [(time: UInt64, open: Bool, cpu: Int)] = []
    for t in tracks {
      for s in t.slices where s.end > s.start {
        events.append((s.start, true, s.cpu))
        events.append((s.end, false, s.cpu))
      }
    }
    events.sort { $0.time != $1.time ? $0.time < $1.time : !$0.open && $1.open }
    var openOn: [Int: Int] = [:]
    var total: UInt64 = 0
    var last: UInt64 = 0
    for e in events {
      if openOn.values.filter({ $0 > 0 }).count >= 2 { total += e.time - last }
      openOn[e.cpu, default: 0] += e.open ? 1 : -1
      last = e.time
    }
    return total
  }
}
