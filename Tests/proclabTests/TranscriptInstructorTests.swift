import Foundation
import Glibc
import ProcLabKit
import TestSupport
import XCTest

/// Issue 18 through the built binary: failures that must be written out, an
/// `--update` that never loses a constraint, CI formats, per-file timeouts and
/// dying checkers, what command files may write, and asciicasts.
final class TranscriptInstructorTests: XCTestCase {
  var scratch: String!
  override func setUp() {
    scratch = NSTemporaryDirectory() + "proclab-instructor-\(getpid())-\(UUID().uuidString.prefix(8))"
    try? FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
  }
  override func tearDown() { try? FileManager.default.removeItem(atPath: scratch) }

  func write(_ name: String, _ text: String) -> String {
    let path = scratch + "/" + name
    _ = FileManager.default.createFile(atPath: path, contents: text.data(using: .utf8))
    return path
  }
  func read(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }

  func testAFailingCommandMatchesOnlyAnErrorWrittenOut() {
    let hidden = write("hidden.txt", "proclab> spawn 100000\n...\n")
    let run = ProcLabBinary.run(["check", hidden])
    XCTAssertEqual(run.status, 1, run.stdout)
    XCTAssertTrue(run.stdout.contains("the command failed: spawn: "), run.stdout)
    XCTAssertTrue(run.stdout.contains("only '...' covers that line"), run.stdout)
    let refusedExec = write("exec.txt", "proclab> spawn --exec /bin/true\n...\n")
    XCTAssertEqual(ProcLabBinary.run(["check", refusedExec]).status, 1, "a refused spawn --exec is visible")
    let written = write("written.txt", "proclab> spawn 100000\nspawn: count must be {{:text}}\n")
    XCTAssertEqual(ProcLabBinary.run(["check", written]).status, 0)
    let marker = write("marker.txt", "proclab> spawn 100000\n...\n[error]\n")
    XCTAssertEqual(ProcLabBinary.run(["check", marker]).status, 0)
    let wrongMarker = write("succeeds.txt", "proclab> help record\n...\n[error]\n")
    let wrong = ProcLabBinary.run(["check", wrongMarker])
    XCTAssertEqual(wrong.status, 1, wrong.stdout)
    XCTAssertTrue(wrong.stdout.contains("says this command fails, but it succeeded"), wrong.stdout)
  }

  func testAMismatchReportsOneRootCauseNotACascade() {
    let path = write(
      "cascade.txt",
      """
      proclab> spawn 1 --hold 5
      ...
        {{A:pid}}   {{:pid}}     {{:duration}}  X not this state
      ...
      proclab> kill {{A}} STOP
      {{A}} stopped by SIGSTOP — ps shows state T
      proclab> kill {{A}}
      ...

      """)
    let run = ProcLabBinary.run(["check", "--format", "json", path])
    XCTAssertEqual(run.status, 1, run.stdout)
    guard let doc = JSON.parse(run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)),
      case .array(let files)? = doc["files"], case .array(let commands)? = files.first?["commands"]
    else { return XCTFail(run.stdout) }
    XCTAssertEqual(commands.map { $0["status"]?.stringValue ?? "" }, ["failed", "not run", "not run"])
    let report = files.first?["report"]?.stringValue ?? ""
    XCTAssertTrue(
      report.contains(
        "(2 later commands on lines 5, 7 not checked: they need values the command on line 1 did not capture)"
      ),
      report)
    XCTAssertFalse(report.contains("refers to a value that was never captured"), report)
  }

  func testEmptyTranscriptsAndReadmesAreNotPasses() throws {
    let empty = write("empty.txt", "# Only narration, no command.\n")
    let run = ProcLabBinary.run(["check", empty])
    XCTAssertEqual(run.status, 2, run.stdout)
    XCTAssertTrue(run.stdout.contains("no commands"), run.stdout)
    let folder = scratch + "/course"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    _ = FileManager.default.createFile(atPath: folder + "/README.md", contents: Data("# Notes\n".utf8))
    _ = FileManager.default.createFile(
      atPath: folder + "/good.txt", contents: Data("proclab> help record\nrecord — {{:text}}\n...\n".utf8))
    let inFolder = ProcLabBinary.run(["check", folder])
    XCTAssertEqual(inFolder.status, 0, inFolder.stdout)
    XCTAssertTrue(inFolder.stdout.contains("1 file: 1 passed"), inFolder.stdout)
    let named = ProcLabBinary.run(["check", folder + "/README.md"])
    XCTAssertTrue(named.stdout.contains("SKIP"), named.stdout)
    XCTAssertFalse(named.stdout.contains("passed\n") && named.stdout.contains("1 passed"), named.stdout)
    XCTAssertEqual(named.status, 2, "nothing was checked")
  }

  /// Issue 18.2: every kind of hand-written knowledge survives `--update`, or stays and is reported.
  func testUpdateNeverLosesAHandWrittenConstraint() {
    let text = """
      # A violated bound: left as written, reported, and the file still fails.
      proclab> spawn 2
      posix_spawn created 2 processes in {{t:duration <1ns}} ({{:duration}} each): lab copy of proclab
      ...
      # A satisfied bound on a line whose text changed: kept, reported.
      proclab> spawn 2
      posix_spawn created 2 processes in {{u:duration <60s}} ({{:duration}} each): old words
      ...
      # '...' and an unordered block that still hold are kept; a stale line is replaced.
      proclab> help record
      record — {{:text}}
      ...
      examples:
      ~~~ any order
        record stop
        record demo.txt --force
        record demo.txt --cast demo.cast
        record demo.txt
      ~~~
      this line is stale

      """
    let path = write("update.txt", text)
    let dry = ProcLabBinary.run(["check", "--update", "--dry-run", path])
    XCTAssertEqual(read(path), text, "--dry-run changes nothing")
    XCTAssertTrue(dry.stdout.contains("--- \(path)\n+++ \(path) (updated)\n@@"), dry.stdout)
    XCTAssertTrue(dry.stdout.contains("-this line is stale"), dry.stdout)
    let update = ProcLabBinary.run(["check", "--update", path])
    XCTAssertEqual(update.status, 1, "two constraints do not hold: never PASS\n" + update.stdout)
    XCTAssertFalse(update.stdout.contains("PASS"), update.stdout)
    XCTAssertTrue(update.stdout.contains("line 3 left as written: {{t:duration <1ns}}: "), update.stdout)
    XCTAssertTrue(update.stdout.contains("line 7 left as written"), update.stdout)
    let after = read(path)
    XCTAssertTrue(
      after.contains("2 processes in {{t:duration <1ns}} ({{:duration}} each): lab copy of proclab\n"), after)
    XCTAssertTrue(after.contains("in {{u:duration <60s}} ({{:duration}} each): old words\n"), after)
    XCTAssertTrue(after.contains("record — {{:text}}\n...\nexamples:\n~~~ any order\n  record stop\n"), after)
    XCTAssertFalse(after.contains("this line is stale"), after)
    XCTAssertTrue(update.stdout.contains("@@"), "the diff is printed:\n" + update.stdout)
  }

  /// Round-3 instructor trial: a block drawn around lines the command prints in a fixed order
  /// cannot be rewritten (which lines should it hold?): left as written, and the report says why.
  func testUpdateSaysWhyABlockAroundFixedOrderLinesIsLeftAsWritten() {
    let text = """
      proclab> help race
      race — {{:text}}
      usage: {{:text}}
      ~~~ any order
      options:
        --threads N       threads incrementing the counter (1…64, default 3)
      ~~~
      ...

      """
    let path = write("block.txt", text)
    let update = ProcLabBinary.run(["check", "--update", path])
    XCTAssertEqual(update.status, 1, update.stdout)
    XCTAssertTrue(
      update.stdout.contains(
        "the command prints these lines in a fixed order: fix the block by hand, or drop it"),
      update.stdout)
    XCTAssertEqual(read(path), text, "nothing written is lost")
  }

  func testUpdateOfAStepThatStillHoldsEverywhereEndsInAPass() {
    let path = write(
      "fresh.txt",
      "proclab> help record\nrecord — {{:text}}\nusage: {{:text}}\nnot this line\n...\n")
    let update = ProcLabBinary.run(["check", "--update", path])
    XCTAssertEqual(update.status, 0, update.stdout)
    XCTAssertTrue(update.stdout.contains("— updated"), update.stdout)
    XCTAssertTrue(
      read(path).hasPrefix("proclab> help record\nrecord — {{:text}}\nusage: {{:text}}\n"), read(path))
    XCTAssertEqual(ProcLabBinary.run(["check", path]).status, 0, read(path))
  }

  func testJSONIsOneDocumentAndLongReportsAreCut() throws {
    let good = write("good.txt", "proclab> help record\nrecord — {{:text}}\n...\n")
    let long = write("long.txt", "proclab> help; help; help; help\nonly this\n")
    let run = ProcLabBinary.run(["check", "--format", "json", good, long])
    XCTAssertEqual(run.status, 1)
    let doc = try XCTUnwrap(
      JSON.parse(run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)), run.stdout)
    XCTAssertEqual(doc["summary"]?["files"]?.intValue, 2)
    XCTAssertEqual(doc["summary"]?["passed"]?.intValue, 1)
    XCTAssertEqual(doc["summary"]?["commands_failed"]?.intValue, 1)
    XCTAssertEqual(doc["summary"]?["exit_status"]?.intValue, 1)
    guard case .array(let files)? = doc["files"], files.count == 2,
      case .array(let commands)? = files[1]["commands"]
    else { return XCTFail(run.stdout) }
    XCTAssertEqual(commands.first?["line"]?.intValue, 1)
    XCTAssertEqual(commands.first?["status"]?.stringValue, "failed")
    // Four `help`s print dozens of lines: the report shows the start and the part around the mismatch.
    let report = commands.first?["report"]?.stringValue ?? ""
    XCTAssertTrue(report.contains("lines not shown)"), report)
  }

  func testAHangingFileIsStoppedAtItsTimeoutAndTheOthersAreChecked() {
    let slow = write("a-slow.txt", "proclab> spawn 1 --hold 30\n...\nproclab> wait\n...\n")
    let good = write("b-good.txt", "proclab> help record\nrecord — {{:text}}\n...\n")
    let run = ProcLabBinary.run(["check", "--timeout", "1", "--format", "junit", slow, good])
    XCTAssertNotEqual(run.status, 0, run.stdout)
    XCTAssertTrue(run.stdout.contains("1 s (--timeout)"), run.stdout)
    XCTAssertTrue(run.stdout.contains("<testsuite name=\"\(good)\" tests=\"1\" failures=\"0\""), run.stdout)
  }

  func testACheckerKilledByASignalIsNamedAndTheReportIsStillWritten() throws {
    let slow = write("slow.txt", "proclab> spawn 1 --hold 30\n...\nproclab> wait\n...\n")
    let process = Process()
    process.executableURL = URL(fileURLWithPath: ProcLabBinary.path)
    process.arguments = ["check", "--format", "junit", slow]
    let out = Pipe()
    process.standardOutput = out
    try process.run()
    var checker: Int32?
    for _ in 0..<200 {
      checker = ProcFS.children(of: process.processIdentifier).first
      if let c = checker, !ProcFS.children(of: c).isEmpty { break }
      usleep(50_000)
    }
    let pid = try XCTUnwrap(checker, "check ran its file in a checker child")
    kill(pid, SIGKILL)
    process.waitUntilExit()
    let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    XCTAssertEqual(process.terminationStatus, 2, text)
    XCTAssertTrue(text.contains("killed by SIGKILL (signal 9) before it gave a verdict"), text)
    XCTAssertTrue(text.contains("</testsuites>"), "the JUnit report is whole:\n" + text)
  }

  /// Issue 19.9: a command file cannot record unless the person allows it; --force replaces only regular files.
  func testCommandFilesRecordOnlyWithAFlagAndForceReplacesOnlyRegularFiles() throws {
    let victim = write("victim.txt", "precious\n")
    let commands = write("cmds.txt", "record \(victim) --force\n# overwritten?\nhelp record\nrecord stop\n")
    let refused = ProcLabBinary.run(["run", commands])
    XCTAssertEqual(read(victim), "precious\n", refused.stdout + refused.stderr)
    XCTAssertTrue(refused.stdout.contains("--allow-record"), refused.stdout)
    // Allowed to record, a file still never overwrites (finding 16): only a new name is written.
    let allowed = ProcLabBinary.run(["run", "--allow-record", commands])
    XCTAssertEqual(read(victim), "precious\n", allowed.stdout)
    let fresh = scratch + "/fresh.txt"
    let newName = write("new.txt", "record \(fresh)\n# recorded\nhelp record\nrecord stop\n")
    let recorded = ProcLabBinary.run(["run", "--allow-record", newName])
    XCTAssertTrue(read(fresh).contains("proclab> help record"), recorded.stdout + read(fresh))

    let fifo = scratch + "/fifo"
    XCTAssertEqual(mkfifo(fifo, 0o600), 0)
    let link = scratch + "/link"
    try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: victim)
    for (target, kind) in [
      (fifo, "a FIFO (named pipe)"), (link, "a symbolic link"), ("/dev/null", "a character device"),
    ] {
      let run = ProcLabBinary.run(["-c", "record \(target) --force"])
      XCTAssertTrue(run.stdout.contains("is \(kind), not a regular file"), run.stdout)
    }
    XCTAssertEqual(FileKind.of(fifo), .fifo, "the FIFO is still there")
    XCTAssertEqual(FileKind.of(link), .symbolicLink)
  }

  func testReplayFromCommandNRunsTheEarlierOnesUnseen() {
    let path = write(
      "from.txt", "proclab> spawn 1 --hold 20\n...\n  {{A:pid}}  {{:text}}\n...\nproclab> kill {{A}}\n...\n")
    let run = ProcLabBinary.run(["replay", path, "--speed", "0", "--from", "2", "--check"])
    XCTAssertEqual(run.status, 0, run.stdout + run.stderr)
    XCTAssertTrue(run.stdout.contains("running commands 1–1 first without showing them"), run.stdout)
    XCTAssertFalse(run.stdout.contains("proclab> spawn 1"), run.stdout)
    // The held child of command 1 exists, so command 2 has the PID it needs.
    XCTAssertTrue(run.stdout.contains("killed by SIGTERM"), run.stdout)
    let tooFar = ProcLabBinary.run(["replay", path, "--from", "3"])
    XCTAssertEqual(tooFar.status, 2)
    XCTAssertTrue(tooFar.stderr.contains("has 2 commands"), tooFar.stderr)
    // A negative N is refused with the reason, not as a missing value.
    let negative = ProcLabBinary.run(["replay", path, "--from", "-1"])
    XCTAssertNotEqual(negative.status, 0)
    XCTAssertTrue(
      negative.stderr.contains("--from must be 1 or more (the first command is 1), got -1"), negative.stderr)
  }

  func testReplayWritesAnAsciicastThatParses() throws {
    let path = write(
      "cast.txt", "# First, the help.\nproclab> help record\n...\n# Then a child.\nproclab> spawn 1\n...\n")
    let castPath = scratch + "/demo.cast"
    let run = ProcLabBinary.run(["replay", path, "--speed", "4", "--cast", castPath])
    XCTAssertEqual(run.status, 0, run.stdout + run.stderr)
    let lines = read(castPath).split(separator: "\n").map(String.init)
    let header = try XCTUnwrap(JSON.parse(lines.first ?? ""))
    XCTAssertEqual(header["version"]?.intValue, 2)
    XCTAssertGreaterThan(header["width"]?.intValue ?? 0, 0)
    XCTAssertGreaterThan(header["height"]?.intValue ?? 0, 0)
    var last = 0.0
    var output = ""
    var markers: [String] = []
    for line in lines.dropFirst() {
      guard case .array(let e)? = JSON.parse(line), e.count == 3, let t = e[0].doubleValue,
        let kind = e[1].stringValue, let data = e[2].stringValue
      else { return XCTFail("not an event: \(line)") }
      XCTAssertGreaterThanOrEqual(t, last, "times only grow")
      last = t
      if kind == "o" { output += data } else if kind == "m" { markers.append(data) }
    }
    XCTAssertEqual(markers, ["First, the help.", "Then a child."])
    XCTAssertTrue(output.contains("proclab> help record\r\n"), output)
    XCTAssertTrue(output.contains("posix_spawn created 1 process"), output)
    // The commands were typed at a pace: the cast lasts at least as long as typing them.
    XCTAssertGreaterThan(last, 0.3)
  }

  func testAsciinemaPlaysTheCast() throws {
    let asciinema = [
      "/usr/local/bin/asciinema", "/usr/bin/asciinema", NSHomeDirectory() + "/.pyenv/shims/asciinema",
    ]
    .first { FileManager.default.isExecutableFile(atPath: $0) }
    try XCTSkipUnless(asciinema != nil, "asciinema is not installed here (pip install asciinema)")
    let path = write("play.txt", "# Shown.\nproclab> help record\n...\n")
    let castPath = scratch + "/play.cast"
    XCTAssertEqual(ProcLabBinary.run(["replay", path, "--speed", "0", "--cast", castPath]).status, 0)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: asciinema!)
    process.arguments = ["cat", castPath]
    let out = Pipe()
    process.standardOutput = out
    process.standardError = out
    try process.run()
    process.waitUntilExit()
    let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    XCTAssertEqual(process.terminationStatus, 0, text)
    XCTAssertTrue(text.contains("proclab> help record"), text)
  }

  func testRecordWritesACastAndKeepsCommandsAsTyped() throws {
    let path = scratch + "/typed.txt"
    let castPath = scratch + "/typed.cast"
    let input = "# Spaces kept.\nhelp 'a  b   c'\nhistory\nrecord stop\n"
    // (`help 'a  b   c'` fails, as it should: there is no such command; the recording goes on.)
    let run = ProcLabBinary.run(["record", path, "--cast", castPath], input: input)
    XCTAssertTrue(run.stdout.contains("recorded 2 commands"), run.stdout + run.stderr)
    let text = read(path)
    XCTAssertTrue(text.contains("proclab> help 'a  b   c'\n"), text)
    XCTAssertTrue(text.contains("    1  # Spaces kept.\n    2  help 'a  b   c'\n"), text)
    let check = ProcLabBinary.run(["check", path])
    XCTAssertEqual(check.status, 0, check.stdout + "\n" + text)
    let cast = read(castPath)
    XCTAssertTrue(cast.hasPrefix("{\"version\":2,"), cast)
    XCTAssertTrue(cast.contains("\"m\",\"Spaces kept.\""), cast)
    XCTAssertTrue(cast.contains("proclab> help 'a  b   c'"), cast)
  }
}
