import Foundation
import Glibc
import ProcLabKit
import TestSupport
import XCTest

/// What a newcomer meets: a greeting at a terminal (never in a script), a `help`
/// that fits one 24-row screen, `clear`, and a goodbye that says what was ended.
final class ShellFirstContactTests: XCTestCase {
  var state = ""
  override func setUp() {
    state = NSTemporaryDirectory() + "proclab-first-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
  }
  override func tearDown() { try? FileManager.default.removeItem(atPath: state) }

  func start() throws -> TerminalSession {
    let shell = try TerminalSession(environment: ["XDG_STATE_HOME": state])
    XCTAssertTrue(shell.waitFor("proclab> "), "the prompt appears: \(shell.screen)")
    return shell
  }

  func testAGreetingAtATerminalOnlyBeforeTheFirstPrompt() throws {
    let shell = try start()
    let before = String(shell.screen[..<shell.screen.range(of: "proclab> ")!.lowerBound])
    for words in ["a shell for learning", "lessons", "help", "quit, exit or Ctrl-D"] {
      XCTAssertTrue(before.contains(words), "the greeting says '\(words)': \(before)")
    }
    XCTAssertLessThanOrEqual(before.split(separator: "\n").count, 6, "a few lines: \(before)")
    shell.type("quit\r")
    XCTAssertEqual(shell.waitForExit(), .exited(0))

    // A script, a pipe and --json get only their commands' output.
    for run in [
      ProcLabBinary.text("info"), ProcLabBinary.run([], input: "info\n"), ProcLabBinary.json("info"),
    ] {
      XCTAssertEqual(run.status, 0, run.stderr)
      XCTAssertFalse(run.stdout.contains("a shell for learning"), run.stdout)
      XCTAssertFalse(run.stdout.contains("Bye."), "no goodbye in a script: \(run.stdout)")
    }
  }

  func testHelpFitsOneScreenAndLeadsToAreasAndCommands() throws {
    let overview = ProcLabBinary.text("help")
    XCTAssertEqual(overview.status, 0, overview.stderr)
    let lines = overview.stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
    XCTAssertLessThanOrEqual(lines.count, 23, "help and the next prompt fit 24 rows:\n\(overview.stdout)")
    for line in lines { XCTAssertLessThanOrEqual(line.count, 80, "within 80 columns: \(line)") }
    // Every command the shell knows is named, under its area.
    for command in Catalog.commands {
      XCTAssertTrue(overview.stdout.contains(command.name), "help names \(command.name)")
    }
    let json = ProcLabBinary.json("help; help threads; help race; help sync; help nonsense")
    XCTAssertEqual(json.outcomes.count, 5, json.stdout)
    XCTAssertEqual(
      json.outcomes[0]["facts"]?["areas"]?["threads"]?.arrayValue?.compactMap(\.stringValue),
      ["thread", "race", "parallel", "io"])
    XCTAssertEqual(json.outcomes[1]["facts"]?["area"]?.stringValue, "threads")
    XCTAssertTrue(
      json.outcomes[1]["output"]?.arrayValue?.contains { $0.stringValue?.contains("race") == true } == true)
    XCTAssertEqual(json.outcomes[2]["facts"]?["command"]?.stringValue, "race")
    XCTAssertEqual(json.outcomes[3]["facts"]?["area"]?.stringValue, "synchronization", "a short form")
    XCTAssertEqual(json.outcomes[4]["ok"]?.boolValue, false)
    XCTAssertTrue(json.outcomes[4]["error"]?.stringValue?.contains("no command or area") == true)
  }

  func testAOneLetterTypoGetsNoNonsenseSuggestion() {
    let run = ProcLabBinary.text("e")
    XCTAssertTrue(run.stdout.contains("unknown command 'e'"), run.stdout)
    XCTAssertFalse(run.stdout.contains("did you mean"), run.stdout)
  }

  func testClearAndCtrlLClearTheScreenAtATerminalOnly() throws {
    let shell = try start()
    var mark = shell.mark
    shell.type("clear\r")
    XCTAssertTrue(
      shell.waitFor("\u{1B}[H\u{1B}[2J", after: mark), "clear: \(shell.screen[mark...].debugDescription)")
    XCTAssertTrue(shell.waitFor("proclab> ", after: mark))
    mark = shell.mark
    shell.type("\u{0C}")
    // readline's clear-screen, from the terminal's own description (xterm: ESC [H ESC [2J).
    XCTAssertTrue(
      shell.waitFor("\u{1B}[2J", after: mark), "Ctrl-L: \(shell.screen[mark...].debugDescription)")
    shell.type("quit\r")
    XCTAssertEqual(shell.waitForExit(), .exited(0))

    let script = ProcLabBinary.json("clear")
    XCTAssertEqual(script.outcomes.first?["facts"]?["cleared"]?.boolValue, false)
    XCTAssertFalse(ProcLabBinary.text("clear").stdout.contains("\u{1B}"), "no escape codes into a pipe")
  }

  func testQuitSaysWhatItEndedAndEndsIt() throws {
    let shell = try start()
    var mark = shell.mark
    shell.type("spawn 2 --hold 120; thread 2 --hold 120\r")
    XCTAssertTrue(shell.waitFor("proclab> ", after: mark), shell.screen)
    let children = ProcFS.children(of: shell.pid)
    XCTAssertEqual(children.count, 2, shell.screen)
    let threads = ProcFS.threads(of: shell.pid).count
    XCTAssertGreaterThanOrEqual(threads, 3, "the held threads are the shell's own")
    mark = shell.mark
    shell.type("quit\r")
    XCTAssertEqual(shell.waitForExit(), .exited(0))
    let goodbye = String(shell.screen[mark...])
    XCTAssertTrue(
      goodbye.contains("Ended 2 held children (\(children.map(String.init).joined(separator: ", ")))"),
      goodbye)
    XCTAssertTrue(goodbye.contains("Ended 2 held threads"), goodbye)
    XCTAssertTrue(goodbye.contains("Bye."), goodbye)
    for pid in children {
      let s = ProcFS.stat(pid)?.state
      XCTAssertTrue(s == nil || s == "Z", "held child \(pid) really ended")
    }
  }

  func testCtrlDInALessonSaysTheProgressIsSaved() throws {
    let shell = try start()
    var mark = shell.mark
    shell.type("lesson 1\r")
    XCTAssertTrue(shell.waitFor("Step 1/", after: mark), shell.screen)
    mark = shell.mark
    shell.type("\u{04}")
    XCTAssertEqual(shell.waitForExit(), .exited(0))
    let goodbye = String(shell.screen[mark...])
    XCTAssertTrue(goodbye.contains("Nothing was left running."), goodbye)
    XCTAssertTrue(goodbye.contains("lesson progress is saved in"), goodbye)
    XCTAssertTrue(FileManager.default.fileExists(atPath: state + "/proclab/progress.json"), "and it is")
  }

  func testHistoryShowsControlCharactersEscaped() {
    // A pasted erase-screen sequence, a bell and a right-to-left override.
    let hostile = "help \u{1B}[2Jpwned\u{07}x\u{202E}y"
    let run = ProcLabBinary.run([], input: hostile + "\nhistory\n")
    let shown = run.lines.first { $0.contains("pwned") && !$0.contains("no command") } ?? ""
    XCTAssertTrue(shown.contains("\\x1b[2Jpwned\\x7x\\u{202e}y"), run.stdout)
    XCTAssertFalse(run.stdout.contains("\u{1B}"), "no raw ESC reaches the terminal")
    XCTAssertFalse(run.stdout.contains("\u{07}"), "no raw BEL")
    XCTAssertFalse(run.stdout.contains("\u{202E}"), "no raw bidi override")
  }
}
