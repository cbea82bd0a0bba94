import Foundation
import Glibc
import ProcLabKit
import TestSupport
import XCTest

/// The instructor's trial findings (findings/instructor.md), each through the real
/// recorder or the built binary: plain-text recordings, values the command fixes kept
/// literal, reports that escape and cut what they quote, `[error]`, `--dry-run`, and
/// what a file of commands may not overwrite.
final class TranscriptFindingsTests: XCTestCase {
  var scratch: String!
  override func setUp() {
    scratch = NSTemporaryDirectory() + "proclab-findings-\(getpid())-\(UUID().uuidString.prefix(8))"
    try? FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
  }
  override func tearDown() {
    Style.enabled = false
    try? FileManager.default.removeItem(atPath: scratch)
  }

  func write(_ name: String, _ text: String) -> String {
    let path = scratch + "/" + name
    _ = FileManager.default.createFile(atPath: path, contents: text.data(using: .utf8))
    return path
  }
  func read(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }

  /// Records `commands` in a session of its own (colour as asked) and returns the file's text.
  func record(_ commands: [String], color: Bool = false, name: String = "rec.txt") -> (String, String) {
    let path = scratch + "/" + name
    let session = Session.forFile(allowExec: false)
    defer { session.cleanUp() }
    session.settings.color = color
    Style.enabled = color
    var printed = ""
    session.write = { printed += $0 }
    session.execute(line: "record \(path)")
    for c in commands { session.execute(line: c) }
    session.execute(line: "record stop")
    Style.enabled = false
    return (path, read(path))
  }

  // MARK: 1 — colour

  func testARecordingMadeWithColourIsPlainTextAndPassesItsCheck() {
    let (path, text) = record(["spawn 1 --hold 20", "ps", "thread 2"], color: true)
    XCTAssertTrue(text.contains("proclab> ps\n"), text)
    XCTAssertFalse(text.contains("\u{1B}"), "no escape sequence in a recording:\n" + Printable.line(text))
    let result = FileCheckers.check(file: path, options: CheckOptions())
    XCTAssertEqual(result.status, .passed, result.report + "\n---\n" + text)
  }

  func testAnExpectedLineWithColourCodesMatchesThePlainOutput() throws {
    // An older recorder wrote the dim table heading with its escapes.
    let path = write(
      "old.txt", "proclab> spawn 1\n...\n\u{1B}[2m   PID  PARENT\u{1B}[0m{{:text}}\n...\n")
    let run = ProcLabBinary.run(["check", path])
    XCTAssertEqual(run.status, 0, run.stdout)
    var c = Captures()
    let e = try ExpectedOutput(lines: ["\u{1B}[1mbold\u{1B}[0m {{n:int}}"], file: "t.txt", firstLine: 1)
    XCTAssertNil(e.match(["bold 7"], captures: &c))
    XCTAssertEqual(c["n"], "7")
  }

  // MARK: 4, 13 — what a report quotes

  func testACheckReportEscapesTheFilesControlCharacters() {
    let path = write(
      "evil.txt",
      "proclab> thread 1\ncreated 1 threads \u{1B}]0;PWNED\u{07} in \u{1B}[2J{{:duration}}\n...\n")
    for format in ["text", "json", "junit"] {
      let run = ProcLabBinary.run(["check", "--format", format, path])
      XCTAssertEqual(run.status, 1, run.stdout)
      XCTAssertFalse(run.stdout.contains("\u{1B}"), "\(format): raw ESC in:\n" + Printable.line(run.stdout))
      XCTAssertFalse(run.stdout.contains("\u{07}"), "\(format): raw BEL")
    }
    let text = ProcLabBinary.run(["check", path]).stdout
    XCTAssertTrue(text.contains("\\x1b]0;PWNED"), text)
  }

  func testAHugeCommandLineIsCutAndTheReasonStays() {
    let path = write("big.txt", "proclab> help " + String(repeating: "a", count: 300_000) + "\nnot this\n")
    let run = ProcLabBinary.run(["check", path])
    XCTAssertEqual(run.status, 1)
    XCTAssertLessThan(run.stdout.count, 4_000, "the command line is cut")
    XCTAssertTrue(run.stdout.contains("more characters)' (line 1) does not match"), run.stdout)
    XCTAssertTrue(run.stdout.contains("expected: not this"), "the reason is kept:\n" + run.stdout)
  }

  // MARK: 6 — what the command fixes stays literal

  func testValuesTheArgumentsOrTheExperimentFixAreRecordedLiterally() {
    let (path, text) = record([
      "signal USR1 --merge", "semaphore --permits 2", "spawn 3 --hold 60", "ps", "thread 3", "condvar",
      "thread 1",
    ])
    for literal in [
      "the shell sent each 5 times\n",
      "ShdPnd 0000000200000200",
      "SIGUSR1 delivered 1 time\n",
      "delivered 5 times, values 1, 2, 3, 4, 5\n",
      "permits 2\n",
      "sleeps 60 s",
      "created 3 threads in ",
      "joined all 3 in ",
      "consumed twice 0, never consumed 0",
      // Finding 15: one thread is one thread.
      "proclab> thread 1\ncreated 1 thread in ", "after the thread added 1", "joined it in ",
    ] {
      XCTAssertTrue(text.contains(literal), "'\(literal)' is literal in:\n" + text)
    }
    // A bound Linux guarantees is written as the bound: at most the permits are inside.
    XCTAssertTrue(text.contains("most inside at once: {{:int 1..2}}"), text)
    XCTAssertFalse(text.contains("delivered {{:int}}"), text)
    let result = FileCheckers.check(file: path, options: CheckOptions())
    XCTAssertEqual(result.status, .passed, result.report + "\n---\n" + text)
  }

  // MARK: 14 — [error]

  func testErrorAloneMatchesAOneLineErrorAndOnlyAnError() {
    let alone = write("alone.txt", "proclab> spawn 100000\n[error]\n")
    let run = ProcLabBinary.run(["check", alone])
    XCTAssertEqual(run.status, 0, run.stdout)
    let ok = write("ok.txt", "proclab> help record\n[error]\n")
    let wrong = ProcLabBinary.run(["check", ok])
    XCTAssertEqual(wrong.status, 1, wrong.stdout)
  }

  // MARK: 15 — --dry-run

  func testUpdateDryRunSaysWouldUpdateAndFailsLikeTheFileOnDisk() {
    let text = "proclab> help record\nrecord — an old summary\n...\n"
    let path = write("dry.txt", text)
    let dry = ProcLabBinary.run(["check", "--update", "--dry-run", path])
    XCTAssertEqual(dry.status, 1, "the file on disk still fails:\n" + dry.stdout)
    XCTAssertFalse(dry.stdout.contains("PASS"), dry.stdout)
    XCTAssertTrue(dry.stdout.contains("would be updated (--dry-run"), dry.stdout)
    XCTAssertTrue(dry.stdout.contains("-record — an old summary"), "the diff is shown:\n" + dry.stdout)
    XCTAssertEqual(read(path), text)
    let json = ProcLabBinary.run(["check", "--update", "--dry-run", "--format", "json", path])
    XCTAssertEqual(json.status, 1, json.stdout)
    XCTAssertTrue(json.stdout.contains("\"dry_run\""), json.stdout)
  }

  // MARK: 16 — record --force from a file

  func testAFileOfCommandsNeverOverwritesARecordingEvenWithAllowRecord() {
    let victim = write("victim.txt", "precious\n")
    let commands = write("cmds.txt", "record \(victim) --force\nhelp record\nrecord stop\n")
    let run = ProcLabBinary.run(["run", "--allow-record", commands])
    XCTAssertEqual(read(victim), "precious\n", run.stdout + run.stderr)
    XCTAssertTrue(run.stdout.contains("--force is refused in commands read from a file"), run.stdout)
    // A new name is still recorded from the file.
    let fresh = scratch + "/fresh.txt"
    let ok = write("ok.txt", "record \(fresh)\nhelp record\nrecord stop\n")
    _ = ProcLabBinary.run(["run", "--allow-record", ok])
    XCTAssertTrue(read(fresh).contains("proclab> help record"), read(fresh))
  }

  // MARK: 3, 7, 8 — --update never deletes, duplicates or loosens a written line

  func testUpdateLeavesAChangedReferenceAsWrittenAndTheFileFails() {
    let path = write(
      "ref.txt",
      """
      proclab> thread 2
      created 2 threads in {{:duration}} {{:text}}; all in process {{S:pid}}
      /proc/{{S}}/task while they live: {{N:int}} tasks: {{:text}}
      ...
      proclab> thread 1
      created 1 thread in {{:duration}} {{:text}}; all in process {{S}}
      ...

      """)
    XCTAssertEqual(ProcLabBinary.run(["check", path]).status, 0, read(path))
    let broken = read(path).replacingOccurrences(of: "all in process {{S}}\n", with: "all in process {{N}}\n")
    _ = write("ref.txt", broken)
    let update = ProcLabBinary.run(["check", "--update", path])
    XCTAssertEqual(update.status, 1, update.stdout)
    XCTAssertFalse(update.stdout.contains("PASS"), update.stdout)
    XCTAssertTrue(update.stdout.contains("line 6 left as written"), update.stdout)
    XCTAssertEqual(read(path), broken, "nothing deleted, nothing added")
    XCTAssertEqual(ProcLabBinary.run(["check", path]).status, 1)
  }

  func testUpdateRewritesAChangedLineNextToASkipInsteadOfDroppingIt() {
    let path = write(
      "skip.txt",
      """
      proclab> spawn 3 --no-reap
      ...
      proclab> wait all
      took back the kids{{:text}}
      ...
      → All 3 ended fine, in my own words.
      ...

      """)
    let update = ProcLabBinary.run(["check", "--update", path])
    XCTAssertEqual(update.status, 0, update.stdout)
    XCTAssertTrue(update.stdout.contains("+++ \(path) (updated)"), "the diff is shown:\n" + update.stdout)
    let after = read(path)
    XCTAssertTrue(after.contains("proclab> wait all\nreaped 3 children"), after)
    XCTAssertTrue(after.contains("\n...\n→ All 3 exited 0: "), "rewritten, not removed:\n" + after)
    XCTAssertEqual(after.components(separatedBy: "\n").count, 8, after)
    XCTAssertEqual(ProcLabBinary.run(["check", path]).status, 0, after)
  }

  func testUpdateRewritesAChangedUnorderedBlockInPlaceOnce() {
    let path = scratch + "/block.txt"
    _ = ProcLabBinary.run(["record", path], input: "spawn 3 --no-reap\nwait all\nhelp record\nrecord stop\n")
    let recorded = read(path)
    XCTAssertEqual(recorded.components(separatedBy: "~~~ any order").count, 2, recorded)
    guard let row = recorded.range(of: "exited 0  {{:text}}") else { return XCTFail(recorded) }
    let broken = recorded.replacingCharacters(in: row, with: "exited 1  {{:text}}")
    _ = write("block.txt", broken)
    XCTAssertEqual(ProcLabBinary.run(["check", path]).status, 1)
    let update = ProcLabBinary.run(["check", "--update", path])
    XCTAssertEqual(update.status, 0, update.stdout)
    let after = read(path)
    // The same lines; a table's spacing follows this run's column widths (a duration of
    // "1.2 ms" or "12.3 ms"), and the matcher reads any run of spaces alike.
    func spaced(_ text: String) -> String {
      text.split(separator: "\n", omittingEmptySubsequences: false).map {
        $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
      }.joined(separator: "\n")
    }
    XCTAssertEqual(
      spaced(after), spaced(recorded), "the block is rewritten in place, once:\n" + update.stdout)
    XCTAssertEqual(ProcLabBinary.run(["check", path]).status, 0, after)
  }

  // MARK: 15 — a recording without commands

  func testARecordingWithoutCommandsLeavesNoFile() {
    let piped = scratch + "/piped.txt"
    let run = ProcLabBinary.run(["record", piped], input: "# only narration\n")
    XCTAssertFalse(FileManager.default.fileExists(atPath: piped), run.stdout)
    XCTAssertTrue(run.stdout.contains("nothing recorded"), run.stdout)
    let stopped = scratch + "/stopped.txt"
    let stop = ProcLabBinary.run(["-c", "record \(stopped); record stop"])
    XCTAssertFalse(FileManager.default.fileExists(atPath: stopped), stop.stdout)
    let kept = scratch + "/kept.txt"
    _ = ProcLabBinary.run(["record", kept], input: "help record\n")
    XCTAssertEqual(ProcLabBinary.run(["check", kept]).status, 0, read(kept))
  }

  // MARK: 12 — a cast's timing

  func testACastWritesATypedLineWhenItWasEnteredNotWhenItsOutputCame() throws {
    let path = scratch + "/timed.txt"
    let castPath = scratch + "/timed.cast"
    let run = ProcLabBinary.run(
      ["record", path, "--cast", castPath], input: "# Children.\nspawn 1 --hold 1\nwait all\nrecord stop\n")
    XCTAssertTrue(run.stdout.contains("recorded 2 commands"), run.stdout)
    var events: [(time: Double, kind: String, text: String)] = []
    for line in read(castPath).split(separator: "\n").dropFirst() {
      guard case .array(let e)? = JSON.parse(String(line)), e.count == 3 else { continue }
      events.append((e[0].doubleValue ?? -1, e[1].stringValue ?? "", e[2].stringValue ?? ""))
    }
    func first(_ kind: String, _ text: String) throws -> Double {
      try XCTUnwrap(
        events.first { $0.kind == kind && $0.text.contains(text) }?.time, "\(kind) \(text): \(events)")
    }
    XCTAssertNotNil(try? first("i", "wait all\r"), "what was typed is an input event")
    // `wait all` was typed before the child's 1 s hold ran out; its output came after it.
    let typed = try first("o", "proclab> wait all")
    let reaped = try first("o", "reaped 1 child")
    XCTAssertGreaterThan(reaped - typed, 0.3, "\(events)")
    XCTAssertLessThan(try first("m", "Children."), try first("o", "posix_spawn created"))
  }
}
