import Glibc
import ProcLabKit
import TestSupport
import XCTest

final class LabRunnerTests: XCTestCase {
  func testALabChildIsARealChildThatAnswersOverItsPipe() throws {
    let before = CleanupSnapshot()
    let run = try Lab.run("probe", ["action": "answer"], timeout: .seconds(20))
    XCTAssertEqual(run.status, .exited(0))
    XCTAssertEqual(
      run.result?["parent"]?.intValue, Int(getpid()), "the lab child's parent is the test process")
    XCTAssertEqual(run.result?["pid"]?.intValue, Int(run.pid))
    XCTAssertFalse(processExists(run.pid), "the child was reaped")
    XCTAssertEqual(before.leftovers(), [])
  }

  func testAChildThatSleepsPastItsTimeoutIsKilledAndReaped() throws {
    let before = CleanupSnapshot()
    let run = try Lab.run("probe", ["action": "sleep", "ms": 30_000], timeout: .milliseconds(800))
    XCTAssertTrue(run.timedOut)
    XCTAssertEqual(run.status, .signaled(SIGKILL, coreDumped: false))
    XCTAssertLessThan(run.elapsed.seconds, 10)
    XCTAssertEqual(
      run.messages.first?["message"]?["sleeping"]?.intValue, 30_000, "it really started sleeping")
    XCTAssertFalse(processExists(run.pid))
    XCTAssertEqual(before.leftovers(), [])
  }

  func testACrashingChildIsReportedWithItsSignalAndLastWords() throws {
    let run = try Lab.run("probe", ["action": "signal", "signal": .int(Int(SIGSEGV))], timeout: .seconds(20))
    XCTAssertEqual(run.status.signal, SIGSEGV)
    XCTAssertEqual(run.lastOutput.last, "about to raise SIGSEGV")
    XCTAssertFalse(run.timedOut)
  }

  func testAnExitCodeIsDecoded() throws {
    let run = try Lab.run("probe", ["action": "exit", "code": 7], timeout: .seconds(20))
    XCTAssertEqual(run.status, .exited(7))
  }

  func testCtrlCStopsALabChildAndCleansUp() throws {
    let before = CleanupSnapshot()
    let child = try LabProcess.start("probe", ["action": "sleep", "ms": 30_000])
    _ = try child.nextMessage(timeout: .seconds(10))
    Interrupt.request()
    defer { Interrupt.clear() }
    XCTAssertThrowsError(try child.finish(timeout: .seconds(30))) { XCTAssertTrue($0 is Interrupted) }
    XCTAssertFalse(processExists(child.pid))
    XCTAssertEqual(before.leftovers(), [])
  }
}
