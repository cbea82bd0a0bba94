import Foundation
import Glibc
import ProcLabKit
import TestSupport
import XCTest

/// The processes verbs through the real binary, strict: after every command the
/// shell checks that no zombie, stray child, descriptor or thread was left behind.
final class ProcessCommandTests: XCTestCase {
  private func outcomes(_ commands: String, file: StaticString = #filePath, line: UInt = #line) -> [JSON] {
    let run = ProcLabBinary.json(commands)
    let all = run.outcomes
    for o in all {
      let error = o["error"]?.stringValue ?? ""
      XCTAssertFalse(
        error.contains("cleanup invariant"), "\(o["input"]?.stringValue ?? ""): \(error)", file: file,
        line: line)
    }
    XCTAssertTrue(run.stderr.isEmpty || !run.stderr.contains("Fatal"), run.stderr, file: file, line: line)
    return all
  }

  func testHeldChildrenAreRealProcessesWhoseParentIsTheShell() throws {
    let o = outcomes("spawn 2 --hold 30; ps")
    XCTAssertEqual(o.count, 2)
    XCTAssertEqual(o[0]["ok"]?.boolValue, true, "\(o[0])")
    let shell = try XCTUnwrap(o[0]["facts"]?["shell"]?.intValue)
    let children = try XCTUnwrap(o[0]["facts"]?["children"]?.arrayValue)
    XCTAssertEqual(children.count, 2)
    let pids = children.compactMap { $0["pid"]?.intValue }
    XCTAssertEqual(Set(pids).count, 2, "two distinct PIDs")
    for c in children {
      XCTAssertEqual(c["ppid"]?.intValue, shell, "the kernel says the shell is the parent")
    }
    // ps read /proc: both children, under the shell, alive (sleeping or running).
    let processes = try XCTUnwrap(o[1]["facts"]?["processes"]?.arrayValue)
    XCTAssertEqual(processes.first?["pid"]?.intValue, shell)
    for pid in pids {
      let p = try XCTUnwrap(processes.first { $0["pid"]?.intValue == pid }, "ps lists \(pid)")
      XCTAssertEqual(p["ppid"]?.intValue, shell)
      XCTAssertTrue(["S", "R"].contains(p["state"]?.stringValue ?? ""), "\(p)")
      XCTAssertEqual(p["held"]?.boolValue, true)
      XCTAssertGreaterThan(p["rss_bytes"]?.intValue ?? 0, 0)
    }
    // The shell killed and reaped them when it left.
    for pid in pids { XCTAssertFalse(processExists(Int32(pid)), "\(pid) ended with the shell") }
  }

  func testFinishedChildrenReportStatusAndUsage() throws {
    let o = outcomes("spawn 3; spawn 2 --fork")
    for (outcome, method) in zip(o, ["posix_spawn", "fork"]) {
      XCTAssertEqual(outcome["ok"]?.boolValue, true, "\(outcome)")
      XCTAssertEqual(outcome["facts"]?["method"]?.stringValue, method)
      let children = try XCTUnwrap(outcome["facts"]?["children"]?.arrayValue)
      for c in children {
        XCTAssertEqual(c["status"]?["how"]?.stringValue, "exited")
        XCTAssertEqual(c["status"]?["code"]?.intValue, 0)
        XCTAssertGreaterThan(c["usage"]?["max_rss_bytes"]?.intValue ?? 0, 0, "wait4 returned real usage")
        XCTAssertFalse(processExists(Int32(c["pid"]!.intValue!)), "reaped")
      }
    }
    // A fresh program image costs more than a copy of the shell: compare CPU per child, tolerant.
    let spawnCPU = cpu(o[0]) / 3
    let forkCPU = cpu(o[1]) / 2
    XCTAssertGreaterThan(spawnCPU, 0)
    XCTAssertGreaterThanOrEqual(
      spawnCPU * 1.0, forkCPU * 0.5, "a lab copy of proclab does at least comparable work")
  }

  /// Issue 16: ru_maxrss of a child started by posix_spawn includes the shell's own
  /// memory before exec (the child runs in the shell's address space until execve):
  /// /bin/true's MAX RSS is about the shell's peak, many times true's own few hundred KiB.
  func testMaxRSSOfAProgramIncludesTheShellsAddressSpaceBeforeExec() throws {
    let o = outcomes("spawn --exec /bin/true")
    let f = try XCTUnwrap(o.first?["facts"])
    let maxRSS = try XCTUnwrap(f["children"]?.arrayValue?.first?["usage"]?["max_rss_bytes"]?.intValue)
    let shellPeak = try XCTUnwrap(f["shell_peak_rss_bytes"]?.intValue)
    XCTAssertGreaterThanOrEqual(Double(maxRSS), 0.8 * Double(shellPeak), "ru_maxrss carries the shell's mark")
    let text = (o.first?["explanation"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: " ")
    XCTAssertTrue(text.contains("not memory the child used on its own"), text)
    XCTAssertFalse(text.contains("accounted to it alone"), text)
  }

  /// Audit 17: a forked child's MAX RSS counts the resident pages in its own page tables, and
  /// fork copies entries only for mappings that hold private pages: far below the shell's peak.
  func testMaxRSSOfAForkedChildIsBelowTheShellsBecauseForkCopiesNoFileMappingEntries() throws {
    let o = outcomes("spawn --fork 1")
    let f = try XCTUnwrap(o.first?["facts"])
    let maxRSS = try XCTUnwrap(f["children"]?.arrayValue?.first?["usage"]?["max_rss_bytes"]?.intValue)
    let shellPeak = try XCTUnwrap(f["shell_peak_rss_bytes"]?.intValue)
    XCTAssertLessThan(Double(maxRSS), 0.8 * Double(shellPeak), "the child starts without the file pages")
    let text = (o.first?["explanation"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: " ")
    XCTAssertFalse(text.contains("every page the child had mapped"), text)
  }

  /// Issue 16: most of a held lab child's resident memory is pages shared with other
  /// processes (the proclab binary and libraries), per /proc/PID/smaps_rollup.
  func testAHeldChildsResidentMemoryIsMostlySharedPages() throws {
    let o = outcomes("spawn 2 --hold 5")
    for c in o.first?["facts"]?["children"]?.arrayValue ?? [] {
      let m = try XCTUnwrap(c["memory"], c.serialized)
      let rss = try XCTUnwrap(m["rss_bytes"]?.intValue)
      let shared = try XCTUnwrap(m["shared_bytes"]?.intValue)
      XCTAssertGreaterThan(shared * 2, rss, "mostly shared: \(m.serialized)")
    }
  }

  /// Issue 16: the kernel splits CPU time into user and system by sampling at the clock
  /// tick (CONFIG_TICK_CPU_ACCOUNTING); a child that runs for less than a tick gets all of
  /// it on one side, the other exactly 0. So proclab shows only the total below 30 ms.
  func testTheUserSystemSplitOfAShortChildIsATickSample() throws {
    let config = Process()
    config.executableURL = URL(fileURLWithPath: "/bin/sh")
    config.arguments = ["-c", "zcat /proc/config.gz 2>/dev/null | grep -c '^CONFIG_TICK_CPU_ACCOUNTING=y'"]
    let pipe = Pipe()
    config.standardOutput = pipe
    try config.run()
    config.waitUntilExit()
    let tick = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    try XCTSkipUnless(tick.hasPrefix("1"), "this kernel does not account CPU time by tick sampling")
    let o = outcomes("spawn 10 --exec /bin/true")
    let usages = (o.first?["facts"]?["children"]?.arrayValue ?? []).compactMap { $0["usage"] }
    XCTAssertEqual(usages.count, 10)
    let oneSided = usages.filter { ($0["user_ms"]?.doubleValue == 0) != ($0["system_ms"]?.doubleValue == 0) }
    XCTAssertGreaterThanOrEqual(oneSided.count, 7, "all on one side: \(usages.map(\.serialized))")
    XCTAssertTrue(usages.allSatisfy { $0["split_meaningful"]?.boolValue == false })
    let lines = (o.first?["output"]?.arrayValue ?? []).compactMap(\.stringValue)
    XCTAssertFalse(lines.joined().contains("user +"), "no split printed: \(lines)")
  }

  private func cpu(_ outcome: JSON) -> Double {
    (outcome["facts"]?["children"]?.arrayValue ?? []).reduce(0.0) {
      $0 + ($1["usage"]?["user_ms"]?.doubleValue ?? 0) + ($1["usage"]?["system_ms"]?.doubleValue ?? 0)
    }
  }

  func testExitCodesAndSignalsOfProgramsDecode() throws {
    let o = outcomes(
      "spawn --exec sh -c 'exit 7'; spawn --exec sh -c 'kill -TERM $$'; spawn --exec sh -c 'kill -KILL $$'; spawn 2 --exec /bin/echo hello"
    )
    XCTAssertEqual(o[0]["facts"]?["children"]?.arrayValue?.first?["status"]?["code"]?.intValue, 7)
    XCTAssertEqual(
      o[1]["facts"]?["children"]?.arrayValue?.first?["status"]?["signal"]?.stringValue, "SIGTERM")
    XCTAssertEqual(
      o[2]["facts"]?["children"]?.arrayValue?.first?["status"]?["signal"]?.stringValue, "SIGKILL")
    let output = o[3]["output"]?.arrayValue?.compactMap(\.stringValue) ?? []
    XCTAssertEqual(
      output.filter { $0.contains("| hello") }.count, 2, "the program's output came back through the pipe")
  }

  func testZombiesAppearWithNoReapAndGoAfterWait() throws {
    let o = outcomes("spawn 2 --no-reap; ps; wait; ps")
    XCTAssertEqual(o.map { $0["ok"]?.boolValue }, [true, true, true, true], "\(o)")
    let pids = (o[0]["facts"]?["children"]?.arrayValue ?? []).compactMap { $0["pid"]?.intValue }
    XCTAssertEqual(pids.count, 2)
    let before = o[1]["facts"]?["processes"]?.arrayValue ?? []
    for pid in pids {
      XCTAssertEqual(
        before.first { $0["pid"]?.intValue == pid }?["state"]?.stringValue, "Z", "\(pid) is a zombie")
    }
    XCTAssertEqual(o[1]["facts"]?["zombies"]?.intValue, 2)
    let reaped = o[2]["facts"]?["reaped"]?.arrayValue ?? []
    XCTAssertEqual(Set(reaped.compactMap { $0["pid"]?.intValue }), Set(pids))
    for r in reaped {
      XCTAssertEqual(r["state_before"]?.stringValue, "Z")
      XCTAssertEqual(r["status"]?["code"]?.intValue, 0)
    }
    let after = o[3]["facts"]?["processes"]?.arrayValue ?? []
    XCTAssertTrue(after.allSatisfy { !pids.contains($0["pid"]?.intValue ?? -1) }, "gone after wait")
    XCTAssertEqual(o[3]["facts"]?["zombies"]?.intValue, 0)
  }

  func testKillRefusesProcessesTheShellDidNotCreate() throws {
    let run = ProcLabBinary.run([
      "-c", "kill 1; kill \(getpid()) KILL; spawn --hold 20; kill 1 9", "--json", "--trace",
    ])
    let o = run.outcomes
    XCTAssertEqual(o.count, 4)
    for i in [0, 1, 3] {
      XCTAssertEqual(o[i]["ok"]?.boolValue, false)
      let error = o[i]["error"]?.stringValue ?? ""
      XCTAssertTrue(error.hasPrefix("kill: "), error)
      XCTAssertTrue(error.contains("not a process this shell created"), error)
      XCTAssertFalse(error.contains("\n"))
      let calls = (o[i]["trace"]?.arrayValue ?? []).compactMap { $0["call"]?.stringValue }
      XCTAssertFalse(calls.contains("kill"), "no signal was sent")
    }
    XCTAssertTrue(
      (o[3]["error"]?.stringValue ?? "").contains("it holds: "), "names the children it may signal")
    XCTAssertTrue(processExists(getpid()))
  }

  func testMemoryIsSeparateAcrossProcessesAndSharedAcrossThreads() throws {
    let o = outcomes("memory; memory --threads")
    let p = try XCTUnwrap(o[0]["facts"])
    XCTAssertEqual(o[0]["ok"]?.boolValue, true, "\(o[0])")
    XCTAssertEqual(p["same_address"]?.boolValue, true)
    XCTAssertEqual(p["address"], p["child_address"])
    XCTAssertNotEqual(p["parent_pid"], p["child_pid"])
    XCTAssertEqual(p["child_parent"], p["parent_pid"], "the child was the shell's")
    XCTAssertEqual(p["child_before"]?.intValue, 42, "the child started with the parent's value")
    XCTAssertEqual(p["child_after"]?.intValue, 99)
    XCTAssertEqual(p["parent_after"]?.intValue, 42, "the parent never saw the child's write")
    if let k = p["kernel_child_value"] { XCTAssertEqual(k.intValue, 99, "/proc/CHILD/mem agrees") }
    if let before = p["frames_before"]?.arrayValue, let after = p["frames_after"]?.arrayValue {
      // Frame numbers are visible (running as root): one shared page, then a copy for the child.
      XCTAssertEqual(before[0], before[1], "shared after fork")
      XCTAssertEqual(after[0], before[0], "the parent kept its page")
      XCTAssertNotEqual(after[1], after[0], "the child's write copied the page")
      XCTAssertEqual(p["copy_on_write_seen"]?.boolValue, true)
    }
    XCTAssertTrue((p["mapping"]?.stringValue ?? "").contains("proclab"), "the variable is in proclab's data")
    XCTAssertEqual(
      p["mapping"]?.stringValue?.split(separator: " ").dropFirst().first,
      p["child_mapping"]?.stringValue?.split(separator: " ").dropFirst().first)

    let t = try XCTUnwrap(o[1]["facts"])
    XCTAssertEqual(t["address"], t["thread_address"])
    XCTAssertEqual(t["pid"], t["thread_pid"], "one process")
    XCTAssertNotEqual(t["main_tid"], t["thread_tid"], "two threads")
    XCTAssertEqual(t["main_after"]?.intValue, 99, "the main thread sees the thread's write")
    XCTAssertEqual(t["shared"]?.boolValue, true)
  }

  /// One process's real timeline (issue 16): fork, close in the child, execve in the
  /// same child. The shared offset and O_CLOEXEC are read from /proc/PID/fdinfo.
  func testOneChildsDescriptorsThroughForkCloseAndExecve() throws {
    let o = outcomes("files")
    XCTAssertEqual(o[0]["ok"]?.boolValue, true, "\(o[0])")
    let f = try XCTUnwrap(o[0]["facts"])
    let child = try XCTUnwrap(f["child"]?.intValue)
    XCTAssertEqual(
      f["exec_pid"]?.intValue, child, "execve kept the process: the new program reported the same PID")
    XCTAssertEqual(f["same_process_after_exec"]?.boolValue, true)
    XCTAssertEqual(f["exec_status"]?["how"]?.stringValue, "exited")
    let fds = try XCTUnwrap(f["descriptors"]?.arrayValue)
    XCTAssertEqual(fds.count, 6, "two files and the four ends of two pipes")
    let files = fds.filter { $0["cloexec"]?.boolValue == false }
    XCTAssertEqual(files.count, 2)
    let notes = try XCTUnwrap(files.first { $0["target"]?.stringValue?.hasSuffix("notes.txt") ?? false })
    let log = try XCTUnwrap(files.first { $0["target"]?.stringValue?.hasSuffix("log.txt") ?? false })
    XCTAssertEqual(notes["after_close"]?.boolValue, false, "the child closed its copy")
    XCTAssertEqual(log["after_exec"]?.boolValue, true, "no O_CLOEXEC: kept across execve")
    XCTAssertEqual(f["survived_exec"]?.arrayValue?.compactMap(\.intValue), [log["fd"]!.intValue!])
    for d in fds where d["cloexec"]?.boolValue == true {
      XCTAssertTrue(d["target"]?.stringValue?.hasPrefix("pipe:") ?? false)
      XCTAssertEqual(d["after_exec"]?.boolValue, false, "O_CLOEXEC: the kernel closed it at execve")
    }
    // One open file description: parent's 7 bytes and child's 6 moved one offset, seen by both.
    XCTAssertEqual(f["shared_offset"]?["parent"]?.intValue, 13)
    XCTAssertEqual(f["shared_offset"]?["child"]?.intValue, 13)
    XCTAssertEqual(f["content"]?.stringValue, "parent\nchild\nparent again\n", "the parent's fd stayed open")
    // The private directory is gone.
    let path = notes["target"]!.stringValue!
    XCTAssertFalse(FileManager.default.fileExists(atPath: path))
  }

  /// Issue 20 `files --offset`: one offset after fork, two after two separate opens.
  func testOneOffsetIsSharedAfterForkButNotAfterTwoOpens() throws {
    let o = outcomes("files --offset")
    let f = try XCTUnwrap(o.first?["facts"], "\(o)")
    XCTAssertEqual(f["shared_offsets"]?.arrayValue?.compactMap(\.intValue), [7, 13, 20])
    XCTAssertEqual(f["shared_content"]?.stringValue, "parent\nchild\nparent\n")
    XCTAssertEqual(
      f["separate_content_after_child"]?.stringValue, "child\n\n", "written over the parent's line")
    XCTAssertEqual(f["separate_parent_offset"]?.intValue, 7, "the parent's own offset did not move")
    XCTAssertEqual(f["overwritten"]?.boolValue, true)
  }

  func testAnOrphanIsAdoptedByTheSubreaperAndReaped() throws {
    let o = outcomes("orphan")
    XCTAssertEqual(o[0]["ok"]?.boolValue, true, "\(o[0])")
    let f = try XCTUnwrap(o[0]["facts"])
    XCTAssertEqual(f["parent_before"], f["middle"], "first the middle parent")
    XCTAssertEqual(f["parent_after"], f["subreaper"], "then the subreaper")
    XCTAssertEqual(f["reaped_by"], f["subreaper"])
    XCTAssertEqual(f["grandchild_status"]?["how"]?.stringValue, "exited")
    XCTAssertNotEqual(f["subreaper"]?.intValue, 1)
  }

  func testBadInputGivesOneLineAndLeavesNothing() throws {
    let cases: [(String, String)] = [
      ("spawn 0", "spawn: count must be 1…64, got 0"),
      ("spawn 100000", "spawn: count must be 1…64, got 100000"),
      ("spawn -3", "spawn: count must be 1…64"),
      ("spawn many", "spawn: count must be a whole number"),
      ("spawn --hold 4000", "spawn: --hold must be 0…3600"),
      ("spawn --hold soon", "spawn: --hold must be a number"),
      ("spawn --exec /no/such/program", "spawn: no program"),
      ("spawn --exec", "spawn: --exec needs a program"),
      ("spawn --fork --exec /bin/true", "cannot be used together"),
      ("spawn --hold 5 --exec /bin/true", "spawn: --hold applies"),
      ("kill", "kill: which process?"),
      ("kill abc", "kill: PID must be"),
      ("kill 999999 TERM", "kill: 999999 is not a process this shell created"),
      ("wait 1", "wait: 1 is not a child this shell holds"),
      ("wait soon", "wait: expected a PID or 'all'"),
      ("ps now", "ps: unexpected"),
      ("memory --thread", "memory: unknown option"),
      ("files 3", "files: unexpected"),
      ("orphan x", "orphan: unexpected"),
    ]
    let o = outcomes(cases.map(\.0).joined(separator: "; "))
    XCTAssertEqual(o.count, cases.count)
    for (outcome, (input, expected)) in zip(o, cases) {
      XCTAssertEqual(outcome["ok"]?.boolValue, false, input)
      let error = outcome["error"]?.stringValue ?? ""
      XCTAssertTrue(error.contains(expected), "\(input): \(error)")
      XCTAssertFalse(error.contains("\n"), input)
      XCTAssertFalse(error.contains("invariant"), input)
    }
  }

  func testExecFromAFileNeedsAllowExec() throws {
    let dir = NSTemporaryDirectory() + "proclab-exec-\(getpid())"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let file = dir + "/exec.txt"
    try "spawn --exec /bin/true\n".write(toFile: file, atomically: true, encoding: .utf8)
    let refused = ProcLabBinary.run(["run", file, "--json"]).outcomes
    XCTAssertEqual(refused.first?["ok"]?.boolValue, false)
    XCTAssertTrue((refused.first?["error"]?.stringValue ?? "").contains("--allow-exec"))
    let allowed = ProcLabBinary.run(["run", file, "--json", "--allow-exec"]).outcomes
    XCTAssertEqual(allowed.first?["ok"]?.boolValue, true, "\(allowed)")
  }
}
