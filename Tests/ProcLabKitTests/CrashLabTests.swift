import Foundation
import Glibc
import ProcLabKit
import TestSupport
import XCTest

/// `crash` run inside the test process: the test process plays the shell, so
/// /proc can show that it survived and kept nothing behind.
final class CrashLabTests: XCTestCase {
  private var crash: Command { FailureArea.commands.first { $0.name == "crash" }! }

  private func run(_ line: String) throws -> Report {
    try crash.parse(line: "crash " + line).run(Session())
  }

  func testTheShellSurvivesEveryKindAndKeepsNothing() throws {
    let before = CleanupSnapshot()
    let me = getpid()
    for line in [
      "segv", "abort", "fpe", "ill", "bus", "stack", "exit 9", "oom", "kill", "segv --in-thread --threads 2",
    ] {
      let report = try run(line)
      XCTAssertTrue(report.succeeded, "\(line): \(report.lines.joined(separator: "\n"))")
      XCTAssertEqual(report.facts["shell_pid"]?.intValue, Int(me), line)
      XCTAssertEqual(report.facts["as_expected"]?.boolValue, true, line)
      let pid = Int32(report.facts["pid"]?.intValue ?? 0)
      XCTAssertGreaterThan(pid, 0)
      XCTAssertFalse(processExists(pid), "\(line): the child was reaped")
    }
    XCTAssertEqual(ProcFS.stat(me)?.state.isLetter, true, "this process is still running")
    XCTAssertEqual(before.leftovers(), [])
  }

  func testTheKernelReallyDeliveredTheSignalTheChildAskedFor() throws {
    // The child's own last words name the thread that faulted: a real kernel TID.
    let report = try run("fpe --in-thread --threads 3")
    let threads = report.facts["threads"] ?? [:]
    let crasher = threads["crasher"]?.intValue ?? 0
    let last = report.facts["last_output"]?.arrayValue?.last?.stringValue ?? ""
    XCTAssertTrue(last.hasPrefix("crash [tid \(crasher)]:"), last)
    XCTAssertEqual(report.facts["signal"]?.stringValue, "SIGFPE")
    XCTAssertEqual(report.facts["signal_number"]?.intValue, Int(SIGFPE))
  }

  func testCtrlCWhileTheChildWaitsKillsAndReapsEverything() throws {
    let before = CleanupSnapshot()
    let interrupter = Thread {
      usleep(600_000)
      Interrupt.request()
    }
    interrupter.start()
    defer { Interrupt.clear() }
    let started = MonotonicClock.nanoseconds()
    XCTAssertThrowsError(try run("segv --delay 30000 --siblings 2")) {
      XCTAssertTrue($0 is Interrupted, "\($0)")
    }
    XCTAssertLessThan(MonotonicClock.since(started).seconds, 10)
    // Let the interrupter thread finish before counting threads.
    while !interrupter.isFinished { usleep(10_000) }
    usleep(50_000)
    XCTAssertEqual(before.leftovers(), [])
  }

  func testCoreDestinationFollowsCorePattern() {
    XCTAssertEqual(
      CoreDumps.destination(pattern: "core", usesPID: false, pid: 42, command: "proclab", signal: 11),
      .file("core"))
    XCTAssertEqual(
      CoreDumps.destination(pattern: "core", usesPID: true, pid: 42, command: "proclab", signal: 11),
      .file("core.42"))
    XCTAssertEqual(
      CoreDumps.destination(
        pattern: "/var/crash/%e.%p.%s", usesPID: true, pid: 42, command: "proclab", signal: 11),
      .file("/var/crash/proclab.42.11"))
    XCTAssertEqual(
      CoreDumps.destination(
        pattern: "|/usr/lib/systemd/systemd-coredump %P %u", usesPID: false, pid: 42, command: "x", signal: 6),
      .program("/usr/lib/systemd/systemd-coredump"))
    XCTAssertEqual(
      CoreDumps.destination(pattern: "", usesPID: false, pid: 1, command: "x", signal: 6), .nowhere)
  }
}
