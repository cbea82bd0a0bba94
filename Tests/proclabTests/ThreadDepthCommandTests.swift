import Foundation
import Glibc
import ProcLabKit
import TestSupport
import XCTest

/// Claims of the threads commands, checked against the machine: the schedule
/// a learner chooses, fork from a threaded process, clone3 and cached stacks,
/// the affinity mask, the global lock's switch interval, poll's readiness.
final class ThreadDepthCommandTests: XCTestCase {
  private func facts(_ line: String, file: StaticString = #filePath, line number: UInt = #line) -> [JSON] {
    let run = ProcLabBinary.json(line)
    XCTAssertFalse(run.outcomes.isEmpty, run.stderr, file: file, line: number)
    for o in run.outcomes {
      XCTAssertEqual(
        o["ok"]?.boolValue, true, o["error"]?.stringValue ?? run.stderr, file: file, line: number)
    }
    return run.outcomes.map { $0["facts"] ?? [:] }
  }

  func testTheLearnersScheduleLosesExactlyWhatItDictates() throws {
    let all = facts(
      #"race --schedule "t1:load t2:load t1:store t2:store" --iterations 200000; race --schedule "t1:load t1:add t1:store t2:load t2:store" --iterations 200000"#
    )
    XCTAssertEqual(all[0]["lost"]?.intValue, 1, "both loaded 0, both stored 1")
    XCTAssertEqual(all[0]["counter"]?.intValue, 1)
    XCTAssertEqual(all[0]["increments"]?.intValue, 2)
    XCTAssertEqual(all[1]["lost"]?.intValue, 0, "one after the other loses nothing")
    XCTAssertEqual(all[1]["counter"]?.intValue, 2)
    let steps = try XCTUnwrap(all[0]["steps"]?.arrayValue)
    XCTAssertEqual(
      steps.compactMap { $0["step"]?.stringValue }, ["load", "load", "add", "store", "add", "store"])
    XCTAssertEqual(steps.compactMap { $0["implied"]?.boolValue }, [false, false, true, false, true, false])
    XCTAssertEqual(
      steps.compactMap { $0["register"]?.intValue }, [0, 0, 1, 1, 1, 1], "each thread's own register")
    let tids = Set(steps.compactMap { $0["tid"]?.intValue })
    XCTAssertEqual(tids.count, 2, "two real threads ran the steps")
    XCTAssertEqual(all[0]["free_run"]?["expected"]?.intValue, 400_000)
  }

  func testBadSchedulesAreOneLineErrors() {
    for (schedule, words) in [
      ("t1:store t2:load t2:store", ["t1", "load before"]), ("t1:load t2:load", ["never stores"]),
      ("t3:load", ["t3:load"]), ("t1:load t1:load t1:store", ["loads again"]),
    ] {
      let run = ProcLabBinary.json("race --schedule \"\(schedule)\"")
      let error = run.outcomes.first?["error"]?.stringValue ?? ""
      XCTAssertTrue(error.hasPrefix("race:"), error)
      XCTAssertFalse(error.contains("\n"))
      for w in words { XCTAssertTrue(error.contains(w), "\(schedule): \(error)") }
    }
  }

  func testForkFromAThreadedProcessCopiesOneThreadAndAHeldMutex() {
    let all = facts("thread 4 --fork; thread 3 --fork --atfork")
    let plain = all[0]
    XCTAssertEqual(plain["parent_threads"]?.intValue, 5, "main + 4 threads in the lab child")
    XCTAssertEqual(
      plain["child_threads"]?.intValue, 1, "the forked child has only the thread that called fork")
    XCTAssertEqual(
      plain["child_hung"]?.boolValue, true, "the copied mutex stays locked: its owner is not in the child")
    XCTAssertEqual(plain["child_waits_in"]?.stringValue, "futex")
    XCTAssertFalse(
      processExists(Int32(plain["child_pid"]?.intValue ?? 0)), "the watchdog killed and reaped it")
    let atfork = all[1]
    XCTAssertEqual(atfork["child_threads"]?.intValue, 1)
    XCTAssertEqual(
      atfork["child_locked"]?.boolValue, true, "pthread_atfork's handlers hand the child a free mutex")
    XCTAssertEqual(atfork["child_status"]?.stringValue, "exited 0")
  }

  /// glibc's pthread_create is clone3 with CLONE_VM and CLONE_THREAD; a second
  /// round of threads gets the stacks the first round left in glibc's cache.
  func testThreadsAreClone3WithCloneThreadAndStacksAreReused() throws {
    let all = facts("thread 3; thread 3")
    XCTAssertEqual(all[0]["count"]?.intValue, 3)
    XCTAssertEqual(all[1]["stacks_reused"]?.intValue, 3, "the second round reused the first round's stacks")
    guard access("/usr/bin/strace", X_OK) == 0 else { throw XCTSkip("strace is not installed") }
    let out = NSTemporaryDirectory() + "proclab-strace-\(getpid()).txt"
    defer { unlink(out) }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/strace")
    p.arguments = ["-f", "-e", "trace=clone,clone3,mmap", "-o", out, ProcLabBinary.path, "-c", "thread 2"]
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    try p.run()
    p.waitUntilExit()
    let text = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
    if text.contains("Operation not permitted") || text.isEmpty { throw XCTSkip("strace cannot trace here") }
    let clones = text.split(separator: "\n").filter { $0.contains("clone3(") && $0.contains("CLONE_THREAD") }
    XCTAssertGreaterThanOrEqual(clones.count, 2, text)
    XCTAssertTrue(clones.allSatisfy { $0.contains("CLONE_VM") && $0.contains("CLONE_SIGHAND") })
    // The first stack is a fresh 8 MiB mapping (MAP_STACK, guard page included)…
    XCTAssertTrue(text.contains("MAP_STACK"), "pthread_create mapped a stack")
    // …and a new thread's first malloc reserves its own arena: 128 MiB of PROT_NONE address space, trimmed to 64.
    let lines = text.split(separator: "\n")
    let mainPID = lines.first.flatMap { $0.split(separator: " ").first }.map(String.init) ?? ""
    let arenas = lines.filter {
      $0.contains("mmap(NULL, 134217728, PROT_NONE") && $0.contains("MAP_NORESERVE") && !$0.hasPrefix(mainPID + " ")
    }
    XCTAssertFalse(arenas.isEmpty, "a thread reserved a malloc arena:\n\(text)")
  }

  func testParallelReadsTheAffinityMask() throws {
    guard access("/usr/bin/taskset", X_OK) == 0 else { throw XCTSkip("taskset is not installed") }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/taskset")
    p.arguments = ["-c", "0", ProcLabBinary.path, "-c", "parallel --threads 2 --work 60", "--json"]
    var env = ProcessInfo.processInfo.environment
    env["PROCLAB_STRICT"] = "1"
    p.environment = env
    let pipe = Pipe()
    p.standardOutput = pipe
    try p.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    let o = try XCTUnwrap(
      JSON.parse(String(decoding: data, as: UTF8.self).split(separator: "\n").first.map(String.init) ?? ""))
    XCTAssertEqual(o["ok"]?.boolValue, true)
    let f = try XCTUnwrap(o["facts"])
    XCTAssertEqual((f["allowed_cpus"]?.arrayValue ?? []).compactMap(\.intValue), [0])
    XCTAssertEqual(f["parallel_ns"]?.intValue, 0, "never on two CPUs at once")
    let runs = try XCTUnwrap(f["runs"]?.arrayValue)
    for run in runs {
      XCTAssertEqual(
        Set((run["cpus"]?.arrayValue ?? []).flatMap { $0.arrayValue ?? [] }.compactMap(\.intValue)), [0])
    }
    let text = (o["explanation"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: " ")
    XCTAssertFalse(text.contains("same instant on different CPUs"), text)
    XCTAssertTrue(text.contains("sched_getaffinity"), text)
  }

  func testTheGlobalLockIsHandedOverEveryFewMilliseconds() throws {
    let f = facts("parallel --threads 2 --gil --work 200")[0]
    XCTAssertEqual(f["switch_interval_ns"]?.intValue, 5_000_000)
    let runs = try XCTUnwrap(f["runs"]?.arrayValue)
    let two = try XCTUnwrap(runs.last)
    // 200 ms of work in 5 ms slices, two threads: the lock changes hands many times.
    XCTAssertGreaterThanOrEqual(two["handoffs"]?.intValue ?? 0, 8, "forced switches")
    XCTAssertEqual(runs.first?["handoffs"]?.intValue, 0, "one thread alone never has to let go")
  }

  func testPollIsReadinessAndThreadsCostMemoryPerWait() throws {
    let f = facts("io --tasks 300 --wait 300")[0]
    XCTAssertEqual(f["regular_file_polls_ready"]?.boolValue, true, "a regular file polls ready at once")
    let threads = try XCTUnwrap(f["modes"]?["threads"])
    let poll = try XCTUnwrap(f["modes"]?["poll"])
    XCTAssertNil(f["modes"]?["serial"], "300 × 300 ms serially is skipped")
    XCTAssertEqual(threads["answered"]?.intValue, 300)
    XCTAssertEqual(poll["answered"]?.intValue, 300)
    XCTAssertGreaterThanOrEqual(
      threads["peak_threads"]?.intValue ?? 0, 250, "many task threads alive at once")
    XCTAssertLessThanOrEqual(poll["peak_threads"]?.intValue ?? 99, 3, "poll: the main thread and the server")
    XCTAssertGreaterThan(
      threads["virtual_growth_bytes"]?.intValue ?? 0,
      100 * (poll["virtual_growth_bytes"]?.intValue ?? 0) + (256 << 20),
      "thread stacks take address space; poll takes none")
  }

  /// Lesson 6 names the instruction of the atomic loop: read it from the built binary.
  func testTheAtomicLoopIsOneLockPrefixedInstruction() throws {
    #if !arch(x86_64)
      throw XCTSkip("x86-64 instructions")
    #endif
    guard access("/usr/bin/objdump", X_OK) == 0 else { throw XCTSkip("objdump is not installed") }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/objdump")
    p.arguments = ["-d", "--no-show-raw-insn", "--disassemble=clab_race_loop", ProcLabBinary.path]
    let pipe = Pipe()
    p.standardOutput = pipe
    p.standardError = FileHandle.nullDevice
    try p.run()
    let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    let locked = text.split(separator: "\n").filter { $0.contains("lock ") }
    XCTAssertFalse(locked.isEmpty, "the atomic increment carries a lock prefix")
    XCTAssertTrue(
      locked.allSatisfy { $0.contains("xadd") || $0.contains("inc") || $0.contains("add") },
      locked.joined(separator: "\n"))
  }
}
