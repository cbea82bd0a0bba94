import Foundation
import Glibc
import ProcLabKit
import TestSupport
import XCTest

/// How the shell ends: it never leaves children behind and never loses what it saves.
final class ShellLifecycleTests: XCTestCase {
  var state = ""
  override func setUp() {
    state = NSTemporaryDirectory() + "proclab-life-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
  }
  override func tearDown() { try? FileManager.default.removeItem(atPath: state) }

  /// The PIDs a `spawn --hold` printed (the first column of its table).
  func heldPIDs(in screen: String) -> [Int32] {
    screen.split(whereSeparator: \.isNewline).compactMap { line -> Int32? in
      let words = line.split(separator: " ")
      guard words.count > 3, words[3] == "S" || line.contains("sleeping"), let pid = Int32(words[0]) else {
        return nil
      }
      return pid
    }
  }

  func testSIGTERMAndSIGHUPEndHeldChildrenAndSaveHistory() throws {
    for signal in [SIGTERM, SIGHUP] {
      let shell = try TerminalSession(environment: ["XDG_STATE_HOME": state])
      XCTAssertTrue(shell.waitFor("proclab> "))
      let mark = shell.mark
      shell.type("spawn 2 --hold 120\r")
      XCTAssertTrue(shell.waitFor("quitting kills and reaps them", after: mark), shell.screen)
      let pids = heldPIDs(in: String(shell.screen[mark...]))
      XCTAssertEqual(pids.count, 2, shell.screen)
      for pid in pids { XCTAssertEqual(ProcFS.stat(pid)?.parent, shell.pid, "held child of the shell") }
      kill(shell.pid, signal)
      XCTAssertEqual(shell.waitForExit(), .exited(128 + signal))
      for pid in pids { XCTAssertNil(ProcFS.stat(pid), "child \(pid) was killed and reaped, not orphaned") }
      let history = try String(contentsOfFile: state + "/proclab/history", encoding: .utf8)
      XCTAssertTrue(history.contains("spawn 2 --hold 120"), "history saved on \(Signals.name(signal))")
    }
  }

  func testQuitAndEndOfInputReapHeldChildren() throws {
    let run = ProcLabBinary.json("spawn 3 --hold 120")
    XCTAssertEqual(run.status, 0, run.stderr)
    let pids = (run.outcomes.first?["facts"]?["children"]?.arrayValue ?? []).compactMap {
      $0["pid"]?.intValue
    }
    XCTAssertEqual(pids.count, 3, run.stdout)
    for pid in pids { XCTAssertNil(ProcFS.stat(Int32(pid)), "held child \(pid) ended with the shell") }
  }

  func testAnUnwritableStateDirectoryCostsOneWarningAndNothingElse() throws {
    let shell = try TerminalSession(environment: ["XDG_STATE_HOME": "/proc/proclab-cannot-write-here"])
    XCTAssertTrue(shell.waitFor("proclab> "), shell.screen)
    XCTAssertTrue(shell.screen.contains("history will not be saved"))
    let mark = shell.mark
    shell.type("info\r")
    XCTAssertTrue(shell.waitFor("process ID", after: mark))
    shell.type("quit\r")
    XCTAssertEqual(shell.waitForExit(), .exited(0))
  }

  func testKillingAWriterMidWriteLeavesTheFileWhole() throws {
    try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
    let path = state + "/progress.json"
    let size = 1 << 20
    try StateDirectory.writeAtomically(String(repeating: "0", count: size), to: path)
    for attempt in 0..<5 {
      let writer = try LabProcess.start("atomic-writer", ["path": .string(path), "bytes": .int(size)])
      XCTAssertNotNil(try writer.nextMessage(timeout: .seconds(10)))
      usleep(useconds_t(20_000 + attempt * 7_000))
      try writer.signal(SIGKILL)
      let run = try writer.finish(timeout: .seconds(10))
      XCTAssertEqual(run.status.signal, SIGKILL)
      let bytes = try XCTUnwrap(FileManager.default.contents(atPath: path))
      XCTAssertEqual(bytes.count, size, "never a short file")
      XCTAssertEqual(Set(bytes).count, 1, "never two versions mixed")
    }
  }
}
