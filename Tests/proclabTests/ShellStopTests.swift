import Foundation
import Glibc
import ProcLabKit
import TestSupport
import XCTest

/// A stop (Ctrl-C, SIGTERM, SIGHUP) ends the running command and the rest of its
/// `;` line; a line that cannot even be split fails like any command.
final class ShellStopTests: XCTestCase {
  var state = ""
  override func setUp() {
    state = NSTemporaryDirectory() + "proclab-stop-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
  }
  override func tearDown() { try? FileManager.default.removeItem(atPath: state) }

  func testCtrlCAbandonsTheRestOfTheLine() throws {
    let shell = try TerminalSession(environment: ["XDG_STATE_HOME": state, "PROCLAB_STRICT": "1"])
    XCTAssertTrue(shell.waitFor("proclab> "), shell.screen)
    let mark = shell.mark
    shell.type("race --iterations 50000000 --threads 4; race; race; race\r")
    XCTAssertTrue(shell.waitFor("\n", after: mark))
    // Ctrl-C once the race's four threads run (a Ctrl-C before the line runs belongs to the prompt).
    var threads = 0
    let deadline = Date().addingTimeInterval(20)
    while threads < 5 && Date() < deadline {
      shell.pump(0.02)
      threads = ProcFS.threads(of: shell.pid).count
    }
    XCTAssertEqual(threads, 5, "the race runs: \(shell.screen)")
    let pressed = shell.mark
    let start = MonotonicClock.nanoseconds()
    shell.type("\u{03}")
    XCTAssertTrue(shell.waitFor("proclab> ", after: pressed, timeout: 30), shell.screen)
    print(
      "Ctrl-C in a line of four races: the prompt was back in \((MonotonicClock.nanoseconds() - start) / 1_000_000) ms"
    )
    let after = String(shell.screen[pressed...])
    XCTAssertTrue(after.contains("race: interrupted (Ctrl-C)"), after)
    XCTAssertTrue(after.contains("(Ctrl-C: the rest of the line was not run: race; race; race)"), after)
    // Had the other three run, their tables would be here.
    XCTAssertFalse(after.contains("lost"), "no second race ran: \(after)")
    XCTAssertEqual(ProcFS.threads(of: shell.pid).count, 1, "its threads are gone")
    shell.type("quit\r")
    XCTAssertEqual(shell.waitForExit(), .exited(0))
  }

  func testSIGTERMAndSIGHUPStopTheCommandAndTheRestOfAScript() throws {
    for signal in [SIGTERM, SIGHUP] {
      let script = "spawn 2 --hold 20; wait; spawn 2 --hold 20; wait"
      let shell = try TerminalSession(arguments: ["-c", script], environment: ["XDG_STATE_HOME": state])
      // spawn has printed its children: the shell is in `wait` now.
      XCTAssertTrue(shell.waitFor("quitting kills and reaps them"), shell.screen)
      shell.pump(0.2)
      let children = ProcFS.children(of: shell.pid)
      XCTAssertEqual(children.count, 2, shell.screen)
      let sent = MonotonicClock.nanoseconds()
      kill(shell.pid, signal)
      XCTAssertEqual(shell.waitForExit(timeout: 10), .exited(128 + signal), shell.screen)
      print(
        "\(Signals.name(signal)) during '\(script)': exited in \((MonotonicClock.nanoseconds() - sent) / 1_000_000) ms"
      )
      let name = Signals.name(signal)
      // Normally `wait` was running (`wait: interrupted (SIGTERM)`); on a slow machine the signal may
      // come just before it starts. Either way the signal is named and the rest of the line is not run.
      XCTAssertTrue(shell.screen.contains("(\(name): the rest of the line was not run: "), shell.screen)
      XCTAssertTrue(shell.screen.contains("spawn 2 --hold 20; wait)"), shell.screen)
      XCTAssertFalse(shell.screen.contains("Ctrl-C"), "a signal is named for what it is: \(shell.screen)")
      XCTAssertEqual(
        shell.screen.components(separatedBy: "PARENT  CREATED IN").count - 1, 1,
        "the second spawn never ran: \(shell.screen)")
      for pid in children {
        let s = ProcFS.stat(pid)?.state
        XCTAssertTrue(s == nil || s == "Z", "held child \(pid) ended with the shell")
      }
    }
  }

  func testCtrlCEndsAScriptWithStatus130() throws {
    let shell = try TerminalSession(
      arguments: ["-c", "race --iterations 50000000 --threads 4\ninfo"],
      environment: ["XDG_STATE_HOME": state])
    var threads = 0
    let deadline = Date().addingTimeInterval(10)
    while threads < 5 && Date() < deadline {
      shell.pump(0.02)
      threads = ProcFS.threads(of: shell.pid).count
    }
    XCTAssertEqual(threads, 5, "the race's four threads run")
    kill(shell.pid, SIGINT)
    XCTAssertEqual(shell.waitForExit(timeout: 10), .exited(128 + SIGINT), shell.screen)
    XCTAssertTrue(shell.screen.contains("race: interrupted (Ctrl-C)"), shell.screen)
    XCTAssertFalse(shell.screen.contains("process ID"), "the next line of the script did not run")
  }

  func testAStopIsInTheJSONOutcome() throws {
    let shell = try TerminalSession(
      arguments: ["--json", "-c", "spawn 2 --hold 20; wait; info"], environment: ["XDG_STATE_HOME": state])
    XCTAssertTrue(shell.waitFor("\"command\":\"spawn\""), shell.screen)
    shell.pump(0.2)
    kill(shell.pid, SIGTERM)
    XCTAssertEqual(shell.waitForExit(timeout: 10), .exited(128 + SIGTERM), shell.screen)
    let outcomes = shell.screen.split(whereSeparator: \.isNewline).compactMap { JSON.parse(String($0)) }
    XCTAssertFalse(
      outcomes.contains { $0["command"]?.stringValue == "info" }, "info never ran: \(shell.screen)")
    XCTAssertEqual(outcomes.last?["stopped_by"]?.stringValue, "SIGTERM", shell.screen)
    XCTAssertEqual(outcomes.last?["not_run"]?.arrayValue?.last?.stringValue, "info", shell.screen)
  }

  func testALineThatCannotBeSplitFailsTheScript() {
    let text = ProcLabBinary.text("info \"")
    XCTAssertNotEqual(text.status, 0, "an unterminated quote is a failed command: \(text.stdout)")
    XCTAssertTrue(text.stdout.contains("unterminated"), text.stdout)
    let json = ProcLabBinary.json("info \"")
    XCTAssertNotEqual(json.status, 0)
    XCTAssertEqual(json.outcomes.first?["ok"]?.boolValue, false, json.stdout)
  }
}
