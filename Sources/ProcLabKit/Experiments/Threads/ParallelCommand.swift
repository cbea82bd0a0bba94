import CLab
import Glibc

/// `parallel`: a fixed amount of CPU-bound work split over 1…N workers, as
/// threads or as processes, with or without a global lock (as with a GIL).
enum ParallelCommand {
  static let steps = 2000
  static let sliceCapacity = 96

  static let command = Command(
    name: "parallel", area: .threads,
    summary: "CPU-bound work over 1…N threads or processes: wall time, CPU time, speedup; --gil",
    usage: "parallel [--threads N | --processes N] [--work MS] [--gil]",
    options: [
      .init(
        "--threads", value: "N", "split the work over up to N threads (1…64, default: CPU count, at least 2)"),
      .init("--processes", value: "N", "split the work over up to N forked processes (1…64)"),
      .init(
        "--work", value: "MS", "total work, as milliseconds of one core's computing (10…10000, default 400)"),
      .init("--gil", "a worker must hold one global lock while it computes (one lock per process)"),
    ],
    examples: [
      "parallel", "parallel --gil", "parallel --processes 2 --gil", "parallel --threads 4 --work 800",
    ]
  ) { args, session in
    try args.expectPositionals(atMost: 0)
    try args.exclusive("--threads", "--processes")
    let cores = Threads.onlineCPUs
    let processes = args.flag("--processes")
    let n =
      processes
      ? try args.int("--processes", default: 2, in: 1...64)
      : try args.int("--threads", default: max(2, cores), in: 1...64)
    let work = try args.int("--work", default: 400, in: 10...10_000)
    return try run(workers: n, processes: processes, workMS: work, gil: args.flag("--gil"), session: session)
  }

  struct Run {
    var workers: Int
    var wall: UInt64
    var cpu: UInt64
    var checksum: UInt64
    var tracks: [WorkerTrack]
    var pids: [Int32]
    /// Cores that other programs kept busy during the run, on average (/proc/stat minus our own CPU time).
    var othersCores: Double = 0
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

  final class Buffers: @unchecked Sendable {
    let slices: UnsafeMutablePointer<clab_slice>
    let results: UnsafeMutablePointer<clab_work_result>
    init(_ k: Int) {
      slices = .allocate(capacity: k * ParallelCommand.sliceCapacity)
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

  static func runThreads(_ k: Int, total: UInt64, perSlice: Int, gil: PthreadMutex?) throws -> Run {
    let b = Buffers(k)
    let ranges = split(total, k)
    let start = MonotonicClock.nanoseconds()
    var handles: [Threads.Handle] = []
    defer { Threads.joinAll(handles) }
    for i in 0..<k {
      let range = ranges[i]
      handles.append(
        try Threads.spawn("worker \(i + 1)") {
          clab_work_range(
            range.lowerBound, range.upperBound, Int32(steps), Int32(perSlice), gil?.pointer,
            b.slices + i * sliceCapacity, Int32(sliceCapacity), b.results + i)
        })
    }
    Threads.joinAll(handles)
    handles = []
    let wall = MonotonicClock.nanoseconds() - start
    let tids = (0..<k).map { b.results[$0].tid }
    Threads.waitUntilGone(tids)
    try Interrupt.check()
    let cpu = (0..<k).reduce(UInt64(0)) { $0 + b.results[$1].cpu_ns }
    let sum = (0..<k).reduce(UInt64(0)) { $0 &+ b.results[$1].checksum }
    return Run(
      workers: k, wall: wall, cpu: cpu, checksum: sum, tracks: tracks(b, k) { "thread \($0 + 1)" }, pids: [])
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

  static func run(workers n: Int, processes: Bool, workMS: Int, gil: Bool, session: Session) throws -> Report
  {
    let r = Report()
    let perUnit = calibrate()
    let total = UInt64(max(1, Double(workMS) * 1e6 / perUnit))
    // A slice is about 5 ms of work: as long as CPython's default switch interval.
    let perSlice = max(1, Int(5e6 / perUnit))
    var counts = [1]
    var c = 2
    while c < n {
      counts.append(c)
      c *= 2
    }
    if n > 1 { counts.append(n) }
    let kind = processes ? "process" : "thread"
    let kinds = processes ? "processes" : "threads"
    let gilLock = gil && !processes ? PthreadMutex() : nil
    var runs: [Run] = []
    for (i, k) in counts.enumerated() {
      session.progress("parallel", fraction: Double(i) / Double(counts.count))
      try Interrupt.check()
      let timeout = Duration.milliseconds(Int64(workMS) * 20 + 10_000)
      let machineBefore = MachineCPU.sample()
      var run =
        processes
        ? try runProcesses(k, total: total, perSlice: perSlice, gil: gil, timeout: timeout)
        : try runThreads(k, total: total, perSlice: perSlice, gil: gilLock)
      if let a = machineBefore, let b = MachineCPU.sample() {
        let others = (b.busy - a.busy).seconds - Double(run.cpu) / 1e9
        run.othersCores = max(0, others / max(1e-9, Double(run.wall) / 1e9))
      }
      runs.append(run)
    }
    session.progressDone()
    let base = runs[0]
    let cores = Threads.onlineCPUs

    r.line(
      "\(r.count(Int(total))) units of CPU work (about \(r.count(workMS)) ms on one core; \(r.seconds(perUnit / 1e9)) each), split over 1…\(n) \(n == 1 ? kind : kinds)\(gil ? (processes ? ", each process holding its own lock" : ", each holding one global lock while computing") : "") on \(r.count(cores)) CPUs"
    )
    var t = Table(
      [kinds, "wall time", "CPU time", "speedup", "CPUs used", "other programs"],
      rightAligned: [0, 1, 2, 3, 5])
    var chart = BarChart(width: 24)
    for run in runs {
      let speedup = Double(base.wall) / Double(max(1, run.wall))
      let cpus = Set(run.tracks.flatMap(\.cpus)).sorted().map(String.init).joined(separator: ",")
      t.add([
        "\(run.workers)", r.seconds(Double(run.wall) / 1e9), r.seconds(Double(run.cpu) / 1e9),
        r.note(Units.ratio(speedup), .float), r.note(cpus, .text), "\(r.number(run.othersCores)) cores",
      ])
      chart.add(
        "\(run.workers) \(run.workers == 1 ? kind : kinds)", Double(run.wall),
        Units.duration(seconds: Double(run.wall) / 1e9))
    }
    r.lines(t.lines)
    r.line("wall time:")
    r.lines(chart.lines)
    let last = runs[runs.count - 1]
    if last.workers > 1 {
      r.line(
        "who ran when with \(last.workers) \(kinds)\(gil && !processes ? " (drawn only while holding the global lock)" : ""):"
      )
      r.lines(
        ThreadWork.timeline(
          last.tracks, r: r, idleLegend: gil && !processes ? "waiting for the lock" : "not computing",
          processes: processes))
    }
    let checksumsEqual = Set(runs.map(\.checksum)).count == 1
    r.line(
      "checksum \(r.note("0x" + String(base.checksum, radix: 16), .word)) \(checksumsEqual ? "in every run: the same work was really done each time" : "DIFFERED between runs")"
    )

    let speedup = Double(base.wall) / Double(max(1, last.wall))
    r.fact("kind", kind)
    r.fact("workers", n)
    r.fact("gil", gil)
    r.fact("cores", cores)
    r.fact("units", Int(total))
    r.fact("checksums_equal", checksumsEqual)
    r.fact("speedup", speedup)
    r.fact("baseline_cpu_share", Double(base.cpu) / Double(max(1, base.wall)))
    r.fact("others_cores", last.othersCores)
    r.fact(
      "runs",
      JSON.array(
        runs.map { run in
          var o = JSONObject()
          o["workers"] = .int(run.workers)
          o["wall_ns"] = .int(Int(run.wall))
          o["cpu_ns"] = .int(Int(run.cpu))
          o["speedup"] = .double(Double(base.wall) / Double(max(1, run.wall)))
          o["others_cores"] = .double(run.othersCores)
          o["ids"] = .array(run.tracks.map { .int(Int($0.tid)) })
          o["cpus"] = .array(run.tracks.map { .array($0.cpus.map { .int($0) }) })
          return .object(o)
        }))
    explain(runs, kind: kind, processes: processes, gil: gil, cores: cores, r: r)
    return r
  }

  static func explain(_ runs: [Run], kind: String, processes: Bool, gil: Bool, cores: Int, r: Report) {
    let base = runs[0]
    let last = runs[runs.count - 1]
    let k = last.workers
    let s = Double(base.wall) / Double(max(1, last.wall))
    let cpuRatio = Double(last.cpu) / Double(max(1, last.wall))
    var parts: [String] = []
    let plural = processes ? "processes" : "threads"
    if k == 1 {
      parts.append("One worker: nothing to compare. Try --\(plural) 2.")
    } else if cores == 1 {
      parts.append(
        "This machine has one CPU, so \(k) \(plural) can only take turns on it: \(Units.ratio(s)) is no real speedup. With more cores they would run at the same instant."
      )
    } else if gil && !processes {
      parts.append(
        "With one global lock only the thread holding it computes: \(k) threads were \(Units.ratio(s)) as fast as one, and on average only \(Units.fixed(cpuRatio, digits: 1)) cores were busy, however many threads there were. That is what a global interpreter lock does, and why Python and Ruby advise processes (multiprocessing) for CPU-bound work: each process has its own interpreter and its own lock."
      )
    } else {
      let expected = Double(min(k, cores))
      parts.append(
        s >= 1.3
          ? "\(k) \(plural) finished the same work \(Units.ratio(s)) faster than one: they computed at the same instant on different CPUs (\(Units.fixed(cpuRatio, digits: 1)) cores busy on average), while the total CPU time stayed about the same."
          : "Only \(Units.ratio(s)) faster with \(k) \(plural), less than the \(Units.ratio(expected)) the \(cores) cores allow."
      )
      if s < expected * 0.8 && last.othersCores > 0.3 {
        parts.append(
          "Other programs kept \(Units.fixed(last.othersCores, digits: 1)) of the \(cores) cores busy during the \(k)-worker run, so the workers could not \(s >= 1.3 ? "always " : "")run at once. The scheduler shares the cores among every runnable thread on the machine, so the workers took turns with those programs. Run it again when the machine is quieter."
        )
      }
      if gil {
        parts.append("Each process had its own lock, so the locks never made one process wait for another.")
      }
    }
    if !processes {
      parts.append(
        gil
          ? "C and Swift have no such lock: their threads run CPU-bound work on every core (run 'parallel' without --gil)."
          : "C and Swift threads need no processes for this: there is no global lock, and threads share memory for free."
      )
    }
    r.explain(
      parts.joined(separator: " "),
      more:
        "Wall time is how long you waited; CPU time is the sum of what every worker computed. Splitting CPU-bound work helps only up to the number of free cores; beyond that workers take turns. Async I/O does not help CPU-bound work at all: it lets one thread wait for many things, but computing still needs a core. Threads start faster than processes (no new address space) and share the heap; processes isolate memory and, in runtimes with a global lock, each brings its own lock."
    )
  }
}
