import Foundation
import Glibc
import ProcLabKit
import TestSupport
import XCTest

/// `crash` end to end through the built binary, strict: after every command the
/// shell checks it has no zombie, stray child, leaked descriptor or extra thread.
final class CrashCommandTests: XCTestCase {
  private func facts(_ outcome: JSON) -> JSON { outcome["facts"] ?? [:] }

  func testEveryKindEndsWithItsSignalOrExitStatusAndTheShellLivesOn() {
    let expected: [(String, JSON)] = [
      ("segv", ["how": "signaled", "signal": "SIGSEGV"]),
      ("abort", ["how": "signaled", "signal": "SIGABRT"]),
      ("fpe", ["how": "signaled", "signal": "SIGFPE"]), ("ill", ["how": "signaled", "signal": "SIGILL"]),
      ("bus", ["how": "signaled", "signal": "SIGBUS"]), ("stack", ["how": "signaled", "signal": "SIGSEGV"]),
      ("exit 3", ["how": "exited", "code": 3]), ("oom", ["how": "exited", "code": 12]),
      ("kill", ["how": "signaled", "signal": "SIGKILL"]),
    ]
    let line = "info; " + expected.map { "crash \($0.0)" }.joined(separator: "; ") + "; info"
    let run = ProcLabBinary.json(line)
    XCTAssertEqual(run.status, 0, run.stdout + run.stderr)
    let outcomes = run.outcomes
    XCTAssertEqual(outcomes.count, expected.count + 2)
    guard outcomes.count == expected.count + 2 else { return }
    let shell = facts(outcomes[0])["pid"]?.intValue
    XCTAssertNotNil(shell)
    var childPIDs = Set<Int>()
    for (i, (kind, status)) in expected.enumerated() {
      let o = outcomes[i + 1]
      let f = facts(o)
      XCTAssertEqual(o["ok"]?.boolValue, true, "\(kind): \(o.serialized)")
      XCTAssertEqual(f["status"]?["how"], status["how"], kind)
      if let sig = status["signal"] {
        XCTAssertEqual(f["status"]?["signal"], sig, kind)
        XCTAssertEqual(f["signal"], sig, kind)
        XCTAssertFalse(f["signal_meaning"]?.stringValue?.isEmpty ?? true, kind)
      } else {
        XCTAssertEqual(f["exit_code"], status["code"], kind)
      }
      XCTAssertEqual(f["as_expected"]?.boolValue, true, kind)
      XCTAssertEqual(f["shell_pid"]?.intValue, shell, "\(kind): the shell is still the same process")
      XCTAssertEqual(f["shell_alive"]?.boolValue, true, kind)
      XCTAssertEqual(f["process_gone"]?.boolValue, true, kind)
      XCTAssertGreaterThan(f["lifetime_ms"]?.doubleValue ?? 0, 0, kind)
      // Lab children default to no core file.
      XCTAssertEqual(f["core"]?["child_limit"]?["soft"]?.intValue, 0, kind)
      XCTAssertEqual(f["core"]?["dumped"]?.boolValue, false, kind)
      // The child's last words were captured from its standard error.
      let last = f["last_output"]?.arrayValue?.last?.stringValue ?? ""
      XCTAssertTrue(last.hasPrefix("crash [tid "), "\(kind): \(last)")
      if let pid = f["pid"]?.intValue {
        XCTAssertNotEqual(pid, shell, kind)
        XCTAssertFalse(processExists(Int32(pid)), "\(kind): child \(pid) was reaped")
        childPIDs.insert(pid)
      }
    }
    XCTAssertEqual(childPIDs.count, expected.count, "each crash was a different process")
    let lastInfo = outcomes.last!
    XCTAssertEqual(lastInfo["ok"]?.boolValue, true)
    XCTAssertEqual(facts(lastInfo)["pid"]?.intValue, shell, "the same shell answers info afterwards")
    XCTAssertEqual(facts(lastInfo)["descriptors"], facts(outcomes[0])["descriptors"], "no descriptor leaked")
  }

  func testSiblingsAreStillRunningAfterTheCrashThenCleanedUp() {
    let run = ProcLabBinary.json("crash fpe --siblings 3; info")
    XCTAssertEqual(run.status, 0, run.stdout + run.stderr)
    guard let o = run.outcomes.first else { return XCTFail("no outcome") }
    let f = facts(o)
    XCTAssertEqual(f["signal"], "SIGFPE")
    let shell = f["shell_pid"]?.intValue
    let siblings = f["siblings"]?.arrayValue ?? []
    XCTAssertEqual(siblings.count, 3)
    var pids = Set<Int>()
    for s in siblings {
      XCTAssertEqual(s["alive_after_crash"]?.boolValue, true, s.serialized)
      XCTAssertTrue(["S", "R"].contains(s["state_after"]?.stringValue ?? ""), s.serialized)
      XCTAssertEqual(s["parent"]?.intValue, shell, "a sibling is the shell's child too")
      // It ended only when the shell killed it, not with the crash's signal.
      XCTAssertEqual(s["ended"]?["signal"], "SIGKILL")
      XCTAssertEqual(s["gone"]?.boolValue, true)
      if let pid = s["pid"]?.intValue {
        pids.insert(pid)
        XCTAssertFalse(processExists(Int32(pid)))
      }
    }
    XCTAssertEqual(pids.count, 3)
    XCTAssertFalse(pids.contains(f["pid"]?.intValue ?? -1), "the crashing child is not one of the siblings")
    XCTAssertEqual(run.outcomes.last?["ok"]?.boolValue, true)
  }

  func testAThreadThatCrashesTakesItsWholeProcessWithIt() {
    let run = ProcLabBinary.json(
      "crash segv --in-thread --threads 4; crash kill --in-thread --threads 2; crash exit 4 --in-thread --threads 3"
    )
    XCTAssertEqual(run.status, 0, run.stdout + run.stderr)
    let outcomes = run.outcomes
    XCTAssertEqual(outcomes.count, 3)
    let expectations: [(workers: Int, status: JSON)] = [
      (4, ["how": "signaled", "signal": "SIGSEGV"]), (2, ["how": "signaled", "signal": "SIGKILL"]),
      (3, ["how": "exited", "code": 4]),
    ]
    for (o, want) in zip(outcomes, expectations) {
      let f = facts(o)
      let pid = f["pid"]?.intValue ?? 0
      let threads = f["threads"] ?? [:]
      let before = (threads["tids_before"]?.arrayValue ?? []).compactMap(\.intValue)
      let workers = (threads["workers"]?.arrayValue ?? []).compactMap(\.intValue)
      let crasher = threads["crasher"]?.intValue ?? 0
      XCTAssertEqual(workers.count, want.workers, o.serialized)
      XCTAssertEqual(Set(workers).count, want.workers, "each thread has its own TID")
      XCTAssertTrue(before.contains(pid), "the main thread's TID is the PID")
      XCTAssertTrue(
        Set(workers).isSubset(of: Set(before)), "the kernel listed every worker in /proc/PID/task")
      XCTAssertTrue(workers.contains(crasher))
      XCTAssertNotEqual(crasher, pid, "a worker, not the main thread, went first")
      XCTAssertEqual(threads["tids_left"]?.arrayValue?.count, 0, "no TID survived")
      XCTAssertEqual(threads["all_gone"]?.boolValue, true)
      XCTAssertEqual(f["status"]?["how"], want.status["how"])
      if let sig = want.status["signal"] {
        XCTAssertEqual(f["signal"], sig, "the process's status is the thread's signal")
      } else {
        XCTAssertEqual(f["exit_code"], want.status["code"])
      }
      for tid in before { XCTAssertFalse(FileManager.default.fileExists(atPath: "/proc/\(tid)/status")) }
    }
  }

  /// Issue 16: what ends every thread is thread-group membership and the signal's default
  /// action, not the shared memory. A clone(CLONE_VM) task shares the memory but has its
  /// own thread group: it dies alone. A thread whose signal is handled lives on.
  func testAFaultEndsTheThreadGroupNotEverythingThatSharesTheMemory() {
    let run = ProcLabBinary.json(
      "crash segv --clone-vm; crash fpe --clone-vm; crash segv --in-thread --handled --threads 3; crash stack --in-thread --handled"
    )
    XCTAssertEqual(run.status, 0, run.stdout + run.stderr)
    let outcomes = run.outcomes
    XCTAssertEqual(outcomes.count, 4)
    for (o, sig) in zip(outcomes.prefix(2), ["SIGSEGV", "SIGFPE"]) {
      let f = facts(o)
      let child = f["pid"]?.intValue ?? 0
      let s = f["survival"] ?? [:]
      XCTAssertEqual(f["status"]?["how"]?.stringValue, "exited", "the lab child lived on: \(o.serialized)")
      XCTAssertEqual(s["task_status"]?["signal"]?.stringValue, sig, "the task died of its own fault")
      let task = s["task"]?.intValue ?? 0
      XCTAssertNotEqual(task, child)
      XCTAssertEqual(s["task_tgid"]?.intValue, task, "a thread group of its own")
      XCTAssertEqual(s["task_parent"]?.intValue, child)
      XCTAssertEqual(s["shared_read"]?.intValue, s["shared_written"]?.intValue, "one address space")
      XCTAssertNotNil(s["shared_written"]?.intValue)
      let before = (f["tids_before"]?.arrayValue ?? []).compactMap(\.intValue)
      XCTAssertEqual((f["tids_after_fault"]?.arrayValue ?? []).compactMap(\.intValue), before)
    }
    for (o, sig) in zip(outcomes.suffix(2), ["SIGSEGV", "SIGSEGV"]) {
      let f = facts(o)
      XCTAssertEqual(f["status"]?["how"]?.stringValue, "exited", o.serialized)
      XCTAssertEqual(f["survival"]?["caught"]?.stringValue, sig, "the worker's handler caught it")
      let before = Set((f["threads"]?["tids_before"]?.arrayValue ?? []).compactMap(\.intValue))
      let after = Set((f["tids_after_fault"]?.arrayValue ?? []).compactMap(\.intValue))
      XCTAssertFalse(before.isEmpty)
      XCTAssertEqual(after, before, "every thread, the faulting one too, was alive after the fault")
      XCTAssertTrue(
        (o["explanation"]?.arrayValue ?? []).contains { $0.stringValue?.contains("may") ?? false })
    }
  }

  /// Issue 16: `crash oom`'s NULL comes from RLIMIT_AS, far below what the machine has:
  /// malloc got no more than the limit allowed, while MemAvailable was larger.
  func testOomsNullComesFromTheAddressSpaceLimitNotFromTheMachine() throws {
    let o = try XCTUnwrap(ProcLabBinary.json("crash oom").outcomes.first)
    let f = facts(o)
    XCTAssertEqual(f["status"]?["code"]?.intValue, 12, o.serialized)
    let limit = try XCTUnwrap(f["address_space_limit"]?.intValue)
    let got = (f["oom"]?["blocks"]?.intValue ?? 0) * (f["oom"]?["block"]?.intValue ?? 0)
    XCTAssertEqual(f["oom"]?["errno"]?.stringValue, "ENOMEM")
    XCTAssertGreaterThan(got, 0)
    XCTAssertLessThan(got, limit, "malloc stopped inside the limit")
    let meminfo = try String(contentsOfFile: "/proc/meminfo", encoding: .utf8)
    let available =
      meminfo.split(separator: "\n").first { $0.hasPrefix("MemAvailable:") }
      .flatMap { Int($0.split(separator: " ", omittingEmptySubsequences: true)[1]) }.map { $0 * 1024 } ?? 0
    XCTAssertGreaterThan(available, got, "the machine had more to give")
    let text = (o["explanation"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: " ")
    XCTAssertTrue(text.contains("RLIMIT_AS"), text)
  }

  func testCoreDumpIsOffByDefaultAndWrittenPrivatelyWhenAskedWhereAllowed() {
    let run = ProcLabBinary.json("crash abort --core; crash kill --core")
    XCTAssertEqual(run.status, 0, run.stdout + run.stderr)
    guard run.outcomes.count == 2 else { return XCTFail(run.stdout) }
    let core = facts(run.outcomes[0])["core"] ?? [:]
    XCTAssertEqual(core["requested"]?.boolValue, true)
    let dir = core["directory"]?.stringValue ?? ""
    XCTAssertFalse(dir.isEmpty)
    XCTAssertFalse(FileManager.default.fileExists(atPath: dir), "the private directory was removed")
    let pattern = core["pattern"]?.stringValue ?? ""
    if core["raise"]?.stringValue == "ok" && !pattern.isEmpty && !pattern.hasPrefix("|")
      && !pattern.hasPrefix("/")
    {
      XCTAssertEqual(core["dumped"]?.boolValue, true, core.serialized)
      XCTAssertEqual(facts(run.outcomes[0])["status"]?["core_dumped"]?.boolValue, true, "WCOREDUMP was set")
      XCTAssertGreaterThan(core["file"]?["bytes"]?.intValue ?? 0, 0, "a real core file was written")
    }
    // SIGKILL never dumps core, whatever the limit.
    XCTAssertEqual(facts(run.outcomes[1])["core"]?["dumped"]?.boolValue, false)
    XCTAssertTrue(
      (run.outcomes[1]["output"]?.arrayValue ?? []).contains {
        $0.stringValue?.contains("default action is terminate") ?? false
      })
  }

  func testBacktraceShowsTheSwiftCrashReport() {
    let run = ProcLabBinary.json("crash segv --backtrace")
    XCTAssertEqual(run.status, 0, run.stdout + run.stderr)
    let f = facts(run.outcomes.first ?? [:])
    XCTAssertEqual(f["signal"], "SIGSEGV", "the backtracer re-raises: the status is still the signal")
    let head = (f["backtrace"]?["head"]?.arrayValue ?? []).compactMap(\.stringValue)
    XCTAssertTrue(head.contains { $0.contains("crashed") }, head.joined(separator: "\n"))
    XCTAssertTrue(head.contains { $0.contains("fault_segv") }, "the report names the faulting function")
  }

  func testBadKindOrCountIsOneLineThatListsTheKinds() {
    let run = ProcLabBinary.json(
      "crash sneeze; crash --siblings 99; crash oom --in-thread; crash --threads 2; info")
    let outcomes = run.outcomes
    XCTAssertEqual(outcomes.count, 5)
    let errors = outcomes.prefix(4).map { $0["error"]?.stringValue ?? "" }
    XCTAssertEqual(
      errors[0], "crash: unknown kind 'sneeze'; kinds: segv, abort, fpe, ill, bus, stack, exit N, oom, kill")
    XCTAssertEqual(errors[1], "crash: --siblings must be 0…16, got 99")
    XCTAssertTrue(errors[2].hasPrefix("crash: oom cannot run --in-thread"))
    XCTAssertTrue(errors[3].contains("--in-thread"))
    for e in errors { XCTAssertFalse(e.contains("\n")) }
    XCTAssertEqual(outcomes.last?["ok"]?.boolValue, true)
    let modes = ProcLabBinary.json(
      "crash abort --in-thread --handled; crash segv --handled; crash bus --clone-vm; crash segv --clone-vm --in-thread; crash segv 3"
    ).outcomes.map { $0["error"]?.stringValue ?? "" }
    XCTAssertEqual(modes.count, 5)
    XCTAssertTrue(modes[0].contains("--handled works for"), modes[0])
    XCTAssertTrue(modes[1].contains("--handled needs --in-thread"), modes[1])
    XCTAssertTrue(modes[2].contains("--clone-vm works for"), modes[2])
    XCTAssertTrue(modes[3].contains("cannot be used together"), modes[3])
    XCTAssertTrue(modes[4].contains("only `crash exit N` takes a number"), modes[4])
  }

  func testTheTerminalTextNamesSignalCauseAndSurvivors() {
    let run = ProcLabBinary.text("crash bus; help")
    XCTAssertEqual(run.status, 0, run.stdout + run.stderr)
    XCTAssertTrue(run.stdout.contains("was killed by SIGBUS (signal 7)"), run.stdout)
    XCTAssertTrue(run.stdout.contains("truncated"), run.stdout)
    XCTAssertTrue(run.stdout.contains("still running"), run.stdout)
    XCTAssertTrue(run.stdout.contains("crash"), "help lists crash")
  }

  /// 200 crashes of every kind in one strict session: every command passes the
  /// cleanup check (no zombie, no descriptor, no thread left) and memory stays flat.
  func testTwoHundredCrashesInARowLeaveNothingBehind() {
    let kinds = ["segv", "abort", "fpe", "ill", "bus", "stack", "exit 3", "oom", "kill"]
    // One command per line, as typed: the shell holds nothing of a line once it has run.
    let line = (["info"] + (0..<200).map { "crash " + kinds[$0 % kinds.count] } + ["info"]).joined(
      separator: "\n")
    let run = ProcLabBinary.json(line)
    XCTAssertEqual(run.status, 0, String(run.stdout.suffix(2000)) + run.stderr)
    let outcomes = run.outcomes
    XCTAssertEqual(outcomes.count, 202)
    let failed = outcomes.filter { $0["ok"]?.boolValue != true }
    XCTAssertEqual(failed.count, 0, failed.first?.serialized ?? "")
    let first = facts(outcomes.first ?? [:])
    let last = facts(outcomes.last ?? [:])
    XCTAssertEqual(first["pid"], last["pid"])
    XCTAssertEqual(first["descriptors"], last["descriptors"])
    XCTAssertEqual(first["threads"], last["threads"])
    let rss = outcomes.dropFirst().dropLast().compactMap { facts($0)["shell_rss_bytes"]?.intValue }
    XCTAssertEqual(rss.count, 200)
    if let a = rss.first, let b = rss.last {
      XCTAssertLessThan(b - a, 4 << 20, "the shell's memory stays flat: \(a) → \(b) bytes")
    }
  }

  /// Ctrl-C (SIGINT to the shell) while a child waits to crash: the command
  /// stops, the child is killed and reaped, and the rest of the line is not run
  /// (a script stopped by Ctrl-C ends with 130, as a POSIX shell's does).
  func testCtrlCDuringACrashReturnsToThePrompt() throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: ProcLabBinary.path)
    process.arguments = ["-c", "crash stack --delay 30000 --siblings 2; info", "--json"]
    var env = ProcessInfo.processInfo.environment
    env["PROCLAB_STRICT"] = "1"
    env["NO_COLOR"] = "1"
    process.environment = env
    let out = Pipe()
    process.standardOutput = out
    process.standardError = FileHandle.nullDevice
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let shell = process.processIdentifier
    // Wait until the crashing child and its siblings exist (three lab children).
    let children = TestSupport.children(of: shell, atLeast: 3, timeout: .seconds(10))
    XCTAssertEqual(children.count, 3, "two siblings and the child that waits to crash")
    usleep(200_000)
    kill(shell, SIGINT)
    let started = Date()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    XCTAssertLessThan(Date().timeIntervalSince(started), 10, "Ctrl-C did not wait for the 30 s delay")
    let outcomes = String(decoding: data, as: UTF8.self).split(separator: "\n").compactMap {
      JSON.parse(String($0))
    }
    XCTAssertEqual(outcomes.count, 1, "info was not run")
    let error = outcomes.first?["error"]?.stringValue ?? ""
    XCTAssertTrue(error.contains("interrupted (Ctrl-C)"), error)
    XCTAssertFalse(error.contains("invariant"), error)
    XCTAssertEqual(outcomes.first?["not_run"]?.arrayValue?.compactMap(\.stringValue), ["info"])
    XCTAssertEqual(process.terminationStatus, 128 + SIGINT)
    for pid in children { XCTAssertFalse(processExists(pid), "lab child \(pid) was killed and reaped") }
  }
}
