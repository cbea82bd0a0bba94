import Glibc
import ProcLabKit
import TestSupport
import XCTest

/// The built binary, driven as a script or an autograder drives it.
final class ShellEndToEndTests: XCTestCase {
  func testDashCRunsEachCommandAndExitsZero() {
    let run = ProcLabBinary.text("info; help")
    XCTAssertEqual(run.status, 0, run.stderr)
    XCTAssertTrue(run.stdout.contains("process ID"))
    XCTAssertTrue(run.stdout.contains("processes        spawn, ps"), run.stdout)
    XCTAssertFalse(run.stdout.contains("\u{1B}["), "no escape codes without a terminal")
  }

  func testInfoReportsTheShellAsTheKernelSeesIt() throws {
    let run = ProcLabBinary.json("info")
    let facts = try XCTUnwrap(run.outcomes.first?["facts"])
    let pid = Int32(try XCTUnwrap(facts["pid"]?.intValue))
    XCTAssertNotEqual(pid, getpid())
    XCTAssertEqual(facts["ppid"]?.intValue, Int(getpid()), "the test process started it")
    XCTAssertEqual(facts["threads"]?.intValue, 1)
    XCTAssertEqual(facts["cores"]?.intValue, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    let fds = try XCTUnwrap(facts["descriptors"]?.arrayValue).compactMap(\.intValue)
    XCTAssertEqual(Array(fds.prefix(3)), [0, 1, 2])
  }

  func testPipedStdinReadsPlainLinesWithoutAPrompt() {
    let run = ProcLabBinary.run([], input: "info\nhelp info\n")
    XCTAssertEqual(run.status, 0, run.stderr)
    XCTAssertFalse(run.stdout.contains("proclab>"))
    XCTAssertTrue(run.stdout.contains("usage: info"))
  }

  func testAFailingCommandDoesNotStopTheOthersButSetsTheExitStatus() {
    let run = ProcLabBinary.run([], input: "nosuch\ninfo\n")
    XCTAssertEqual(run.status, 1)
    XCTAssertTrue(run.stdout.contains("unknown command 'nosuch'"))
    XCTAssertTrue(run.stdout.contains("process ID"), "info still ran")
    XCTAssertEqual(ProcLabBinary.text("info; bogus --x").status, 1)
  }

  func testJSONIsOneObjectPerCommand() throws {
    let run = ProcLabBinary.json("info; set explain full; hepl")
    XCTAssertEqual(run.outcomes.count, 3, run.stdout)
    XCTAssertEqual(run.outcomes.map { $0["command"]?.stringValue }, ["info", "set", "hepl"])
    XCTAssertEqual(run.outcomes[2]["ok"], .bool(false))
    XCTAssertEqual(run.outcomes[2]["error"]?.stringValue, "unknown command 'hepl' — did you mean 'help'?")
    XCTAssertEqual(run.lines.filter { !$0.isEmpty }.count, 3, "nothing but JSON lines on stdout")
  }

  func testRunExecutesAFileOfCommands() throws {
    let path = NSTemporaryDirectory() + "proclab-run-\(getpid()).txt"
    try "info\n# a comment\nhelp set\n".write(toFile: path, atomically: true, encoding: .utf8)
    defer { unlink(path) }
    let run = ProcLabBinary.run(["run", path])
    XCTAssertEqual(run.status, 0, run.stderr)
    XCTAssertTrue(run.stdout.contains("usage: set"))
    XCTAssertEqual(ProcLabBinary.run(["run", "/nonexistent/file"]).status, 2)
  }

  func testVersionAndHelpAnswer() {
    XCTAssertEqual(
      ProcLabBinary.run(["--version"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines), "0.1.0")
    XCTAssertTrue(ProcLabBinary.run(["--help"]).stdout.contains("-c <commands>"))
  }

  func testHostileInputNeverCrashesTheShell() {
    let hostile = [
      String(repeating: "a", count: 100_000), "\u{01}\u{02}\u{1B}[2J", "help '", "set explain",
      "set color purple",
      "history -5", "history 99999999999999999999", "explain nonsense", ";;;", "\"", "help \u{FFFF}",
    ]
    let run = ProcLabBinary.run([], input: hostile.joined(separator: "\n") + "\ninfo\n")
    XCTAssertEqual(run.status, 1, "bad commands fail…")
    XCTAssertTrue(run.stdout.contains("process ID"), "…and the shell is still there afterwards")
    XCTAssertFalse(run.stderr.contains("Fatal error"))
    for line in run.lines { XCTAssertLessThan(line.count, 400, "errors stay one short line") }
  }
}
