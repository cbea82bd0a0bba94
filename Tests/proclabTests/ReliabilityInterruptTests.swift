import Foundation
import Glibc
import ProcLabKit
import TestSupport
import XCTest

/// Ctrl-C during every long-running command: the prompt comes back quickly, and
/// everything the command started (threads, children, descriptors) is gone.
final class ReliabilityInterruptTests: XCTestCase {
  var state = ""
  override func setUp() {
    state = NSTemporaryDirectory() + "proclab-ctrlc-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
  }
  override func tearDown() { try? FileManager.default.removeItem(atPath: state) }

  /// Commands sized to run for seconds (each within its caps), one per long-running family.
  static let longCommands = [
    "race --iterations 50000000 --threads 4",
    "parallel --work 10000",
    "parallel --processes 64 --work 10000",
    "parallel --gil --work 10000",
    "io --tasks 12 --wait 5000",
    "io --serial --tasks 12 --wait 5000",
    "io --poll --tasks 12 --wait 5000",
    "lock --threads 16 --hold 200 --rounds 16",
    "lock --try --threads 16 --hold 200 --rounds 16",
    "lock --processes --threads 16 --hold 200 --rounds 16",
    "semaphore --permits 1 --threads 16 --hold 200 --rounds 16",
    "rwlock --readers 12 --writers 4 --hold 200 --rounds 16",
    "condvar --items 200000 --capacity 1",
    "condvar --if --items 200000 --timeout 10000",
    "condvar --lost-wakeup --producers 1 --consumers 1 --capacity 1 --timeout 10000",
    "deadlock --timeout 10000",
    "deadlock --trylock --pause 500 --timeout 10000",
    "crash --delay 60000",
    "crash --delay 60000 --siblings 16",
    "crash segv --in-thread --threads 32 --delay 60000",
    "cost --iterations 100000",
    "switch --iterations 10000000",
    "switch --processes --iterations 10000000",
    "pipe --bytes 256M --rounds 100000",
    "pipe --rounds 100000",
    "socket --bytes 256M",
    "socket --datagram --bytes 256M",
    "fifo --bytes 256M",
    "shm --no-sync --iterations 50000000",
    // Three times: Ctrl-C could kill the child while it held the semaphore, and the shell waited forever.
    "shm --lock --iterations 50000000",
    "shm --lock --iterations 50000000",
    "shm --lock --iterations 50000000",
    "ipc compare --bytes 1G --rounds 100000",
    "spawn 64",
  ]

  /// What the shell process holds right now, from /proc.
  struct Holdings: Equatable, CustomStringConvertible {
    var children: [Int32]
    var threads: Int
    var descriptors: Int
    init(_ pid: Int32) {
      children = ProcFS.children(of: pid).sorted()
      threads = ProcFS.threads(of: pid).count
      descriptors = ProcFS.descriptors(of: pid).count
    }
    var description: String { "children \(children), \(threads) threads, \(descriptors) descriptors" }
  }

  /// Waits (bounded) until the shell is back at its baseline: a killed child may take a moment to be reaped.
  func settle(_ pid: Int32, to baseline: Holdings) -> Holdings {
    var now = Holdings(pid)
    for _ in 0..<100 where now != baseline {
      usleep(20_000)
      now = Holdings(pid)
    }
    return now
  }

  func testCtrlCReturnsToThePromptQuicklyAndLeavesNothingBehind() throws {
    let shell = try TerminalSession(environment: ["XDG_STATE_HOME": state, "PROCLAB_STRICT": "1"])
    XCTAssertTrue(shell.waitFor("proclab> "), shell.screen)
    let baseline = Holdings(shell.pid)
    XCTAssertEqual(baseline.children, [])
    var latencies: [(command: String, ms: Double)] = []
    var finishedFirst: [String] = []
    for command in Self.longCommands {
      let start = shell.mark
      shell.type(command + "\r")
      XCTAssertTrue(shell.waitFor("\n", after: start), "the line was taken: \(command)")
      let running = shell.mark
      // Let it get going (children started, threads in their loops), then press Ctrl-C.
      let until = Date().addingTimeInterval(0.3)
      while Date() < until { shell.pump(0.02) }
      if shell.screen[running...].contains("proclab> ") {
        finishedFirst.append(command)
        continue
      }
      let mark = shell.mark
      let pressed = MonotonicClock.nanoseconds()
      shell.type("\u{03}")
      XCTAssertTrue(shell.waitFor("proclab> ", after: mark, timeout: 30), "\(command): the prompt came back")
      let ms = Double(MonotonicClock.nanoseconds() - pressed) / 1e6
      let after = String(shell.screen[mark...])
      XCTAssertFalse(after.contains("cleanup invariant"), "\(command): \(after.suffix(600))")
      XCTAssertEqual(settle(shell.pid, to: baseline), baseline, "\(command): everything it started is gone")
      if !after.contains("interrupted (Ctrl-C)") {
        // It finished just as Ctrl-C arrived: then it must have finished well, not failed.
        XCTAssertFalse(after.contains(" failed"), "\(command) was stopped, not broken: \(after.suffix(400))")
        finishedFirst.append(command)
        continue
      }
      latencies.append((command, ms))
      XCTAssertLessThan(ms, 2000, "\(command): Ctrl-C took \(Int(ms)) ms to give the prompt back")
    }
    XCTAssertLessThan(finishedFirst.count, 8, "these should run for seconds: \(finishedFirst)")

    // `wait` for held children: Ctrl-C stops the waiting, the children stay held (and listed).
    let mark = shell.mark
    shell.type("spawn 3 --hold 60; wait\r")
    XCTAssertTrue(shell.waitFor("children sleep", after: mark), shell.screen[mark...].description)
    usleep(300_000)
    let pressed = MonotonicClock.nanoseconds()
    shell.type("\u{03}")
    XCTAssertTrue(shell.waitFor("proclab> ", after: mark, timeout: 30))
    latencies.append(("spawn 3 --hold 60; wait", Double(MonotonicClock.nanoseconds() - pressed) / 1e6))
    XCTAssertEqual(Holdings(shell.pid).children.count, 3, "the held children are still the shell's")
    let mark2 = shell.mark
    shell.type("quit\r")
    XCTAssertEqual(shell.waitForExit(), .exited(0), String(shell.screen[mark2...]))

    let worst = latencies.max { $0.ms < $1.ms }!
    let report = latencies.sorted { $0.ms > $1.ms }.prefix(5).map { "\($0.command) \(Int($0.ms)) ms" }
    print(
      "Ctrl-C latency over \(latencies.count) commands: worst \(Int(worst.ms)) ms (\(worst.command)); "
        + "slowest: \(report.joined(separator: ", ")); finished before Ctrl-C: \(finishedFirst)")
  }
}

/// SIGTERM or SIGHUP while a command runs (not at the prompt): the command stops,
/// its children are killed and reaped, and the shell leaves with 128+signal.
final class ReliabilityTerminationTests: XCTestCase {
  func testSIGTERMAndSIGHUPDuringACommandStopItAndLeaveNoChild() throws {
    let state = NSTemporaryDirectory() + "proclab-term-\(getpid())"
    defer { try? FileManager.default.removeItem(atPath: state) }
    for (signal, command) in [
      (SIGTERM, "lock --processes --threads 8 --hold 200 --rounds 16"),
      (SIGHUP, "crash --delay 60000 --siblings 4"),
    ] {
      let shell = try TerminalSession(environment: ["XDG_STATE_HOME": state])
      XCTAssertTrue(shell.waitFor("proclab> "), shell.screen)
      shell.type(command + "\r")
      var children: [Int32] = []
      let deadline = Date().addingTimeInterval(10)
      while children.count < 4 && Date() < deadline {
        shell.pump(0.02)
        children = ProcFS.children(of: shell.pid)
      }
      XCTAssertGreaterThanOrEqual(children.count, 4, "\(command) started its children: \(shell.screen)")
      let sent = MonotonicClock.nanoseconds()
      kill(shell.pid, signal)
      XCTAssertEqual(
        shell.waitForExit(timeout: 10), .exited(128 + signal), "\(command): \(shell.screen.suffix(300))")
      let ms = Double(MonotonicClock.nanoseconds() - sent) / 1e6
      XCTAssertLessThan(ms, 2000, "\(Signals.name(signal)) during \(command) took \(Int(ms)) ms")
      for pid in children {
        let state = ProcFS.stat(pid)?.state
        XCTAssertTrue(state == nil || state == "Z", "child \(pid) of \(command) ended with the shell")
      }
      print(
        "\(Signals.name(signal)) during '\(command)': the shell left in \(Int(ms)) ms, \(children.count) children gone"
      )
    }
  }
  func testSIGTERMInALessonKeepsTheProgressAndTheHistory() throws {
    let state = NSTemporaryDirectory() + "proclab-term-lesson-\(getpid())"
    defer { try? FileManager.default.removeItem(atPath: state) }
    let shell = try TerminalSession(environment: ["XDG_STATE_HOME": state])
    XCTAssertTrue(shell.waitFor("proclab> "), shell.screen)
    shell.type("lesson 1\r")
    XCTAssertTrue(shell.waitFor("Step 1/"), shell.screen)
    let mark = shell.mark
    shell.type("info\r")
    XCTAssertTrue(shell.waitFor("passed", after: mark), String(shell.screen[mark...]))
    shell.type("spawn 2 --hold 60\r")
    XCTAssertTrue(shell.waitFor("quitting kills and reaps them", after: mark), String(shell.screen[mark...]))
    let children = ProcFS.children(of: shell.pid)
    XCTAssertEqual(children.count, 2)
    kill(shell.pid, SIGTERM)
    XCTAssertEqual(shell.waitForExit(), .exited(128 + SIGTERM))
    for pid in children {
      let s = ProcFS.stat(pid)?.state
      XCTAssertTrue(s == nil || s == "Z", "held child \(pid) ended with the shell")
    }
    let progress = try String(contentsOfFile: state + "/proclab/progress.json", encoding: .utf8)
    let json = try XCTUnwrap(JSON.parse(progress.replacingOccurrences(of: "\n", with: " ")), progress)
    XCTAssertEqual(json["current"]?.stringValue, "process")
    XCTAssertEqual(
      json["lessons"]?["process"]?["passed"]?.arrayValue?.first?.intValue, 0, "step 1 passed: \(progress)")
    let history = try String(contentsOfFile: state + "/proclab/history", encoding: .utf8)
    XCTAssertTrue(history.contains("spawn 2 --hold 60"), history)
  }
}
