import Foundation
import Glibc
import ProcLabKit
import TestSupport
import XCTest

/// The process API as a shell uses it, and how signals are delivered: each checked
/// against what the kernel did (/proc, wait statuses, delivery counts), strict.
final class IPCDepthTests: XCTestCase {
  private func facts(_ command: String, file: StaticString = #filePath, line: UInt = #line) -> JSON {
    let run = ProcLabBinary.json(command)
    XCTAssertTrue(run.succeeded, "\(command): \(run.stderr) \(run.stdout)", file: file, line: line)
    return run.outcomes.first?["facts"] ?? [:]
  }

  func testAPipelineJoinsTwoChildrenThroughOnePipeAndTheReaderSeesEndOfFile() {
    let f = facts("pipe --pipeline")
    // /proc/A/fd/1 and /proc/B/fd/0 name one pipe inode.
    XCTAssertEqual(f["same_pipe"]?.boolValue, true)
    XCTAssertEqual(f["writer_stdout"]?.stringValue, f["reader_stdin"]?.stringValue)
    XCTAssertTrue(f["reader_stdin"]?.stringValue?.hasPrefix("pipe:[") == true)
    XCTAssertEqual(f["lines_counted"]?.intValue, 1000)
    XCTAssertEqual(f["stalled"]?.boolValue, false)
    XCTAssertEqual(f["reader_status"]?["code"]?.intValue, 0)
  }

  func testAForgottenWriteEndKeepsTheReaderWaitingUntilItIsClosed() {
    let f = facts("pipe --pipeline --leave-open")
    XCTAssertEqual(f["stalled"]?.boolValue, true, "no end of file while the shell held a write end")
    XCTAssertEqual(f["reader_state"]?.stringValue, "S", "the reader slept in read()")
    let holders = f["write_end_holders"]?.arrayValue ?? []
    XCTAssertEqual(holders.count, 1, "exactly one write end left: the shell's")
    XCTAssertNotEqual(holders.first?["pid"]?.intValue, f["reader"]?.intValue)
    XCTAssertNotNil(f["eof_after_close_ns"]?.intValue, "closing it released the reader")
    XCTAssertEqual(f["lines_counted"]?.intValue, 1000)
  }

  func testWritesUpToPipeBufNeverInterleaveAndLargerOnesDo() {
    var largeCuts = 0
    for _ in 0..<3 where largeCuts == 0 {
      let f = facts("pipe --interleave")
      XCTAssertEqual(f["pipe_buf"]?.intValue, 4096)
      XCTAssertEqual(f["small"]?["cuts"]?.intValue, 0, "a write of PIPE_BUF bytes is atomic")
      XCTAssertEqual(
        f["small"]?["bytes_per_writer"]?.arrayValue?.compactMap(\.intValue), [4096 * 256, 4096 * 256])
      largeCuts = f["large"]?["cuts"]?.intValue ?? 0
      // A record is cut once or more: the records cut are at least one and at most the cuts,
      // and never more than the 16 records written.
      let cutRecords = f["large"]?["cut_records"]?.intValue ?? -1
      XCTAssertLessThanOrEqual(cutRecords, min(largeCuts, 16))
      XCTAssertEqual(cutRecords > 0, largeCuts > 0)
      XCTAssertEqual(f["large"]?["bytes_read"]?.intValue, 2 * 8 * 64 * 4096)
    }
    XCTAssertGreaterThan(largeCuts, 0, "records bigger than the pipe were cut by the other writer")
  }

  func testAStandardSignalMergesAndARealTimeSignalIsQueuedInOrder() {
    let f = facts("signal --merge --count 8")
    XCTAssertEqual(f["sent"]?.intValue, 8)
    XCTAssertEqual(f["standard_delivered"]?.intValue, 1)
    XCTAssertEqual(f["realtime_delivered"]?.intValue, 8)
    XCTAssertEqual(f["realtime_order"]?.arrayValue?.compactMap(\.intValue), Array(1...8))
  }

  func testAProcessDirectedSignalGoesToAThreadThatDoesNotBlockIt() {
    let f = facts("signal --threads --count 3")
    let runs = f["runs"]?.arrayValue ?? []
    XCTAssertEqual(runs.count, 3)
    func tids(_ i: Int, _ key: String) -> [Int] { runs[i][key]?.arrayValue?.compactMap(\.intValue) ?? [] }
    // Three real threads each time: three distinct TIDs, the first the process's PID.
    for i in 0..<3 {
      XCTAssertEqual(Set(tids(i, "threads")).count, 3)
      XCTAssertEqual(tids(i, "threads").first, runs[i]["child"]?.intValue)
    }
    // Nobody blocks: the kernel offers each signal to the thread the PID names (main) first, and
    // passes it to another thread only while main already has one pending, so main always takes
    // one and, on a busy machine, a worker may take a later one.
    XCTAssertTrue(tids(0, "received_by").contains(tids(0, "threads")[0]), "nobody blocks: main takes one")
    XCTAssertTrue(
      Set(tids(0, "received_by")).isSubset(of: tids(0, "threads")), "nobody blocks: only its threads")
    XCTAssertFalse(tids(1, "received_by").contains(tids(1, "threads")[0]), "main blocks: a worker")
    XCTAssertFalse(tids(1, "received_by").contains(0))
    XCTAssertEqual(Set(tids(2, "received_by")), [tids(2, "threads")[2]], "the sigwait thread took them all")
  }

  func testWritingToAPipeWithNoReaderRaisesSigpipeOrFailsWithEpipe() {
    let f = facts("signal --no-reader")
    XCTAssertEqual(f["default_status"]?["signal"]?.stringValue, "SIGPIPE")
    XCTAssertEqual(f["ignored_write_result"]?.intValue, -1)
    XCTAssertEqual(f["ignored_errno"]?.stringValue, "EPIPE")
    XCTAssertEqual(f["ignored_status"]?["code"]?.intValue, 0)
  }

  func testSigchldSetToIgnoreLeavesNoZombies() {
    let f = facts("signal --auto-reap")
    XCTAssertEqual(f["default"]?["zombies"]?.intValue, 3)
    XCTAssertEqual(f["default"]?["reaped_by_wait"]?.intValue, 3)
    XCTAssertEqual(f["ignored"]?["zombies"]?.intValue, 0)
    XCTAssertEqual(f["ignored"]?["reaped_by_wait"]?.intValue, 0)
    XCTAssertEqual(f["ignored"]?["wait_errno"]?.stringValue, "ECHILD")
  }

  /// Issue 19, item 11: a shell killed with SIGKILL during an IPC command leaves a POSIX
  /// queue (kept until reboot) or a FIFO directory; the next shell to start removes them.
  func testTheNextShellSweepsWhatAKilledShellLeft() throws {
    for (command, prefix) in [
      ("ipc compare --bytes 4K --rounds 30000", "proclab-mq-"), ("fifo --bytes 256M", "proclab-fifo-"),
    ] {
      let process = Process()
      process.executableURL = URL(fileURLWithPath: ProcLabBinary.path)
      process.arguments = ["-c", command]
      process.standardOutput = FileHandle.nullDevice
      process.standardError = FileHandle.nullDevice
      try process.run()
      let pid = process.processIdentifier
      let tmp = Leftovers.temporaryDirectory
      var name: String?
      let deadline = Date().addingTimeInterval(60)
      while name == nil && Date() < deadline && process.isRunning {
        name = (try? FileManager.default.contentsOfDirectory(atPath: tmp))?.first {
          $0.hasPrefix("\(prefix)\(pid)-")
        }
        if name == nil { usleep(5_000) }
      }
      kill(pid, SIGKILL)
      process.waitUntilExit()
      let found = try XCTUnwrap(name, "\(command): never saw a \(prefix) name of \(pid)")
      XCTAssertTrue(
        FileManager.default.fileExists(atPath: "\(tmp)/\(found)"), "left behind by the killed shell")
      if prefix == "proclab-mq-" {
        XCTAssertTrue(MessageQueue.exists("/" + found), "the queue outlived its shell")
      }
      XCTAssertTrue(ProcLabBinary.text("info").succeeded)
      XCTAssertFalse(FileManager.default.fileExists(atPath: "\(tmp)/\(found)"), "swept at the next start")
      if prefix == "proclab-mq-" {
        XCTAssertFalse(MessageQueue.exists("/" + found), "the queue was unlinked")
      }
    }
  }
}
