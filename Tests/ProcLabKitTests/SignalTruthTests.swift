import Foundation
import Glibc
import ProcLabKit
import TestSupport
import XCTest

/// What `kill` and `wait` say about signals and reaping, checked against /proc
/// from outside the command (issue 16: a signal sent to a stopped process is pending).
final class SignalTruthTests: XCTestCase {
  private var session: Session!

  override func setUp() {
    session = Session()
    session.write = { _ in }
    session.strict = true
    session.takeBaseline()
  }

  override func tearDown() {
    session.cleanUp()
    session = nil
  }

  @discardableResult
  private func run(_ line: String, file: StaticString = #filePath, line number: UInt = #line) -> Outcome {
    let o = session.execute(line: line).last!
    XCTAssertFalse(
      (o.error ?? "").contains("invariant"), "\(line): \(o.error ?? "")", file: file, line: number)
    return o
  }

  private func pids(_ o: Outcome) -> [Int32] {
    (o.facts["children"]?.arrayValue ?? []).compactMap { $0["pid"]?.intValue }.map(Int32.init)
  }

  /// ShdPnd of /proc/PID/status, read by the test itself.
  private func sharedPending(_ pid: Int32) -> UInt64? {
    ProcFS.status(pid, field: "ShdPnd").flatMap { UInt64($0, radix: 16) }
  }

  func testATermSentToAStoppedChildStaysPendingAndActsOnContinue() throws {
    for method in ["", " --fork"] {
      let pid = try XCTUnwrap(pids(run("spawn --hold 30" + method)).first)
      XCTAssertEqual(run("kill \(pid) STOP").facts["effect"]?.stringValue, "stopped")
      let term = run("kill \(pid) TERM")
      XCTAssertEqual(term.facts["effect"]?.stringValue, "pending", method)
      // The kernel's own record: bit 15 (SIGTERM) is set in ShdPnd, and the child is still stopped.
      let mask = try XCTUnwrap(sharedPending(pid))
      XCTAssertNotEqual(mask & (1 << (UInt64(SIGTERM) - 1)), 0, "ShdPnd \(String(mask, radix: 16))")
      XCTAssertEqual(ProcFS.stat(pid)?.state, "T")
      XCTAssertTrue(term.lines.joined().contains("ShdPnd"), term.lines.joined(separator: "\n"))
      // SIGCONT lets it act: the child ends by the pending SIGTERM, and the explanation says so.
      let cont = run("kill \(pid) CONT")
      XCTAssertEqual(cont.facts["effect"]?.stringValue, "terminated", method)
      XCTAssertEqual(cont.facts["status"]?["signal"]?.stringValue, "SIGTERM")
      XCTAssertEqual(cont.facts["ended_by_pending"]?.stringValue, "SIGTERM")
      XCTAssertTrue(cont.explanation.short.joined().contains("pending"), cont.explanation.short.joined())
      XCTAssertFalse(processExists(pid))
    }
  }

  func testPendingStandardSignalsAreDeliveredLowestNumberFirst() throws {
    let pid = try XCTUnwrap(pids(run("spawn --hold 30")).first)
    run("kill \(pid) STOP")
    run("kill \(pid) TERM")
    run("kill \(pid) USR2")
    let cont = run("kill \(pid) CONT")
    XCTAssertEqual(cont.facts["status"]?["signal"]?.stringValue, "SIGUSR2", "12 before 15")
  }

  func testStopToAStoppedChildAnswersAtOnceAndContDiscardsIt() throws {
    let pid = try XCTUnwrap(pids(run("spawn --hold 30 --fork")).first)
    run("kill \(pid) STOP")
    let again = run("kill \(pid) STOP")
    XCTAssertEqual(again.facts["effect"]?.stringValue, "no effect")
    // The 3 s window for a change is not waited for: the stop is answered from /proc.
    XCTAssertLessThan(again.facts["elapsed_ms"]?.doubleValue ?? 9999, 2000)
    XCTAssertFalse(again.explanation.short.joined().contains("SIGCONT only matters"))
    XCTAssertEqual(run("kill \(pid) CONT").facts["effect"]?.stringValue, "continued")
    // The pending SIGSTOP was discarded by SIGCONT: the child runs (sleeps) again.
    usleep(50_000)
    XCTAssertNotEqual(ProcFS.stat(pid)?.state, "T")
    XCTAssertEqual(sharedPending(pid), 0)
  }

  func testSIGKILLIsNeverSaidToFindNoHandler() throws {
    let pid = try XCTUnwrap(pids(run("spawn --hold 30")).first)
    let o = run("kill \(pid) KILL")
    let text = (o.explanation.short + o.explanation.full).joined(separator: " ")
    XCTAssertFalse(text.contains("had no handler"), text)
    XCTAssertTrue(text.contains("cannot be caught"), text)
    // And it ends even a stopped process at once.
    let stopped = try XCTUnwrap(pids(run("spawn --hold 30 --fork")).first)
    run("kill \(stopped) STOP")
    XCTAssertEqual(run("kill \(stopped) KILL").facts["status"]?["signal"]?.stringValue, "SIGKILL")
  }

  func testWaitCountsWhatTheShellReapedBetweenCommands() throws {
    let early = pids(run("spawn 2 --hold 0.05"))
    XCTAssertEqual(early.count, 2)
    // The shell reaps ended children between commands; wait later reports them too.
    XCTAssertTrue(
      (0..<200).contains { _ in
        usleep(10_000)
        session.children.reapFinished()
        return session.children.children.isEmpty
      })
    let late = try XCTUnwrap(pids(run("spawn --hold 0.05")).first)
    let o = run("wait all")
    let reaped = o.facts["reaped"]?.arrayValue ?? []
    XCTAssertEqual(Set(reaped.compactMap { $0["pid"]?.intValue }.map(Int32.init)), Set(early + [late]))
    XCTAssertTrue(o.lines.first?.hasPrefix("reaped 3 children") ?? false, o.lines.first ?? "")
    // One table row per child counted in the headline.
    let rows = o.lines.filter { line in reaped.contains { line.contains(String($0["pid"]!.intValue!)) } }
    XCTAssertEqual(rows.count, 3, o.lines.joined(separator: "\n"))
  }

  /// A zombie keeps its entry in the kernel (a task_struct: /proc/PID still exists, with
  /// its PID and state) but no memory: no address space (no VmRSS, no mappings).
  func testAZombieKeepsItsTaskButNoMemory() throws {
    let pid = try XCTUnwrap(pids(run("spawn --no-reap")).first)
    XCTAssertEqual(ProcFS.stat(pid)?.state, "Z")
    XCTAssertTrue(ProcFS.processExists(pid), "the kernel still has the task")
    XCTAssertNil(ProcFS.status(pid, field: "VmRSS"), "no address space left")
    XCTAssertEqual(ProcFS.read("/proc/\(pid)/maps") ?? "", "")
    let text = run("explain zombie").lines.joined(separator: " ")
    XCTAssertTrue(text.contains("task_struct"), text)
    XCTAssertFalse(text.contains("use no memory"), text)
    run("wait")
  }
}
