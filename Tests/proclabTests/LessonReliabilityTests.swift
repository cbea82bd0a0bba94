import Foundation
import Glibc
import ProcLabKit
import TestSupport
import XCTest

/// Hostile lesson files, progress files and history files (issue 19): none
/// crashes or hangs the shell, none reaches the terminal raw, and two shells
/// keep each other's progress and history.
final class LessonReliabilityTests: XCTestCase {
  var dir = ""
  override func setUp() {
    dir = NSTemporaryDirectory() + "proclab-lesson-hostile-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    try! FileManager.default.createDirectory(atPath: dir + "/lessons", withIntermediateDirectories: true)
  }
  override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

  var state: String { dir + "/state" }
  var progress: String { state + "/proclab/progress.json" }

  func lesson(
    title: String = "Evil", intro: String = "Intro.", narration: String = "Type it.", hint: String = "info",
    command: String = "info", run: String? = nil
  ) -> String {
    """
    ---
    id: evil
    title: \(title)
    order: 1
    needs: [info, skip]
    ---
    \(intro)

    ## The step

    \(narration)

    > **Hint:** \(hint)

    \(run.map { "<!-- run: \($0) -->" } ?? "")
    ```proclab
    proclab> \(command)
    ...
    ```

    ## Summary

    Done.
    """
  }

  func write(_ text: String) throws {
    try text.write(toFile: dir + "/lessons/evil.md", atomically: true, encoding: .utf8)
  }

  func proclab(_ commands: String, json: Bool = false) -> ProcLabBinary.Run {
    ProcLabBinary.run(
      ["-c", commands, "--lessons", dir + "/lessons"] + (json ? ["--json"] : []),
      environment: ["XDG_STATE_HOME": state], timeout: 30)
  }

  /// 19.1: a step whose command is `skip` (or runs it after `;`) used to recurse until SIGSEGV.
  func testAStepCannotTypeALessonCommandSoSkipNeverRecurses() throws {
    for (command, run) in [("skip", nil), ("info", "info; skip"), ("lesson evil", nil)] as [(String, String?)]
    {
      try write(lesson(command: command, run: run))
      let r = proclab("lesson evil; skip")
      XCTAssertTrue(
        [0, 1].contains(r.status), "no crash for '\(command)' / '\(run ?? "")': \(r.status) \(r.stderr)")
      XCTAssertLessThan(r.lines.count, 20, "no recursion: \(r.stdout.prefix(2000))")
      let listed = proclab("lessons")
      XCTAssertTrue(listed.stdout.contains("a step cannot type the lesson command"), listed.stdout)
      XCTAssertTrue(listed.stdout.contains("evil.md:"), "with file:line:col: \(listed.stdout)")
    }
  }

  /// 19.4: a well-formed progress file with impossible numbers used to crash every start (SIGILL).
  func testImpossibleNumbersInProgressAreSetAsideWithAWarning() throws {
    try write(lesson())
    try FileManager.default.createDirectory(atPath: state + "/proclab", withIntermediateDirectories: true)
    for step in ["-1", "9223372036854775807"] {
      let text = """
        {"version": 1, "current": "evil", "lessons": {"evil": {"step": \(step), "passed": [0, \(step)], "done": false,
        "captures": {}, "answers": {}}}}
        """
      try text.write(toFile: progress, atomically: true, encoding: .utf8)
      for commands in ["lessons", "lesson", "lesson evil; progress"] {
        try? text.write(toFile: progress, atomically: true, encoding: .utf8)
        let r = proclab(commands)
        XCTAssertEqual(r.status, 0, "step \(step), '\(commands)': \(r.status) \(r.stdout) \(r.stderr)")
        XCTAssertTrue(r.stdout.contains("impossible numbers"), r.stdout)
        XCTAssertTrue(r.stdout.contains("set aside as"), r.stdout)
      }
    }
    let aside = try FileManager.default.contentsOfDirectory(atPath: state + "/proclab").filter {
      $0.contains(".corrupt-")
    }
    XCTAssertEqual(Set(aside).count, 6, "every set-aside file kept under its own name: \(aside)")
  }

  /// 19.12: with a state directory that cannot be written, the learner is told at once.
  func testProgressThatCannotBeSavedIsSaidAtOnce() throws {
    try write(lesson())
    // A regular file where the directory should be: even root cannot create it.
    try "".write(toFile: state, atomically: true, encoding: .utf8)
    let r = proclab("lesson evil")
    XCTAssertEqual(r.status, 0, r.stderr)
    XCTAssertTrue(r.stdout.contains("warning: lesson progress will not be saved"), r.stdout)
    XCTAssertTrue(r.stdout.contains("Step 1/1"), "the lesson still runs: \(r.stdout)")
  }

  /// 19.8: control and bidi characters in a lesson's text reach the terminal escaped.
  func testControlCharactersInLessonTextAreEscaped() throws {
    let attacks = ["\u{1B}]0;T\u{07}", "\u{1B}]52;c;cHduZWQ=\u{07}", "\u{1B}[2J", "\u{9B}31m", "\u{202E}"]
    let evil = attacks.joined(separator: " ")
    try write(lesson(title: "T " + evil, intro: "I " + evil, narration: "N " + evil, hint: "H " + evil))
    let r = proclab("lessons; lesson evil; hint; progress")
    XCTAssertEqual(r.status, 0, r.stderr)
    for raw in ["\u{1B}", "\u{07}", "\u{9B}", "\u{202E}"] {
      XCTAssertFalse(r.stdout.contains(raw), "a raw \(raw.unicodeScalars.first!.value) reached the terminal")
    }
    XCTAssertTrue(r.stdout.contains("\\x1b]0;T\\x7"), r.stdout)
    XCTAssertTrue(r.stdout.contains("\\u{202e}"), r.stdout)
    for part in ["T \\x1b", "I \\x1b", "N \\x1b", "H \\x1b"] {
      XCTAssertTrue(r.stdout.contains(part), "\(part) escaped: \(r.stdout)")
    }
  }

  /// 19.14: a history file that is a symbolic link is neither written through nor replaced.
  func testAHistoryFileThatIsALinkIsLeftAlone() throws {
    try FileManager.default.createDirectory(atPath: state + "/proclab", withIntermediateDirectories: true)
    let victim = dir + "/victim.txt"
    try "precious\n".write(toFile: victim, atomically: true, encoding: .utf8)
    try FileManager.default.createSymbolicLink(
      atPath: state + "/proclab/history", withDestinationPath: victim)
    let shell = try TerminalSession(environment: ["XDG_STATE_HOME": state])
    XCTAssertTrue(shell.waitFor("proclab> "), shell.screen)
    XCTAssertTrue(shell.screen.contains("is not a regular file"), "said once: \(shell.screen)")
    shell.type("info\r")
    XCTAssertTrue(shell.waitFor("process ID"), shell.screen)
    shell.type("quit\r")
    XCTAssertEqual(shell.waitForExit(), .exited(0))
    XCTAssertEqual(try String(contentsOfFile: victim, encoding: .utf8), "precious\n")
    let link = try FileManager.default.destinationOfSymbolicLink(atPath: state + "/proclab/history")
    XCTAssertEqual(link, victim, "the link is still there")
  }

  /// 19.10: two shells at a terminal, one after the other leaving: both keep their history.
  func testTwoShellsAppendTheirHistoryRatherThanOverwrite() throws {
    let a = try TerminalSession(environment: ["XDG_STATE_HOME": state])
    let b = try TerminalSession(environment: ["XDG_STATE_HOME": state])
    XCTAssertTrue(a.waitFor("proclab> ") && b.waitFor("proclab> "))
    a.type("explain process\r")
    b.type("explain thread\r")
    XCTAssertTrue(a.waitFor("A process is") && b.waitFor("A thread is"))
    a.type("quit\r")
    XCTAssertEqual(a.waitForExit(), .exited(0))
    b.type("quit\r")
    XCTAssertEqual(b.waitForExit(), .exited(0))
    let history = try String(contentsOfFile: state + "/proclab/history", encoding: .utf8)
    XCTAssertTrue(history.contains("explain process"), history)
    XCTAssertTrue(history.contains("explain thread"), history)
  }
}
