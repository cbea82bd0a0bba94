import Foundation
import Glibc
import ProcLabKit
import TestSupport
import XCTest

/// The processes verbs run in this test process, checked against /proc from outside the command.
final class ProcessExperimentTests: XCTestCase {
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

  func testHeldChildrenAreOurChildrenInProcUntilKilled() throws {
    let spawned = run("spawn 2 --hold 30")
    XCTAssertTrue(spawned.succeeded, spawned.error ?? "")
    let children = pids(spawned)
    XCTAssertEqual(children.count, 2)
    for pid in children {
      let stat = try XCTUnwrap(ProcFS.stat(pid), "\(pid) is in /proc")
      XCTAssertEqual(stat.parent, getpid(), "our process is its parent")
      XCTAssertTrue(["S", "R"].contains(stat.state))
      XCTAssertTrue(session.children.contains(pid))
    }
    let killed = run("kill \(children[0])")
    XCTAssertEqual(killed.facts["effect"]?.stringValue, "terminated")
    XCTAssertEqual(killed.facts["status"]?["signal"]?.stringValue, "SIGTERM")
    XCTAssertFalse(processExists(children[0]), "killed and reaped")
    XCTAssertFalse(session.children.contains(children[0]))
    XCTAssertTrue(processExists(children[1]))
  }

  func testAnUnknownSignalIsRefusedAndTheChildUntouched() throws {
    let pid = try XCTUnwrap(pids(run("spawn --hold 30")).first)
    let o = run("kill \(pid) FOO")
    XCTAssertFalse(o.succeeded)
    XCTAssertEqual(o.error, "kill: unknown signal 'FOO'; use a name or number: \(Signals.namesForHelp)")
    XCTAssertTrue(["S", "R"].contains(ProcFS.stat(pid)?.state ?? "?"), "still alive and not stopped")
    XCTAssertFalse(run("kill \(pid) 65").succeeded)
  }

  func testKillingANoReapChildLeavesAZombieUntilWait() throws {
    let pid = try XCTUnwrap(pids(run("spawn --hold 30 --no-reap")).first)
    let killed = run("kill \(pid) KILL")
    XCTAssertEqual(killed.facts["effect"]?.stringValue, "terminated")
    XCTAssertEqual(killed.facts["reaped"]?.boolValue, false)
    XCTAssertEqual(ProcFS.stat(pid)?.state, "Z", "the kernel keeps it as a zombie")
    XCTAssertEqual(run("kill \(pid)").facts["effect"]?.stringValue, "no effect", "a zombie ignores signals")
    let waited = run("wait \(pid)")
    XCTAssertEqual(waited.facts["reaped"]?.arrayValue?.first?["state_before"]?.stringValue, "Z")
    XCTAssertEqual(waited.facts["reaped"]?.arrayValue?.first?["status"]?["signal"]?.stringValue, "SIGKILL")
    XCTAssertNil(ProcFS.stat(pid), "gone from /proc once reaped")
  }

  func testAChildThatAlreadyEndedIsNotSignalled() throws {
    let pid = try XCTUnwrap(pids(run("spawn --hold 0.1 --fork")).first)
    usleep(400_000)
    _ = run("ps")  // between commands the shell reaps held children that ended
    XCTAssertNil(ProcFS.stat(pid))
    let o = run("kill \(pid)")
    XCTAssertFalse(o.succeeded)
    XCTAssertTrue(o.error?.contains("has already ended (exited 0)") ?? false, o.error ?? "")
  }

  /// Round-3 learner trial: after `kill PID KILL` reaped it, `kill PID STOP` said the shell had
  /// never created it.
  func testAChildKilledAndReapedIsSaidToHaveEnded() throws {
    let pid = try XCTUnwrap(pids(run("spawn --hold 30")).first)
    XCTAssertEqual(run("kill \(pid) KILL").facts["effect"]?.stringValue, "terminated")
    XCTAssertNil(ProcFS.stat(pid), "reaped: gone from /proc")
    let again = run("kill \(pid) STOP")
    XCTAssertEqual(
      again.error, "kill: \(pid) was this shell's child, but it has ended and was reaped; nothing to signal")
    let waited = run("wait \(pid)")
    XCTAssertEqual(
      waited.error, "wait: \(pid) was this shell's child, and it has been reaped already; nothing to wait for"
    )
  }

  /// Round-4 trial: a spawned child's MAX RSS was this shell's peak, unexplained. When the figure
  /// is as big as the shell's own peak, the explanation says why (KernelFactsTests shows it in C).
  func testAReapedChildsMaxRSSIsExplainedWhenItIsTheShellsPeak() throws {
    let pid = try XCTUnwrap(pids(run("spawn --hold 0.1")).first)
    let waited = run("wait \(pid)")
    let maxRSS = try XCTUnwrap(
      waited.facts["reaped"]?.arrayValue?.first?["usage"]?["max_rss_bytes"]?.intValue, "\(waited.facts)")
    let shellPeak = try XCTUnwrap(ProcFS.peakResidentBytes(getpid()))
    XCTAssertGreaterThanOrEqual(
      maxRSS, shellPeak * 9 / 10, "the child ran in this process's memory until execve")
    XCTAssertTrue(
      waited.explanation.short.contains {
        $0.hasPrefix("MAX RSS (wait4's ru_maxrss) is the most a child ever had")
      },
      "\(waited.explanation.short)")
  }

  func testStopContinueCatchAndIgnoreAreObservedNotAssumed() throws {
    for method in ["", " --fork"] {
      let pid = try XCTUnwrap(pids(run("spawn --hold 30" + method)).first)
      XCTAssertEqual(run("kill \(pid) STOP").facts["effect"]?.stringValue, "stopped", method)
      XCTAssertEqual(ProcFS.stat(pid)?.state, "T", "the kernel shows it stopped")
      let waited = run("wait \(pid)")
      XCTAssertEqual(waited.facts["reaped"]?.arrayValue?.count, 0, "a stopped child is not waited for")
      XCTAssertEqual(run("kill \(pid) CONT").facts["effect"]?.stringValue, "continued", method)
      XCTAssertNotEqual(ProcFS.stat(pid)?.state, "T")
      let caught = run("kill \(pid) USR1")
      XCTAssertEqual(caught.facts["effect"]?.stringValue, "caught", method)
      XCTAssertGreaterThanOrEqual(caught.facts["woke"]?.intValue ?? 0, 1, "it woke up to run its handler")
      XCTAssertEqual(run("kill \(pid) CHLD").facts["effect"]?.stringValue, "ignored", method)
      XCTAssertTrue(processExists(pid), "still alive after USR1 and CHLD")
      let killed = run("kill \(pid) KILL")
      XCTAssertEqual(killed.facts["status"]?["signal"]?.stringValue, "SIGKILL")
      XCTAssertFalse(processExists(pid))
    }
  }

  func testCommonSignalsDecodeToTheirNames() throws {
    let signals = ["TERM", "INT", "HUP", "USR2", "QUIT", "ABRT", "SEGV", "9"]
    let expected = ["SIGTERM", "SIGINT", "SIGHUP", "SIGUSR2", "SIGQUIT", "SIGABRT", "SIGSEGV", "SIGKILL"]
    let children = pids(run("spawn \(signals.count) --hold 30 --fork"))
    XCTAssertEqual(children.count, signals.count)
    for (i, pid) in children.enumerated() {
      let o = run("kill \(pid) \(signals[i])")
      XCTAssertEqual(o.facts["effect"]?.stringValue, "terminated", signals[i])
      XCTAssertEqual(o.facts["status"]?["how"]?.stringValue, "signaled")
      XCTAssertEqual(o.facts["status"]?["signal"]?.stringValue, expected[i])
      XCTAssertEqual(o.facts["status"]?["core_dumped"]?.boolValue, false, "fork children have RLIMIT_CORE 0")
    }
    XCTAssertTrue(session.children.pids.isEmpty)
  }

  func testWaitBlocksForHeldChildrenAndDecodesTheirExit() throws {
    let children = pids(run("spawn 2 --hold 0.3"))
    let start = MonotonicClock.nanoseconds()
    let o = run("wait")
    XCTAssertTrue(o.succeeded)
    let reaped = o.facts["reaped"]?.arrayValue ?? []
    // The shell may reap one in the background between commands; together they account for both.
    XCTAssertEqual(reaped.count + (o.lines.filter { $0.contains("already ended") }.count), 2)
    for r in reaped { XCTAssertEqual(r["status"]?["code"]?.intValue, 0) }
    XCTAssertLessThan(MonotonicClock.since(start).seconds, 20)
    for pid in children { XCTAssertFalse(processExists(pid)) }
    let nothing = run("wait")
    XCTAssertTrue(nothing.lines.first?.contains("nothing to wait for") ?? false)
  }

  /// `wait PID` reports that child only, not the others the shell reaped meanwhile (they stay
  /// for `wait`); a child the shell already reaped is refused with how it ended.
  func testWaitForOnePidReportsOnlyThatChild() throws {
    let held = pids(run("spawn 2 --hold 0.2"))
    let zombie = try XCTUnwrap(pids(run("spawn --no-reap")).first)
    usleep(600_000)
    run("ps")  // between commands the shell reaps the held children, which have ended
    for pid in held { XCTAssertFalse(processExists(pid), "\(pid) was reaped by the shell") }
    let one = run("wait \(zombie)")
    XCTAssertTrue(one.succeeded, one.error ?? "")
    XCTAssertEqual(one.lines.first, "reaped 1 child with wait4:")
    let reaped = (one.facts["reaped"]?.arrayValue ?? []).compactMap { $0["pid"]?.intValue }
    XCTAssertEqual(reaped, [Int(zombie)])
    let earlier = session.execute(line: "wait \(held[0])").last!
    XCTAssertFalse(earlier.succeeded)
    XCTAssertEqual(
      earlier.error,
      "wait: \(held[0]) has already ended (exited 0) and the shell reaped it between commands; nothing to wait for"
    )
    let rest = run("wait")
    XCTAssertEqual(
      Set((rest.facts["reaped"]?.arrayValue ?? []).compactMap { $0["pid"]?.intValue }),
      Set(held.map(Int.init)))
  }

  func testCtrlCStopsWaitAndKeepsTheChildren() throws {
    let children = pids(run("spawn --hold 30"))
    let pid = try XCTUnwrap(children.first)
    // Ctrl-C arrives while wait is blocked: SIGINT to ourselves, as the terminal would send it.
    Interrupt.install()
    let timer = Thread {
      usleep(300_000)
      Interrupt.request()
    }
    timer.start()
    let o = session.execute(line: "wait").last!
    XCTAssertFalse(o.succeeded)
    XCTAssertEqual(o.facts["interrupted"]?.boolValue, true)
    XCTAssertTrue(processExists(pid), "interrupting wait does not kill the child")
    XCTAssertTrue(session.children.contains(pid))
    session.cleanUp()
    XCTAssertFalse(processExists(pid), "cleanUp kills and reaps it")
  }

  func testTerminationStatusDecodesRealWaitStatuses() throws {
    // Status words made by the kernel, not by hand: a child exits 5, another is killed.
    for (command, expected) in [
      ("spawn --exec sh -c 'exit 5'", TerminationStatus.exited(5)),
      ("spawn --exec sh -c 'kill -HUP $$'", .signaled(SIGHUP, coreDumped: false)),
    ] {
      let o = run(command)
      let s = o.facts["children"]?.arrayValue?.first?["status"]
      switch expected {
      case .exited(let c): XCTAssertEqual(s?["code"]?.intValue, Int(c))
      case .signaled(let sig, _): XCTAssertEqual(s?["number"]?.intValue, Int(sig))
      default: XCTFail()
      }
    }
  }
}
