import Foundation
import Glibc
import ProcLabKit
import TestSupport
import XCTest

/// Every command in the registry, fed hostile arguments through the real binary:
/// each must answer with one clear error line (or run, if the value happened to be
/// valid), the shell must stay alive, and strict mode must find nothing left behind.
final class ReliabilityHostileArgumentsTests: XCTestCase {
  /// Values nobody should type: out-of-range and overflowing numbers, non-numbers
  /// that look like numbers, empty words, control characters, terminal escapes,
  /// bidi overrides, shell metacharacters and very long words.
  static let hostileValues: [String] = [
    "99999999999999999999999", "-99999999999999999999", "9223372036854775807", "-9223372036854775808",
    "9223372036854775808", "4294967297", "-1", "0", "-0", "", " ", "1e400", "-1e400", "nan", "inf", "-inf",
    "1.5", "１２", "٣", "1_000", "0b1", "\u{1}\u{7f}", "\u{1b}[31mred\u{1b}[0m", "\u{9b}2J", "\u{202e}evil",
    "\r", "\t", "\u{0}", "'", "\"", "\\", ";", "--", "-", "-x", "%s%n", "$(reboot)", "../../etc/passwd",
    String(repeating: "9", count: 5000), String(repeating: "x", count: 5000),
  ]

  /// A word quoted for the shell's splitter (single quotes; a quote inside becomes '\'').
  static func quoted(_ word: String) -> String {
    "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
  }

  /// The hostile lines for one command: every value as a positional and as every
  /// option's value, missing values, unknown and malformed options, flags given
  /// values, every flag at once (conflicting), and a very long argument.
  static func hostileLines(for command: Command) -> [String] {
    let name = command.name
    var lines: [String] = []
    let valued = command.namedOptions.filter { !$0.isFlag }
    let flags = command.namedOptions.filter { $0.isFlag }
    for value in hostileValues {
      let v = quoted(value)
      lines.append("\(name) \(v)")
      lines.append("\(name) 1 \(v)")
      for option in valued { lines.append("\(name) \(option.name) \(v)") }
    }
    for value in ["-1", "", "99999999999999999999", "\u{1b}]0;title\u{7}"] {
      for option in valued { lines.append("\(name) \(quoted(option.name + "=" + value))") }
    }
    for option in valued where !option.takesRest { lines.append("\(name) \(option.name)") }
    for option in flags { lines.append("\(name) \(option.name)=1") }
    for bogus in ["--bogus", "-x", "---", "--=", "-", "--\u{1b}[2J", "-9999999999999999999999"] {
      lines.append("\(name) \(quoted(bogus))")
    }
    for option in command.namedOptions { lines.append("\(name) \(option.name)x") }
    if flags.count > 1 { lines.append(([name] + flags.map(\.name)).joined(separator: " ")) }
    lines.append("\(name) " + String(repeating: "9", count: 50_000))
    lines.append("\(name) --" + String(repeating: "y", count: 50_000))
    return lines
  }

  /// Lines whose bytes are not UTF-8 at all (a stray byte, an overlong slash, a surrogate, a cut sequence).
  static func invalidUTF8Lines(for command: Command) -> [[UInt8]] {
    let bad: [[UInt8]] = [
      [0xff, 0xfe], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xc2, 0x9b, 0x32, 0x4a],
    ]
    var lines: [[UInt8]] = []
    for bytes in bad {
      lines.append(Array(command.name.utf8) + [0x20] + bytes)
      if let option = command.namedOptions.first(where: { !$0.isFlag }) {
        lines.append(Array("\(command.name) \(option.name) ".utf8) + bytes)
      }
    }
    return lines
  }

  /// A character a terminal would act on rather than show.
  static func isUnsafeForTerminal(_ scalar: Unicode.Scalar) -> Bool {
    let v = scalar.value
    return v < 0x20 || v == 0x7f || (0x80...0x9f).contains(v) || (0x202a...0x202e).contains(v)
      || (0x2066...0x2069).contains(v)
  }

  /// Runs the binary (strict) with `directory` as its working directory: `record FILE` with a
  /// hostile name may create a file, and it must land in the test's own directory.
  struct Run {
    var status: Int32
    var stdout: String
    var stderr: String
    var outcomes: [JSON] { stdout.split(separator: "\n").compactMap { JSON.parse(String($0)) } }
  }

  static func run(_ arguments: [String], in directory: String) -> Run {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: ProcLabBinary.path)
    process.arguments = arguments
    process.currentDirectoryURL = URL(fileURLWithPath: directory)
    var env = ProcessInfo.processInfo.environment
    env["NO_COLOR"] = "1"
    env["PROCLAB_STRICT"] = "1"
    env["XDG_STATE_HOME"] = directory + "/state"
    env["TMPDIR"] = directory
    process.environment = env
    let out = Pipe()
    let err = Pipe()
    process.standardInput = FileHandle.nullDevice
    process.standardOutput = out
    process.standardError = err
    do { try process.run() } catch { return Run(status: -1, stdout: "", stderr: "\(error)") }
    // why: written by the reader thread only, read after it has finished.
    nonisolated(unsafe) var errData = Data()
    let reader = Thread { errData = err.fileHandleForReading.readDataToEndOfFile() }
    reader.start()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    while !reader.isFinished { usleep(1000) }
    return Run(
      status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
      stderr: String(decoding: errData, as: UTF8.self))
  }

  func testEveryCommandAnswersHostileArgumentsWithOneClearLine() throws {
    let commands = Catalog.registry.commands
    var lines: [[UInt8]] = []
    for command in commands {
      lines += Self.hostileLines(for: command).map { Array($0.utf8) }
      lines += Self.invalidUTF8Lines(for: command)
    }
    // Unknown verbs: hostile, long, escapes.
    lines.append(Array(String(repeating: "z", count: 200_000).utf8))
    lines.append(Array("\u{1b}[2J\u{9b}H".utf8))
    lines.append([0xff, 0x20, 0x2d, 0x2d, 0x78])
    lines.append(Array("'unterminated".utf8))

    let directory = NSTemporaryDirectory() + "proclab-hostile-\(getpid())"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }

    // A few processes rather than one, so a crash is pinned to a batch; each ends with `info`.
    let batchSize = 1200
    var answered = 0
    var ran = 0
    var refused = 0
    for start in stride(from: 0, to: lines.count, by: batchSize) {
      let batch = Array(lines[start..<min(start + batchSize, lines.count)])
      let path = directory + "/batch-\(start).txt"
      var bytes: [UInt8] = []
      for line in batch { bytes += line + [10] }
      bytes += Array("info\n".utf8)
      XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
      let run = Self.run(["run", path, "--json", "--allow-exec"], in: directory)
      XCTAssertEqual(
        run.status, 1, "the shell ended by itself, some commands failed: \(run.stderr.suffix(2000))")
      for marker in [
        "Fatal error", "Backtrace", "Current stack trace", "Illegal instruction", "Segmentation",
      ] {
        XCTAssertFalse(run.stderr.contains(marker), "batch at \(start): \(run.stderr.prefix(3000))")
      }
      let outcomes = run.outcomes
      XCTAssertEqual(
        outcomes.count, batch.count + 1,
        "one outcome per line (batch at \(start)); last: \(outcomes.last?["input"]?.stringValue?.prefix(200) ?? "none")"
      )
      XCTAssertEqual(outcomes.last?["command"]?.stringValue, "info")
      XCTAssertEqual(outcomes.last?["ok"]?.boolValue, true, "the shell still answers after the batch")
      for outcome in outcomes {
        answered += 1
        let input = String((outcome["input"]?.stringValue ?? "").prefix(120))
        let command = outcome["command"]?.stringValue ?? ""
        if outcome["ok"]?.boolValue == true {
          ran += 1
          continue
        }
        refused += 1
        guard let error = outcome["error"]?.stringValue else {
          // A command that ran and reported a failure in its own output (not a usage error).
          XCTAssertFalse(
            outcome["output"]?.arrayValue?.isEmpty ?? true, "\(input): failed without saying why")
          continue
        }
        XCTAssertFalse(error.contains("cleanup invariant"), "\(input): \(error)")
        XCTAssertFalse(error.contains("\n"), "\(input): one line, got \(error)")
        XCTAssertLessThan(error.count, 400, "\(input): a short line, got \(error.prefix(500))")
        XCTAssertFalse(
          error.unicodeScalars.contains(where: Self.isUnsafeForTerminal),
          "\(input): control characters are escaped: \(error.debugDescription)")
        let named =
          error.hasPrefix(command + ":") || error.hasPrefix(command + " ")
          || error.hasPrefix("unknown command")
          || error.hasPrefix("unterminated")
        XCTAssertTrue(named, "\(input): the error names the command: \(error)")
      }
    }
    XCTAssertGreaterThan(refused, 3000, "hostile lines were refused")
    print(
      "hostile arguments: \(answered) lines answered, \(refused) refused in one line, \(ran) valid and ran")
  }
}
