import Glibc
import ProcLabKit
import TestSupport
import XCTest

/// The shell at a pseudo-terminal, as a person at a keyboard meets it.
final class TerminalTests: XCTestCase {
  var state = ""

  override func setUp() {
    state = NSTemporaryDirectory() + "proclab-pty-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
  }
  override func tearDown() { try? FileManager.default.removeItem(atPath: state) }

  func start() throws -> TerminalSession {
    let shell = try TerminalSession(environment: ["XDG_STATE_HOME": state])
    XCTAssertTrue(shell.waitFor("proclab> "), "the prompt appears: \(shell.screen)")
    return shell
  }

  func testTabCompletesACommandName() throws {
    let shell = try start()
    let mark = shell.mark
    shell.type("sp\t")
    XCTAssertTrue(shell.waitFor("spawn ", after: mark), shell.screen)
    shell.type("--ho\t")
    XCTAssertTrue(shell.waitFor("--hold ", after: mark), "options complete too: \(shell.screen)")
    shell.type("\u{15}help sp\t\r")
    XCTAssertTrue(
      shell.waitFor("usage: spawn", after: mark), "help's argument completes to a command: \(shell.screen)")
    shell.type("quit\r")
    XCTAssertEqual(shell.waitForExit(), .exited(0))
  }

  func testUpRecallsHistoryAndHistoryIsSavedBetweenRuns() throws {
    let shell = try start()
    shell.type("help info\r")
    XCTAssertTrue(shell.waitFor("usage: info"))
    let mark = shell.mark
    shell.type("\u{1B}[A")
    XCTAssertTrue(shell.waitFor("help info", after: mark), "Up recalls the last line")
    shell.type("\r")
    shell.type("\u{04}")
    XCTAssertEqual(shell.waitForExit(), .exited(0))
    let saved = try String(contentsOfFile: state + "/proclab/history", encoding: .utf8)
    XCTAssertTrue(saved.contains("help info"))

    let again = try start()
    let mark2 = again.mark
    again.type("\u{1B}[A")
    XCTAssertTrue(again.waitFor("help info", after: mark2), "history came back from the file")
    again.type("\u{15}quit\r")
    XCTAssertEqual(again.waitForExit(), .exited(0))
  }

  func testCtrlCAtThePromptClearsTheLineAndKeepsTheShell() throws {
    let shell = try start()
    shell.type("some half-typed line")
    XCTAssertTrue(shell.waitFor("half-typed"))
    let mark = shell.mark
    shell.type("\u{03}")
    XCTAssertTrue(shell.waitFor("proclab> ", after: mark), "a fresh prompt: \(shell.screen)")
    XCTAssertTrue(shell.isAlive)
    let mark2 = shell.mark
    shell.type("info\r")
    XCTAssertTrue(shell.waitFor("process ID", after: mark2), "the cleared line did not run; info did")
    XCTAssertFalse(shell.screen[mark2...].contains("unknown command"))
    shell.type("exit\r")
    XCTAssertEqual(shell.waitForExit(), .exited(0))
  }

  func testCtrlDOnAnEmptyLineLeavesWithStatusZero() throws {
    let shell = try start()
    shell.type("\u{04}")
    XCTAssertEqual(shell.waitForExit(), .exited(0))
  }

  func testColourIsUsedAtATerminalUnlessNoColorIsSet() throws {
    let shell = try TerminalSession(environment: ["XDG_STATE_HOME": state, "NO_COLOR": ""])
    // NO_COLOR present (even empty) turns colour off; TerminalSession sets it by default.
    XCTAssertTrue(shell.waitFor("proclab> "))
    shell.type("hepl\r")
    XCTAssertTrue(shell.waitFor("did you mean"))
    XCTAssertFalse(shell.screen.contains("\u{1B}[31m"))
    shell.type("quit\r")
    XCTAssertEqual(shell.waitForExit(), .exited(0))
  }
}
