import Foundation
import Glibc
import ProcLabKit
import TestSupport
import XCTest

/// `proclab check`, `record` and `replay` through the built binary, and the
/// shipped transcripts: every one must pass `check` and `replay --check`.
final class TranscriptCommandTests: XCTestCase {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
  static var shipped: String { root.appendingPathComponent("transcripts").path }
  static var shippedFiles: [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: shipped)) ?? []).filter { $0.hasSuffix(".txt") }
      .sorted()
      .map { shipped + "/" + $0 }
  }

  var scratch: String!
  override func setUp() {
    scratch = NSTemporaryDirectory() + "proclab-transcripts-\(getpid())-\(UUID().uuidString.prefix(8))"
    try? FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
  }
  override func tearDown() { try? FileManager.default.removeItem(atPath: scratch) }

  func write(_ name: String, _ text: String) -> String {
    let path = scratch + "/" + name
    _ = FileManager.default.createFile(atPath: path, contents: text.data(using: .utf8))
    return path
  }
  func read(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }

  func testEveryShippedTranscriptPassesCheck() {
    let files = Self.shippedFiles
    XCTAssertGreaterThanOrEqual(files.count, 6, "transcripts/ holds the instructor demos")
    let run = ProcLabBinary.run(["check", Self.shipped])
    XCTAssertEqual(run.status, 0, run.stdout + run.stderr)
    XCTAssertEqual(run.lines.filter { $0.hasPrefix("PASS ") }.count, files.count, run.stdout)
    XCTAssertTrue(run.stdout.contains("\(files.count) files: \(files.count) passed"), run.stdout)
  }

  func testReplayAtSpeedZeroWithCheckPassesOnEveryShippedTranscript() {
    for file in Self.shippedFiles {
      let run = ProcLabBinary.run(["replay", file, "--speed", "0", "--check"])
      XCTAssertEqual(run.status, 0, "\(file)\n" + run.stdout + run.stderr)
      XCTAssertTrue(run.stdout.contains("check: every command's output matched"), run.stdout)
      // The narration is shown as captions and the commands are typed after the prompt.
      let transcript = try! Transcript.parse(read(file), file: file)
      if let caption = transcript.steps.first?.narration.first {
        XCTAssertTrue(run.stdout.contains("# " + caption), run.stdout)
      }
      XCTAssertTrue(run.stdout.contains("proclab> " + transcript.steps[0].command.text), run.stdout)
    }
  }

  func testRecordThenCheckRoundTripWithSpawnsThreadsAndRaces() throws {
    // The racy run loses updates on almost every run of 10 million increments on 2 cores; a rare
    // clean run changes the explanation's sentence, so one retry is allowed.
    for attempt in 1...2 {
      if try roundTrip(last: attempt == 2) { return }
    }
  }

  func roundTrip(last: Bool) throws -> Bool {
    let path = scratch + "/session.txt"
    try? FileManager.default.removeItem(atPath: path)
    let input = [
      "# Children first.", "spawn 2", "spawn 1 --hold 20", "ps", "# Then threads.", "thread 2",
      "race --threads 2 --racy", "race --threads 2 --iterations 200000 --lock", "lock --threads 2",
      "record stop",
    ].joined(separator: "\n")
    let recording = ProcLabBinary.run(["record", path], input: input + "\n")
    XCTAssertEqual(recording.status, 0, recording.stdout + recording.stderr)
    let text = read(path)
    XCTAssertTrue(text.contains("# Children first.\nproclab> spawn 2\n"), text)
    XCTAssertTrue(text.contains("# Then threads.\nproclab> thread 2\n"), text)
    XCTAssertTrue(text.contains("{{P1:pid}}"), text)
    XCTAssertTrue(text.contains("{{T1:tid}}"), text)
    XCTAssertTrue(text.contains("{{:duration}}"), text)
    // No PID the recording printed survives as a literal.
    let printedPIDs = Set(
      recording.stdout.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }.filter {
        $0 > 300 && processWasAPID($0, recording.stdout)
      })
    for pid in printedPIDs {
      XCTAssertFalse(text.contains(" \(pid) "), "PID \(pid) written literally:\n\(text)")
    }
    // The held child was a real process, and quitting the recording shell reaped it.
    let check = ProcLabBinary.run(["check", path])
    if check.status != 0 && !last { return false }
    XCTAssertEqual(check.status, 0, check.stdout + "\n---\n" + text)
    XCTAssertTrue(check.stdout.contains("PASS"), check.stdout)
    return true
  }

  /// A lock run its time limit ends (round-3 instructor trial: `counter N of 200,000` was kept literal,
  /// and failed on a loaded machine where the limit came first): the turns are measured, not fixed.
  func testARecordedLockRunThatItsTimeLimitEndsAndAPipelinePassTheirCheck() throws {
    let path = scratch + "/lock.txt"
    try? FileManager.default.removeItem(atPath: path)
    let recording = ProcLabBinary.run(
      ["record", path],
      input: "lock --impl tas --threads 2 --turns 10000000 --ms 20\npipe --pipeline\nrecord stop\n")
    XCTAssertEqual(recording.status, 0, recording.stdout + recording.stderr)
    let text = read(path)
    // The turns are one value wherever the line says them, and the check checks that.
    XCTAssertTrue(
      text.contains("tas: {{V1:int}} turns in {{:duration}}; violations 0; counter {{:int}} of {{V1}}"), text)
    // Both ends of the pipeline are one pipe: named once, referred to after.
    XCTAssertTrue(text.contains("a's fd 1 → {{V2:word}}, b's fd 0 → {{V2}} (one pipe)"), text)
    for _ in 1...2 {
      let check = ProcLabBinary.run(["check", path])
      XCTAssertEqual(check.status, 0, check.stdout + "\n---\n" + text)
    }
  }

  /// Whether a number appears in a `pid` column or after "PID"/"process" in the recorded output.
  func processWasAPID(_ n: Int, _ stdout: String) -> Bool {
    stdout.contains("PID \(n)") || stdout.contains("  \(n)   ") || stdout.contains("process \(n)")
  }

  func testRecordingInProcessWritesCommandsThatUseRecordedPIDsAsReferences() throws {
    let path = scratch + "/kill.txt"
    let session = Session.forFile(allowExec: false)
    defer { session.cleanUp() }
    var printed: [String] = []
    session.write = { printed.append($0) }
    session.execute(line: "record \(path)")
    XCTAssertNotNil(Recorder.active(in: session))
    session.execute(line: "# One child, then SIGTERM.")
    session.execute(line: "spawn 1 --hold 30")
    let pid = try XCTUnwrap(session.children.pids.first)
    XCTAssertTrue(processExists(pid), "the child really exists")
    session.execute(line: "kill \(pid)")
    session.execute(line: "record stop")
    XCTAssertFalse(processExists(pid), "killed and reaped")
    let text = read(path)
    XCTAssertTrue(text.contains("# One child, then SIGTERM.\nproclab> spawn 1 --hold 30\n"), text)
    XCTAssertTrue(text.contains("proclab> kill {{P"), "the command refers to the recorded PID:\n\(text)")
    XCTAssertFalse(text.contains(String(pid)), text)
    let result = FileCheckers.check(file: path, options: CheckOptions())
    XCTAssertEqual(result.status, .passed, result.report + "\n---\n" + text)
    // Paths are checked: no overwriting without --force.
    let again = session.execute(line: "record \(path)")
    XCTAssertTrue(again.first?.error?.contains("exists; add --force") == true, "\(again.first?.error ?? "")")
    let forced = session.execute(line: "record \(path) --force; record stop")
    XCTAssertTrue(forced.allSatisfy(\.succeeded), forced.compactMap(\.error).joined())
  }

  func testUpdateRewritesExpectedOutputButKeepsPlaceholdersThatStillMatch() {
    let path = write(
      "update.txt",
      """
      # Two children that end at once.
      proclab> spawn 2
      posix_spawn created 2 processes in {{t:duration <60s}} ({{:duration}} each): lab copy of proclab
      this line is out of date
      # The help of record.
      proclab> help record
      record — something old

      """)
    let before = ProcLabBinary.run(["check", path])
    XCTAssertEqual(before.status, 1, before.stdout)
    XCTAssertTrue(before.stdout.contains("update.txt:4:1:"), before.stdout)
    let update = ProcLabBinary.run(["check", "--update", path])
    XCTAssertEqual(update.status, 0, update.stdout)
    let text = read(path)
    XCTAssertTrue(
      text.contains(
        "posix_spawn created 2 processes in {{t:duration <60s}} ({{:duration}} each): lab copy of proclab\n"),
      "the placeholder line is kept as written:\n\(text)")
    XCTAssertFalse(text.contains("out of date"), text)
    XCTAssertFalse(text.contains("something old"), text)
    XCTAssertTrue(
      text.contains("# The help of record.\nproclab> help record\nrecord — record the commands"), text)
    XCTAssertTrue(text.contains("{{P"), "new lines get placeholders for the PIDs:\n\(text)")
    let after = ProcLabBinary.run(["check", path])
    XCTAssertEqual(after.status, 0, after.stdout + "\n---\n" + text)
  }

  func testExitStatusesJUnitAndParallelJobs() {
    let good = write("good.txt", "proclab> help record\nrecord — {{:text}}\n...\n")
    let bad = write("bad.txt", "proclab> help record\nrecord — not this\n")
    let broken = write("broken.txt", "proclab> help\n{{x:integer}}\n")
    XCTAssertEqual(ProcLabBinary.run(["check", good]).status, 0)
    let mismatch = ProcLabBinary.run(["check", good, bad])
    XCTAssertEqual(mismatch.status, 1, mismatch.stdout)
    XCTAssertTrue(mismatch.stdout.contains("^ expected \"not this\""), mismatch.stdout)
    let unparsable = ProcLabBinary.run(["check", good, bad, broken])
    XCTAssertEqual(unparsable.status, 2)
    XCTAssertTrue(
      unparsable.stdout.contains("broken.txt:2:1: unknown placeholder kind 'integer'"), unparsable.stdout)
    XCTAssertEqual(ProcLabBinary.run(["check", scratch + "/missing.txt"]).status, 2)

    let junit = ProcLabBinary.run(["check", "--format", "junit", good, bad, broken])
    XCTAssertEqual(junit.status, 2)
    XCTAssertTrue(junit.stdout.hasPrefix("<?xml"), junit.stdout)
    // A test suite per file, a test case per command (a file that cannot be parsed: one error case).
    XCTAssertEqual(junit.stdout.components(separatedBy: "<testsuite ").count - 1, 3, junit.stdout)
    XCTAssertTrue(
      junit.stdout.contains("<testsuite name=\"\(bad)\" tests=\"1\" failures=\"1\" errors=\"0\""),
      junit.stdout)
    XCTAssertTrue(junit.stdout.contains("name=\"line 1: help record\""), junit.stdout)
    XCTAssertEqual(junit.stdout.components(separatedBy: "<testcase ").count - 1, 3)
    XCTAssertTrue(junit.stdout.contains("<failure message="), junit.stdout)
    XCTAssertTrue(junit.stdout.contains("<error message="), junit.stdout)

    // --jobs runs each file in its own checker process; the verdicts are the same.
    let parallel = ProcLabBinary.run(["check", "--jobs", "2", scratch])
    XCTAssertEqual(parallel.status, 2, parallel.stdout)
    XCTAssertEqual(parallel.lines.filter { $0.hasPrefix("PASS ") }.count, 1, parallel.stdout)
    XCTAssertEqual(parallel.lines.filter { $0.hasPrefix("FAIL ") }.count, 1, parallel.stdout)
    XCTAssertTrue(
      parallel.stdout.contains("3 files: 1 passed, 1 failed, 1 could not be read or parsed"), parallel.stdout)
  }

  func testExternalProgramsFromAFileNeedAllowExecOnTheCommandLine() throws {
    let marker = scratch + "/ran"
    let path = write("exec.txt", "proclab> spawn --exec /usr/bin/touch \(marker)\n...\n")
    let refused = ProcLabBinary.run(["replay", path, "--speed", "0"])
    XCTAssertFalse(
      FileManager.default.fileExists(atPath: marker), "the program did not run:\n" + refused.stdout)
    XCTAssertTrue(refused.stdout.contains("--allow-exec"), refused.stdout)
    let checked = ProcLabBinary.run(["check", path])
    XCTAssertFalse(FileManager.default.fileExists(atPath: marker), checked.stdout)
    // In process: a file's session starts with exec refused, and the shell's own command refuses it.
    let session = Session.forFile(allowExec: false)
    defer { session.cleanUp() }
    session.write = { _ in }
    let outcome = session.execute(line: "spawn --exec /usr/bin/touch \(marker)").first
    XCTAssertEqual(outcome?.succeeded, false)
    XCTAssertFalse(FileManager.default.fileExists(atPath: marker))
    // Granted on the command line, it runs.
    let allowed = ProcLabBinary.run(["replay", path, "--speed", "0", "--allow-exec"])
    XCTAssertTrue(FileManager.default.fileExists(atPath: marker), allowed.stdout + allowed.stderr)
  }

  func testReplayStepWaitsForEnterAndQStops() {
    let path = write("step.txt", "# First.\nproclab> help record\n...\n# Second.\nproclab> help spawn\n...\n")
    let both = ProcLabBinary.run(["replay", path, "--speed", "0", "--step", "--check"], input: "\n\n")
    XCTAssertEqual(both.status, 0, both.stdout)
    XCTAssertEqual(both.stdout.components(separatedBy: "keys: Enter or space").count - 1, 1, both.stdout)
    XCTAssertTrue(both.stdout.contains("[2/2 next: help spawn]"), both.stdout)
    // q quits at once, with status 0: the instructor is done, nothing failed.
    let stopped = ProcLabBinary.run(["replay", path, "--speed", "0", "--step"], input: "\nq")
    XCTAssertEqual(stopped.status, 0, stopped.stdout)
    XCTAssertTrue(stopped.stdout.contains("proclab> help record"), stopped.stdout)
    XCTAssertFalse(stopped.stdout.contains("proclab> help spawn"), "q stopped before the second command")
    XCTAssertTrue(stopped.stdout.contains("replay ended (q)"), stopped.stdout)
  }

  func testCtrlCStopsAReplayAndItsChildrenAreCleanedUp() throws {
    let path = write(
      "slow.txt", "proclab> spawn 2 --hold 60\n...\nproclab> help spawn\n...\nproclab> help record\n...\n")
    let process = Process()
    process.executableURL = URL(fileURLWithPath: ProcLabBinary.path)
    // Step mode: Enter runs the first command, then the replay waits for the next Enter, and Ctrl-C comes.
    process.arguments = ["replay", path, "--speed", "0", "--step"]
    var env = ProcessInfo.processInfo.environment
    env["NO_COLOR"] = "1"
    process.environment = env
    let out = Pipe()
    process.standardOutput = out
    let input = Pipe()
    process.standardInput = input
    try process.run()
    input.fileHandleForWriting.write("\n".data(using: .utf8)!)
    defer { try? input.fileHandleForWriting.close() }
    // Wait until the held children exist, then press Ctrl-C.
    let children = TestSupport.children(of: process.processIdentifier, atLeast: 2, timeout: .seconds(10))
    XCTAssertEqual(children.count, 2, "the replay really spawned the children")
    kill(process.processIdentifier, SIGINT)
    process.waitUntilExit()
    let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    XCTAssertEqual(process.terminationStatus, 130, text)
    XCTAssertTrue(text.contains("replay stopped"), text)
    XCTAssertTrue(text.contains("proclab> spawn 2 --hold 60"), text)
    XCTAssertFalse(text.contains("proclab> help spawn"), text)
    for pid in children { XCTAssertFalse(processExists(pid), "child \(pid) was killed and reaped") }
  }

  func testAFileBeingCheckedCannotStartARecording() {
    let target = scratch + "/sneaky.txt"
    let path = write(
      "nested.txt",
      "proclab> record \(target)\nrecord: cannot start recording from a file of commands {{:text}}\n")
    let result = FileCheckers.check(file: path, options: CheckOptions())
    XCTAssertEqual(result.status, .passed, result.report)
    XCTAssertFalse(FileManager.default.fileExists(atPath: target))
  }
}
