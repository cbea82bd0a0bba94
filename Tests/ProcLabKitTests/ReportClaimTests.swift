import XCTest

@testable import ProcLabKit

/// A claim drawn from a measurement is made only when the measurement supports it: each test
/// feeds a report numbers that do not support a claim (the claim must be absent) and numbers
/// that do (the claim must be there).
final class ReportClaimTests: XCTestCase {
  /// Everything a report explains, short and full, as one string.
  func explained(_ r: Report) -> String {
    (r.explanation.short + r.explanation.full).joined(separator: " ")
  }

  // MARK: race

  func track(_ tid: Int32, _ slices: [(UInt64, UInt64, Int)]) -> WorkerTrack {
    WorkerTrack(label: "t", tid: tid, slices: slices.map { Slice(start: $0.0, end: $0.1, cpu: $0.2) })
  }

  /// Two threads one after the other on CPU 0, or side by side on CPUs 0 and 1.
  func raceTracks(together: Bool) -> [WorkerTrack] {
    together
      ? [track(1, [(0, 1_000_000, 0)]), track(2, [(0, 1_000_000, 1)])]
      : [track(1, [(0, 1_000_000, 0)]), track(2, [(1_000_000, 2_000_000, 0)])]
  }

  func raceResult(_ v: RaceCommand.Variant, wall: UInt64, lost: Int = 0, together: Bool = false)
    -> RaceExperiment.Result
  {
    RaceExperiment.Result(
      variant: v, got: 2_000_000 - lost, expected: 2_000_000, tracks: raceTracks(together: together),
      wall: wall)
  }

  func testRaceSaysCorrectnessCostsTimeOnlyForAVariantThatTookLonger() {
    let fasterAtomic = explained(
      RaceReport.render(
        [
          raceResult(.unsafe, wall: 10_000_000), raceResult(.mutex, wall: 40_000_000),
          raceResult(.atomic, wall: 6_000_000),
        ], threads: 2, iterations: 1_000_000))
    XCTAssertTrue(fasterAtomic.contains("mutex took 4.0×"), fasterAtomic)
    XCTAssertFalse(fasterAtomic.contains("atomic took 0.6× as long."), fasterAtomic)
    XCTAssertTrue(
      fasterAtomic.contains(
        "atomic took 0.6× as long as the unprotected loop: this run does not show it costing time"),
      fasterAtomic)
    XCTAssertFalse(fasterAtomic.contains("Correctness costs time"), fasterAtomic)

    let bothFaster = explained(
      RaceReport.render(
        [
          raceResult(.unsafe, wall: 10_000_000), raceResult(.mutex, wall: 9_000_000),
          raceResult(.atomic, wall: 6_000_000),
        ], threads: 2, iterations: 1_000_000))
    XCTAssertFalse(bothFaster.contains("Correctness cost"), bothFaster)
    XCTAssertTrue(bothFaster.contains("does not show them costing time"), bothFaster)
  }

  func testRaceSaysTheCacheLineMovedOnlyWhenTheThreadsRanOnTwoCPUsAtOnce() {
    let oneCPU = explained(
      RaceReport.render(
        [
          raceResult(.unsafe, wall: 10_000_000, lost: 5), raceResult(.mutex, wall: 40_000_000),
          raceResult(.atomic, wall: 20_000_000),
        ], threads: 2, iterations: 1_000_000))
    XCTAssertFalse(oneCPU.contains("cache line also moved"), oneCPU)
    XCTAssertFalse(oneCPU.contains("take turns owning"), oneCPU)
    XCTAssertFalse(oneCPU.contains("at the same instant on different CPUs for"), oneCPU)
    XCTAssertTrue(oneCPU.contains("this run cannot show the cache line moving between cores"), oneCPU)

    let twoCPUs = explained(
      RaceReport.render(
        [
          raceResult(.unsafe, wall: 10_000_000, lost: 5, together: true),
          raceResult(.mutex, wall: 40_000_000, together: true),
          raceResult(.atomic, wall: 20_000_000, together: true),
        ],
        threads: 2, iterations: 1_000_000))
    XCTAssertTrue(
      twoCPUs.contains("The mutex and atomic threads ran at the same instant on different CPUs"), twoCPUs)
    XCTAssertFalse(twoCPUs.contains("cannot show the cache line"), twoCPUs)
    XCTAssertTrue(twoCPUs.contains("at the same instant on different CPUs for at least"), twoCPUs)
  }

  // MARK: counter

  func bench(
    _ mode: CounterBench.Mode, threads: Int, wallMs: Double, increments: Int = 1_000_000,
    together: Double = 0.9,
    padded: Bool = true
  ) -> CounterBench.Result {
    CounterBench.Result(
      mode: mode, threads: threads, padded: padded, increments: increments,
      seenBeforeFlush: threads * increments, total: threads * increments, wall: Int(wallMs * 1e6),
      slowestThread: Int(wallMs * 1e6), addresses: [], together: together)
  }

  func counter(
    _ mode: CounterCommand.Mode, _ runs: [CounterBench.Result], cpus: Int = 2,
    packed: CounterBench.Result? = nil, padded: CounterBench.Result? = nil
  ) -> String {
    explained(
      CounterReport.render(
        CounterExperiment.Result(
          mode: mode, threshold: 1024, increments: 1_000_000, runs: runs, packed: packed, padded: padded,
          cpus: cpus, lineSize: 64)))
  }

  func testCounterSaysThreadsScaleOnlyWithinWhatTheCPUsAllow() {
    // 1 → 2 threads at the same time each: twice the throughput, on 2 CPUs.
    let scales = counter(
      .perThread, [bench(.perThread, threads: 1, wallMs: 2), bench(.perThread, threads: 2, wallMs: 2.2)])
    XCTAssertTrue(scales.contains("so more threads counted faster"), scales)
    // 0.6×: slower with more threads.
    let slower = counter(
      .perThread, [bench(.perThread, threads: 1, wallMs: 2), bench(.perThread, threads: 2, wallMs: 6.6)])
    XCTAssertFalse(slower.contains("counted faster ("), slower)
    XCTAssertFalse(slower.contains("scale"), slower)
    XCTAssertTrue(slower.contains("too short or too disturbed to judge"), slower)
    // 5×, impossible on 2 CPUs: a disturbed 1-thread run, not parallelism.
    let impossible = counter(
      .sloppy, [bench(.sloppy, threads: 1, wallMs: 20), bench(.sloppy, threads: 2, wallMs: 8)])
    XCTAssertFalse(impossible.contains("counted faster"), impossible)
    XCTAssertTrue(impossible.contains("more than the 2 CPUs this process may use can give"), impossible)
    // One CPU: 2 threads can at best take turns.
    let oneCPU = counter(
      .perThread, [bench(.perThread, threads: 1, wallMs: 2), bench(.perThread, threads: 2, wallMs: 4)],
      cpus: 1)
    XCTAssertFalse(oneCPU.contains("counted faster ("), oneCPU)
    XCTAssertTrue(oneCPU.contains("the threads can only take turns"), oneCPU)
  }

  func testCounterOverviewCallsAWayFasterOnlyWhenItWas() {
    let usual = counter(
      .overview,
      [
        bench(.exact, threads: 2, wallMs: 27), bench(.sloppy, threads: 2, wallMs: 3),
        bench(.perThread, threads: 2, wallMs: 1),
      ])
    XCTAssertTrue(
      usual.contains("the sloppy one was 9.0× as fast and the per-thread one was 27× as fast"), usual)
    // The audit's run: per-thread 106 ms against an exact 21 ms.
    let upside = counter(
      .overview,
      [
        bench(.exact, threads: 2, wallMs: 21), bench(.sloppy, threads: 2, wallMs: 7.15),
        bench(.perThread, threads: 2, wallMs: 106),
      ])
    XCTAssertTrue(upside.contains("the sloppy one was 2.9× as fast."), upside)
    XCTAssertFalse(upside.contains("per-thread one was"), upside)
    XCTAssertTrue(upside.contains("does not show the per-thread counter faster"), upside)
    XCTAssertFalse(upside.contains("not only the flushes"), upside)
    // Round-3 audit: sloppy slower than per-thread is not put down to the flushes alone.
    XCTAssertTrue(
      usual.contains("the sloppy loop also compares its local count with S at every increment"), usual)
    XCTAssertTrue(upside.contains("--increments 10000000 would show it"), upside)
  }

  func testCounterNamesFalseSharingOnlyWhenPackedWasSlowerWhileTheThreadsOverlapped() {
    let runs = [bench(.perThread, threads: 1, wallMs: 10), bench(.perThread, threads: 2, wallMs: 11)]
    let shown = counter(
      .perThread, runs, packed: bench(.perThread, threads: 2, wallMs: 30, together: 0.9, padded: false),
      padded: bench(.perThread, threads: 2, wallMs: 15, together: 0.9))
    XCTAssertTrue(shown.contains("False sharing: "), shown)
    let apart = counter(
      .perThread, runs, packed: bench(.perThread, threads: 2, wallMs: 43, together: 0.29, padded: false),
      padded: bench(.perThread, threads: 2, wallMs: 28.6, together: 0.66))
    XCTAssertFalse(apart.contains("False sharing"), apart)
    XCTAssertTrue(apart.contains("cannot tell false sharing from other load"), apart)
    let same = counter(
      .perThread, runs, packed: bench(.perThread, threads: 2, wallMs: 18.2, together: 0.66, padded: false),
      padded: bench(.perThread, threads: 2, wallMs: 18.4, together: 0.77))
    XCTAssertFalse(same.contains("markedly slower"), same)
    XCTAssertTrue(same.contains("this run does not show false sharing"), same)
  }

  func testCounterSaysTheLineSizeTheKernelReportsAndHedgesThe128Bytes() {
    XCTAssertTrue(CounterReport.more(lineSize: 64).contains("lines of 64 bytes on this machine"))
    XCTAssertFalse(CounterReport.more(lineSize: 64).contains("128 bytes here, because CPUs"))
    XCTAssertTrue(CounterReport.more(lineSize: 64).contains("some CPUs (Intel's"))
    // The kernel's figure is the real one on this machine.
    let line = MachineCPU.cacheLineSize()
    XCTAssertNotNil(line)
    XCTAssertEqual(line, Int(sysconf(Int32(_SC_LEVEL1_DCACHE_LINESIZE))))
  }

  // MARK: pipe --interleave

  func testPipeInterleaveCountsCutsAndCutRecordsApart() {
    let run = InterleaveResult(
      record: 262_144, records: 8, writers: [1, 2], bytesRead: 4 << 20, reads: 70, cuts: 44, cutRecords: 9,
      bytesPerLetter: [2 << 20, 2 << 20], statuses: [])
    let text = PipePipelineReport.cutText(run, r: Report())
    XCTAssertEqual(text, "44 cuts by the other writer, in 9 of 16 records")
    XCTAssertFalse(text.contains("44 records"))
    var none = run
    none.cuts = 0
    none.cutRecords = 0
    XCTAssertEqual(PipePipelineReport.cutText(none, r: Report()), "no record cut by the other writer")
  }

  // MARK: cost, the cold column

  func costMeasurement(warmThreadUs: Double, coldThreadUs: Double, faultsCold: Double, faultsWarm: Double)
    -> CostMeasurement
  {
    let ways: [CreationCost.Way] = [.thread, .forkSmall, .forkShell, .spawnTiny, .spawnTrue]
    func samples(_ us: Double) -> Samples {
      var s = Samples()
      for _ in 0..<10 { s.add(us * 1000) }
      return s
    }
    let warmUs: [CreationCost.Way: Double] = [
      .thread: warmThreadUs, .forkSmall: 130, .forkShell: 300, .spawnTiny: 130, .spawnTrue: 550,
    ]
    var cold = warmUs.mapValues { samples($0) }
    cold[.thread] = samples(coldThreadUs)
    return CostMeasurement(
      ways: ways, warm: warmUs.mapValues { samples($0) }, cold: cold, iterations: 50, blocks: 2,
      warmupPerBlock: 2, coldRounds: 10, tinySize: 1000, execPath: "/bin/true", forker: SmallForker.Size(),
      forkerPID: 1, elapsed: .seconds(1), threadFaultsWarm: faultsWarm, threadFaultsCold: faultsCold,
      coldThreadAfter: [.spawnTrue, .spawnTiny], coldThreadSinceShellFork: 3)
  }

  func testCostSaysWhatCameBeforeAColdThreadAndNeverThatItRanRightAfterAFork() {
    let text = CostReport.coldSentence(
      costMeasurement(warmThreadUs: 12, coldThreadUs: 27, faultsCold: 4.2, faultsWarm: 0.01))
    XCTAssertTrue(
      text.contains("right after a posix_spawn (a fork of this shell at most 3 samples before)"), text)
    XCTAssertFalse(text.contains("runs right after a fork"), text)
    XCTAssertTrue(text.contains("4.2 minor page faults per sample against 0.01"), text)
    XCTAssertTrue(text.contains("this run does not measure"), text)
  }

  func testCostTiesTheColdFigureToFaultsOnlyWhenThereWereExtraFaults() {
    let noFaults = CostReport.coldSentence(
      costMeasurement(warmThreadUs: 12, coldThreadUs: 27, faultsCold: 0.1, faultsWarm: 0.1))
    XCTAssertFalse(noFaults.contains("copy-on-write"), noFaults)
    XCTAssertTrue(noFaults.contains("came without extra page faults"), noFaults)
    let noPenalty = CostReport.coldSentence(
      costMeasurement(warmThreadUs: 12, coldThreadUs: 12.5, faultsCold: 4, faultsWarm: 0.1))
    XCTAssertFalse(noPenalty.contains("copy-on-write"), noPenalty)
    XCTAssertTrue(noPenalty.contains("no cold penalty"), noPenalty)
  }

  // MARK: cost, where the new thread ran

  func placed(same: (count: Int, us: Double), other: (count: Int, us: Double)) -> CostMeasurement {
    var m = costMeasurement(warmThreadUs: 19, coldThreadUs: 33, faultsCold: 4, faultsWarm: 0.1)
    for _ in 0..<same.count { m.threadSameCPU.add(same.us * 1000) }
    for _ in 0..<other.count { m.threadOtherCPU.add(other.us * 1000) }
    return m
  }

  func testCostNamesWhereTheThreadRanOnlyWhenBothPlacesHaveEnoughSamplesAndDiffer() {
    let both = CostReport.placementSentence(placed(same: (200, 19), other: (100, 38))) ?? ""
    XCTAssertTrue(
      both.contains("on its creator's CPU 19.0 µs, on another CPU 38.0 µs (100 of 300 samples)"), both)
    XCTAssertNil(
      CostReport.placementSentence(placed(same: (295, 19), other: (5, 38))), "5 samples support nothing")
    XCTAssertNil(
      CostReport.placementSentence(placed(same: (150, 19), other: (150, 21))), "no real difference")
    XCTAssertNil(CostReport.placementSentence(placed(same: (300, 19), other: (0, 0))))
    let line = CostReport.placementLine(placed(same: (300, 19), other: (0, 0)), r: Report()) ?? ""
    XCTAssertEqual(
      line,
      "  thread: ran on its creator's CPU in 300 of 300 samples (median 19.0 µs), on another CPU in 0 (none)")
  }

  /// The general fact the line rests on: sched_getcpu in the new thread and in its creator tell
  /// where each ran; allowed one CPU, the kernel can put the new thread nowhere else.
  func testAThreadCreatedByACreatorAllowedOneCPURunsOnThatCPU() throws {
    let pin = CPUPin()
    defer { pin.release() }
    guard pin.cpu != nil else { throw XCTSkip("pinning refused: \(pin.failure ?? "?")") }
    let samples = try CreationCost.placedLoop(.thread, count: 50)
    XCTAssertEqual(samples.count, 50)
    XCTAssertEqual(samples.filter(\.otherCPU).count, 0, "a thread inherits its creator's affinity mask")
    XCTAssertTrue(samples.allSatisfy { $0.ns > 0 })
  }

  /// The general claim behind the cold column: after a fork, the parent's first write to each of
  /// its private pages is a page fault, even once the child has gone; without a fork, none is.
  func testAfterAForkTheParentsFirstWriteToEachPageFaultsEvenOnceTheChildHasGone() throws {
    let pages = 64
    let size = pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 4096)
    defer { buffer.deallocate() }
    // RUSAGE_THREAD (1): this thread only, not the test runner's other threads.
    func faultsWritingEveryPage() -> Int {
      var before = rusage()
      getrusage(__rusage_who_t(1), &before)
      for p in stride(from: 0, to: size, by: Int(sysconf(Int32(_SC_PAGESIZE)))) {
        buffer.storeBytes(of: UInt8(truncatingIfNeeded: p), toByteOffset: p, as: UInt8.self)
      }
      var after = rusage()
      getrusage(__rusage_who_t(1), &after)
      return after.ru_minflt - before.ru_minflt
    }
    _ = faultsWritingEveryPage()  // the pages are now resident and writable
    XCTAssertLessThan(faultsWritingEveryPage(), pages / 4, "written pages do not fault again")
    _ = try CreationCost.loop(.fork, count: 1)  // fork, the child _exits, waitpid reaps it
    XCTAssertGreaterThanOrEqual(faultsWritingEveryPage(), pages, "every page faulted once after the fork")
  }

  // MARK: lock --impl

  func lockResult(_ impl: LockBench.Implementation, turns: Int, cpuMs: Double) -> LockBench.Result {
    let worker = LockBench.Worker(
      tid: 1, turns: turns / 8, longestWait: 1_000_000, totalWait: 2_000_000, cpu: Int(cpuMs * 1e6 / 8),
      wall: 50_000_000, voluntary: 10, involuntary: 10)
    return LockBench.Result(
      implementation: impl, fence: true, workers: Array(repeating: worker, count: 8), violations: 0,
      turns: turns,
      counter: turns, wall: 50_000_000)
  }

  func lockExplained(spinnerCpuMs: Double, mutexCpuMs: Double) -> String {
    let r = Report()
    LockImplReport.explain(
      [
        lockResult(.tas, turns: 10_000, cpuMs: spinnerCpuMs),
        lockResult(.mutex, turns: 10_000, cpuMs: mutexCpuMs),
      ],
      threads: 8, r: r, cpus: 2)
    return explained(r)
  }

  func testLockSaysSpinnersBurnTheirSliceOnlyWhenTheySpentMoreCPUPerTurn() {
    let spinningCostMore = lockExplained(spinnerCpuMs: 90, mutexCpuMs: 20)
    XCTAssertTrue(spinningCostMore.contains("a spinner burns its time slice"), spinningCostMore)
    let spinningCheaper = lockExplained(spinnerCpuMs: 20, mutexCpuMs: 20)
    XCTAssertFalse(spinningCheaper.contains("a spinner burns its time slice"), spinningCheaper)
    XCTAssertTrue(
      spinningCheaper.contains("This run does not show spinning costing more CPU per turn"), spinningCheaper)
  }

  /// Round-3 trial: "less traffic than plain test-and-set" was printed whatever was measured.
  func testLockSaysTestAndTestAndSetPaidOffOnlyWhenItsTurnsWereQuicker() {
    func said(ttasTurns: Int) -> String {
      let r = Report()
      LockImplReport.explain(
        [lockResult(.tas, turns: 10_000, cpuMs: 90), lockResult(.ttas, turns: ttasTurns, cpuMs: 90)],
        threads: 8, r: r, cpus: 2)
      return explained(r)
    }
    let same = said(ttasTurns: 10_100)
    XCTAssertTrue(same.contains("here that did not show ("), same)
    let quicker = said(ttasTurns: 20_000)
    XCTAssertTrue(quicker.contains("here it was quicker: 2.50 µs a turn against 5.00 µs."), quicker)
    XCTAssertFalse(said(ttasTurns: 10_100).contains("less traffic"))
  }

  func testLockSaysPlainLoadsAndStoresCanBuildALockWithFences() {
    let text = lockExplained(spinnerCpuMs: 90, mutexCpuMs: 20)
    XCTAssertFalse(text.contains("Every lock needs an instruction"), text)
    XCTAssertTrue(
      text.contains("only with fences on today's CPUs (Peterson's algorithm needs a full fence on x86"), text)
  }

  // MARK: zombies, explain

  /// What `explain zombie` and `ps` say of a zombie, on a real one: /proc/PID/status still says
  /// `Threads: 1`, its memory is gone (no VmRSS line) and it holds no descriptor.
  func testAZombieKeepsOneTaskButNoMemoryAndNoDescriptors() throws {
    let pid = try Fork.sleeper(hold: .milliseconds(1))
    defer { Children.killAndReap(pid) }
    XCTAssertNotNil(try Wait.endedWithoutReaping(pid, timeout: .seconds(10)))
    let status = try XCTUnwrap(ProcFS.read("/proc/\(pid)/status"))
    XCTAssertTrue(status.contains("State:\tZ"), status)
    XCTAssertTrue(status.contains("Threads:\t1\n"), status)
    XCTAssertFalse(status.contains("VmRSS"), status)
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd"), [])
    let zombie = Topics.text(for: "zombie")!.joined()
    XCTAssertFalse(zombie.contains("process table,"), zombie)
    XCTAssertTrue(zombie.contains("task_struct"), zombie)
  }

  func testExplainThreadBoundsParallelismByTheAffinityMask() {
    let thread = Topics.text(for: "thread")!.joined()
    XCTAssertFalse(thread.contains("so they run at the same time on several cores"), thread)
    XCTAssertTrue(thread.contains("affinity mask"), thread)
  }

  // MARK: CPU split

  func testACPUSideNoTickCaughtIsNotZeroNanoseconds() {
    let split = ProcessWords.split(user: .milliseconds(310), system: .zero)
    XCTAssertFalse(split.contains("0 ns"), split)
    XCTAssertTrue(split.contains("sys not caught by any clock tick"), split)
    let share = ProcessWords.kernelShare(user: .milliseconds(310), system: .zero)
    XCTAssertFalse(share.contains("0.0%"), share)
    XCTAssertTrue(share.contains("little kernel time, not none"), share)
    XCTAssertEqual(
      ProcessWords.kernelShare(user: .milliseconds(75), system: .milliseconds(25)),
      "25.0% of it in the kernel")
    XCTAssertEqual(
      ProcessWords.split(user: .milliseconds(75), system: .milliseconds(25)), "75.0 ms user + 25.0 ms sys CPU"
    )
  }

  // MARK: lock, the longest wait

  func testLockCallsItsLongestWaitASingleWaitNotTheTotalInTheTable() {
    let ms: UInt64 = 1_000_000
    // t1 waits 36.7 ms, then 35.1 ms: 71.8 ms in the "waited" column, 36.7 ms the longest single wait.
    let t1 = SyncWorker(
      tid: 11, writer: false,
      turns: [
        SyncTurn(
          requested: 0, acquired: 36_700_000, released: 76_700_000, waitSwitches: 1, refusals: 0, inside: 1),
        SyncTurn(
          requested: 80 * ms, acquired: 115_100_000, released: 155_100_000, waitSwitches: 1, refusals: 0,
          inside: 1),
      ], voluntary: 2, involuntary: 0)
    let t2 = SyncWorker(
      tid: 12, writer: false,
      turns: [
        SyncTurn(requested: 0, acquired: 0, released: 36_700_000, waitSwitches: 0, refusals: 0, inside: 1)
      ],
      voluntary: 0, involuntary: 0)
    let result = SyncTurnsResult(
      workers: [t1, t2], maxInside: 1, maxReaders: 0, writerOverlaps: 0, interrupted: false, timedOut: false,
      childrenReaped: 0, start: 0, end: 155 * ms)
    let text = explained(
      LockTurnsReport.render(
        result, threads: 2, hold: .milliseconds(40), rounds: 1, tryLock: false, processes: false))
    XCTAssertTrue(text.contains("longest single wait 36.7 ms"), text)
    XCTAssertFalse(text.contains("(longest 36.7 ms)"), text)
  }

  // MARK: bugs --atomicity

  func testBugsDoesNotReportZeroChecksAsACountWhenTheCrashCameBeforeAnyReport() {
    let run = BugsExperiment.Run(
      labPID: 100, status: .signaled(SIGSEGV, coreDumped: false), elapsed: .milliseconds(1), progress: nil,
      result: nil)
    let early = BugsReport.crashText(run, checks: 0, toggles: 0, elapsed: .microseconds(112))
    XCTAssertFalse(early.contains("counted 0 checks"), early)
    XCTAssertTrue(early.contains("before its first progress report"), early)
    let later = BugsReport.crashText(
      run, checks: 95_558, toggles: 4_576_842, elapsed: .milliseconds(33))
    XCTAssertTrue(later.contains("counted 95,558 checks and 4,576,842 clears"), later)
  }

  func testBugsNamesNoThreadZero() {
    var o = BugsCommand.Options()
    o.bug = .atomicity
    let run = BugsExperiment.Run(
      labPID: 100, status: .signaled(SIGSEGV, coreDumped: false), elapsed: .milliseconds(1), progress: nil,
      result: nil)
    let first = BugsReport.render(run, options: o).lines.first ?? ""
    XCTAssertFalse(first.contains("thread 0"), first)
  }

  // MARK: pipe, the bulk rate

  func testPipeExplainsTheMedianRateAndCallsARoundTripWakingOnlyWhenCopyingIsSmall() {
    let mib = Double(1 << 20)
    let text = PipeCommand.bulkSentence(
      bytes: 1 << 20, rates: [1700 * mib, 48 * mib, 1173 * mib, 1554 * mib, 148 * mib],
      roundTrip: .microseconds(7), message: 64)
    XCTAssertTrue(text.contains("the median rate was 1173 MiB/s (48–1700)"), text)
    XCTAssertTrue(text.contains("is mostly waking the sleeping reader twice"), text)
    // A round trip hardly longer than copying its bytes at the bulk rate: no claim about waking.
    let slow = PipeCommand.bulkSentence(
      bytes: 1 << 20, rates: [10 * mib], roundTrip: .microseconds(20), message: 64)
    XCTAssertFalse(slow.contains("mostly waking"), slow)
    XCTAssertTrue(slow.contains("this run does not show what dominates it"), slow)
  }

  // MARK: signal --merge

  func testSignalMergeSaysARealTimeSignalIsQueuedBesidesItsBit() {
    let text = SignalDeliveryReport.mergeSentence(
      standard: "SIGUSR1", sent: 5, standardDelivered: 1, realtimeDelivered: 5, inOrder: true,
      order: [1, 2, 3, 4, 5])
    XCTAssertTrue(text.contains("so 5 sends of SIGUSR1 gave 1 delivery"), text)
    XCTAssertTrue(text.contains("queued besides its bit"), text)
    // Two deliveries (the child unblocked in between, say): no "changes nothing ... gave 1".
    let two = SignalDeliveryReport.mergeSentence(
      standard: "SIGUSR1", sent: 5, standardDelivered: 2, realtimeDelivered: 5, inOrder: true,
      order: [1, 2, 3, 4, 5])
    XCTAssertFalse(two.contains("changes nothing"), two)
    XCTAssertTrue(two.contains("gave 2 deliveries"), two)
  }

  // MARK: parallel

  /// A run of `workers` workers, each with turns of `turnMs` back to back on CPU `cpu` (or CPUs
  /// 0 and 1 side by side), lasting `wallMs`.
  func parallelRun(workers: Int, wallMs: Double, cpuMs: Double, turnMs: Double, sideBySide: Bool = false)
    -> ParallelExperiment.Run
  {
    let wall = UInt64(wallMs * 1e6)
    let turn = UInt64(turnMs * 1e6)
    let tracks = (0..<workers).map { w in
      var slices: [Slice] = []
      var t = sideBySide ? 0 : UInt64(w) * turn
      while t + turn <= wall {
        slices.append(Slice(start: t, end: t + turn, cpu: sideBySide ? w % 2 : 0))
        t += sideBySide ? turn : UInt64(workers) * turn
      }
      return WorkerTrack(label: "w", tid: Int32(100 + w), slices: slices)
    }
    return ParallelExperiment.Run(
      workers: workers, wall: wall, cpu: UInt64(cpuMs * 1e6), checksum: 0, tracks: tracks, pids: [],
      handoffs: Int(wallMs / turnMs))
  }

  func parallel(_ runs: [ParallelExperiment.Run], gil: Bool, allowed: [Int] = [0, 1]) -> String {
    let r = Report()
    ParallelReport.explain(
      ParallelExperiment.Result(
        runs: runs, kind: "thread", processes: false, gil: gil, workMS: 400, units: 1, perUnit: 1,
        onlineCPUs: 2,
        allowedCPUs: allowed), r: r)
    return explained(r)
  }

  func testParallelGilSaysTheTimelineShowsTurnsOnlyWhenATurnSpansColumns() {
    // 400 ms over 48 columns is 8.3 ms a column; turns of 5 ms cannot show.
    let fine = parallel(
      [
        parallelRun(workers: 1, wallMs: 400, cpuMs: 400, turnMs: 5),
        parallelRun(workers: 2, wallMs: 400, cpuMs: 400, turnMs: 5),
      ],
      gil: true)
    XCTAssertFalse(fine.contains("the timeline shows the threads taking turns"), fine)
    XCTAssertTrue(fine.contains("cannot show the turns"), fine)
    // 40 ms of work over 48 columns: 0.8 ms a column, and 5 ms turns span several.
    let coarse = parallel(
      [
        parallelRun(workers: 1, wallMs: 40, cpuMs: 40, turnMs: 5),
        parallelRun(workers: 2, wallMs: 40, cpuMs: 40, turnMs: 5),
      ],
      gil: true)
    XCTAssertTrue(coarse.contains("the timeline shows the threads taking turns"), coarse)
  }

  func testParallelGilDoesNotExplainASpeedupOneLockCannotGive() {
    let text = parallel(
      [
        parallelRun(workers: 1, wallMs: 760, cpuMs: 400, turnMs: 5),
        parallelRun(workers: 2, wallMs: 400, cpuMs: 400, turnMs: 5),
      ],
      gil: true)
    XCTAssertTrue(text.contains("more than one lock allows"), text)
  }

  func testParallelNeverCallsASlowdownFaster() {
    let slower = parallel(
      [
        parallelRun(workers: 1, wallMs: 360, cpuMs: 360, turnMs: 5),
        parallelRun(workers: 2, wallMs: 400, cpuMs: 400, turnMs: 5, sideBySide: true),
      ],
      gil: false)
    XCTAssertFalse(slower.contains("0.9× faster"), slower)
    XCTAssertTrue(slower.contains("were only 0.9× as fast as one"), slower)
    // Faster, but with twice the CPU time: not "stayed about the same".
    let dearer = parallel(
      [
        parallelRun(workers: 1, wallMs: 400, cpuMs: 400, turnMs: 5),
        parallelRun(workers: 2, wallMs: 200, cpuMs: 800, turnMs: 5, sideBySide: true),
      ],
      gil: false)
    XCTAssertTrue(dearer.contains("2.0× faster than one"), dearer)
    XCTAssertFalse(dearer.contains("stayed about the same"), dearer)
    XCTAssertTrue(dearer.contains("the total CPU time was 2.0× that of one worker"), dearer)
  }
}

extension ReportClaimTests {
  /// Round-3 audit: `switch --working-set 1M` said caches were refilled from a growth of 0.5–1.2 µs,
  /// within the run-to-run spread of 35 µs of reads. A growth is claimed only beyond that margin.
  func testSwitchWorkingSetClaimsRefillsOnlyBeyondTheReadsSpread() {
    func measurement(_ size: Int, switchNs: Double, readsNs: Double) -> SwitchCommand.Measurement {
      var pair = SwitchCommand.Row()
      var alone = SwitchCommand.Row()
      for jitter in [-0.001, 0, 0.001, 0, 0.0005] {
        pair.samples.add((switchNs + readsNs) * (1 + jitter))
        alone.samples.add(readsNs * (1 + jitter))
      }
      return SwitchCommand.Measurement(
        rows: [.process: pair, .none: alone], partners: [.process, .none], iterations: 1000, batch: 100,
        cpu: 0, pinFailure: nil, workingSet: size, elapsed: .milliseconds(1))
    }
    let caches = [(level: 1, bytes: 32 << 10), (level: 2, bytes: 1 << 20), (level: 3, bytes: 32 << 20)]
    let small = WorkingSetReport.growthSentence(
      runs: [
        measurement(0, switchNs: 1800, readsNs: 800), measurement(1 << 20, switchNs: 2600, readsNs: 35_000),
      ],
      partner: .process, caches: caches)
    XCTAssertTrue(small.contains("no size made a difference this measurement can tell apart"), small)
    XCTAssertTrue(small.contains("L3 (32.0 MiB) holds both sides' 2.0 MiB"), small)
    XCTAssertFalse(small.contains("pushed this side's data out"), small)
    let big = WorkingSetReport.growthSentence(
      runs: [
        measurement(0, switchNs: 1800, readsNs: 800), measurement(1 << 20, switchNs: 2600, readsNs: 35_000),
        measurement(16 << 20, switchNs: 75_000, readsNs: 550_000),
      ], partner: .process, caches: caches)
    XCTAssertTrue(big.contains("From 16.0 MiB to read at every hand-over it cost clearly more: 75.0 µs"), big)
    XCTAssertTrue(big.contains("CPU's L3 of 32.0 MiB holds"), big)
  }
}
