import Foundation
import Glibc
import ProcLabKit
import TestSupport
import XCTest

/// End to end through the binary, strict: after every command the shell checks that no child,
/// descriptor or thread was left behind.
final class IPCCommandTests: XCTestCase {
  private func facts(_ command: String, file: StaticString = #filePath, line: UInt = #line) -> JSON {
    let run = ProcLabBinary.json(command)
    XCTAssertTrue(run.succeeded, "\(command): \(run.stderr) \(run.stdout)", file: file, line: line)
    let outcome = run.outcomes.first
    XCTAssertEqual(
      outcome?["ok"]?.boolValue, true, "\(command): \(outcome?["error"]?.stringValue ?? run.stderr)",
      file: file, line: line)
    return outcome?["facts"] ?? [:]
  }

  private func shmNames() -> Set<String> {
    Set(
      ((try? FileManager.default.contentsOfDirectory(atPath: "/dev/shm")) ?? []).filter {
        $0.hasPrefix("proclab-")
      })
  }

  func testPipeCarriesEveryByteAndTheChildAnswersThroughAnotherPipe() {
    let f = facts("pipe --bytes 3M --rounds 200")
    XCTAssertEqual(f["bytes_sent"]?.intValue, 3 << 20)
    XCTAssertEqual(f["bytes_received"]?.intValue, 3 << 20)
    XCTAssertEqual(f["checksums_match"]?.boolValue, true)
    XCTAssertEqual(f["checksum_sent"]?.stringValue, f["checksum_received"]?.stringValue)
    XCTAssertEqual(f["echo_mismatches"]?.intValue, 0)
    XCTAssertEqual(f["rounds"]?.intValue, 200)
    XCTAssertGreaterThan(f["round_trip_ns"]?.intValue ?? 0, 0)
    XCTAssertGreaterThan(f["throughput_mib_s"]?.doubleValue ?? 0, 0)
    let parent = f["parent_fds"]?.arrayValue?.compactMap(\.intValue) ?? []
    let child = f["child_fds"]?.arrayValue?.compactMap(\.intValue) ?? []
    XCTAssertEqual(parent.count, 2)
    XCTAssertEqual(Set(parent + child).count, 4, "four distinct ends of two pipes")
    XCTAssertEqual(f["child_status"]?["how"]?.stringValue, "exited")
    XCTAssertEqual(f["child_status"]?["code"]?.intValue, 0)
  }

  func testFillReportsThisKernelsPipeCapacityAndABlockedWriterAndEOF() {
    // The capacity, read independently here from a fresh pipe.
    var fds: [Int32] = [0, 0]
    XCTAssertEqual(pipe(&fds), 0)
    let capacity = Int(fcntl(fds[0], 1032 /* F_GETPIPE_SZ */))
    close(fds[0])
    close(fds[1])
    XCTAssertGreaterThan(capacity, 0)
    let f = facts("pipe --fill")
    XCTAssertEqual(f["capacity"]?.intValue, capacity)
    XCTAssertEqual(f["filled"]?.intValue, capacity, "exactly the capacity fitted before EAGAIN")
    XCTAssertEqual(f["refusal"]?.stringValue, "EAGAIN")
    // The blocking writer waited for the reader, which started 50 ms later.
    XCTAssertGreaterThanOrEqual(
      f["blocked_ns"]?.intValue ?? 0, (f["reader_delay_ns"]?.intValue ?? 0) * 8 / 10)
    XCTAssertEqual(f["reader_total"]?.intValue, capacity + 4096, "the reader got everything written")
    XCTAssertEqual(f["reader_eof"]?.boolValue, true)
  }

  func testDatagramsKeepBoundariesAndAStreamDoesNot() {
    let f = facts("socket --bytes 512K")
    let stream = f["stream"]!
    let dgram = f["datagram"]!
    XCTAssertEqual(dgram["read_sizes"]?.arrayValue?.compactMap(\.intValue), [5, 11, 7])
    XCTAssertEqual(dgram["boundaries_kept"]?.boolValue, true)
    let streamReads = stream["read_sizes"]?.arrayValue?.compactMap(\.intValue) ?? []
    XCTAssertEqual(streamReads.reduce(0, +), 23, "every byte arrived")
    XCTAssertLessThan(streamReads.count, 3, "a stream merged the three sends")
    XCTAssertEqual(stream["boundaries_kept"]?.boolValue, false)
    for kind in [stream, dgram] {
      XCTAssertGreaterThan(kind["answer_bytes"]?.intValue ?? 0, 0, "the answer came back the other way")
      XCTAssertEqual(kind["bytes_received"]?.intValue, 512 * 1024)
      XCTAssertEqual(kind["checksums_match"]?.boolValue, true)
    }
  }

  func testSharedMemoryIsSeenAcrossProcessesAndNotWithPrivateAndIsUnlinked() {
    let before = shmNames()
    let shared = facts("shm")
    XCTAssertEqual(shared["child_saw_parent"]?.boolValue, true)
    XCTAssertEqual(shared["child_read"]?.stringValue, "hello from the parent")
    XCTAssertEqual(shared["parent_saw_child"]?.boolValue, true)
    XCTAssertEqual(shared["listed_before_unlink"]?.boolValue, true, "the object really was in /dev/shm")
    XCTAssertEqual(shared["listed_after_unlink"]?.boolValue, false)
    // The child mapped the object twice, at two addresses, and saw the shell's write through both.
    XCTAssertNotEqual(shared["child_address"]?.intValue, shared["child_second_address"]?.intValue)
    XCTAssertEqual(shared["child_second_saw"]?.boolValue, true)
    let priv = facts("shm --private")
    XCTAssertEqual(priv["child_saw_parent"]?.boolValue, false)
    XCTAssertEqual(priv["child_read"]?.stringValue, "", "the child's private copy holds zeros")
    XCTAssertEqual(priv["parent_saw_child"]?.boolValue, false)
    XCTAssertEqual(shmNames(), before, "nothing left in /dev/shm")
    XCTAssertEqual(priv["name_left"]?.boolValue, false)
  }

  func testUnsynchronizedCountingLosesUpdatesAsReliablyAsRaceAndTheSemaphoreLosesNone() {
    // The default: both processes released together, counting long enough to overlap even on a
    // busy machine. Updates are lost in (almost) every run; a run that loses none says why: the
    // two hardly counted at the same time.
    let runs = 4
    let run = ProcLabBinary.json(Array(repeating: "shm --no-sync", count: runs).joined(separator: "; "))
    XCTAssertTrue(run.succeeded, run.stderr)
    var lossy = 0
    for o in run.outcomes {
      let f = o["facts"] ?? [:]
      let expected = f["expected"]?.intValue ?? 0
      let lost = f["lost"]?.intValue ?? 0
      XCTAssertEqual(expected, 40_000_000)
      XCTAssertEqual((f["counter"]?.intValue ?? 0) + lost, expected)
      if lost > 0 {
        lossy += 1
      } else {
        XCTAssertLessThan(f["overlap_ns"]?.intValue ?? 0, 5_000_000, "no loss although they overlapped")
      }
    }
    XCTAssertGreaterThanOrEqual(lossy, runs - 1, "lost updates in \(lossy) of \(runs) runs")
    let locked = facts("shm --lock --iterations 300000")
    XCTAssertEqual(locked["counter"]?.intValue, 600_000)
    XCTAssertEqual(locked["lost"]?.intValue, 0)
  }

  func testSignalOutcomesPerDisposition() {
    let dfl = facts("signal USR1")
    XCTAssertEqual(dfl["after_send"]?.stringValue, "terminated")
    XCTAssertEqual(dfl["child_status"]?["signal"]?.stringValue, "SIGUSR1")

    // The child does not inherit the Swift runtime's crash handler: SIGSEGV's default action applies.
    let segv = facts("signal SEGV")
    XCTAssertEqual(segv["after_send"]?.stringValue, "terminated")
    XCTAssertEqual(segv["child_status"]?["signal"]?.stringValue, "SIGSEGV")

    let handler = facts("signal USR1 --handler")
    XCTAssertEqual(handler["handler_ran"]?.boolValue, true)
    XCTAssertEqual(handler["after_send"]?.stringValue, "alive")
    XCTAssertEqual(handler["answered_afterwards"]?.boolValue, true)
    XCTAssertEqual(handler["child_status"]?["code"]?.intValue, 0)

    let ignore = facts("signal TERM --ignore")
    XCTAssertEqual(ignore["after_send"]?.stringValue, "alive")
    XCTAssertEqual(ignore["answered_afterwards"]?.boolValue, true)

    let block = facts("signal USR2 --block")
    XCTAssertEqual(block["blocked_in_mask"]?.boolValue, true)
    XCTAssertEqual(block["pending_while_blocked"]?.boolValue, true, "ShdPnd showed it pending")
    XCTAssertEqual(block["after_unblock"]?.stringValue, "terminated")
    XCTAssertEqual(block["child_status"]?["signal"]?.stringValue, "SIGUSR2")

    let kill = facts("signal KILL --handler")
    XCTAssertEqual(kill["setup_result"]?.stringValue, "-1 EINVAL")
    XCTAssertEqual(kill["child_status"]?["signal"]?.stringValue, "SIGKILL")

    let stop = facts("signal STOP --ignore")
    XCTAssertEqual(stop["setup_result"]?.stringValue, "-1 EINVAL")
    XCTAssertEqual(stop["after_send"]?.stringValue, "stopped")
    XCTAssertEqual(stop["continued"]?.boolValue, true)

    let chld = dfl["sigchld"]!
    XCTAssertEqual(chld["received"]?.boolValue, true)
    XCTAssertEqual(chld["sender"]?.intValue, chld["grandchild"]?.intValue)
    XCTAssertEqual(chld["code"]?.stringValue, "CLD_EXITED")
    XCTAssertEqual(chld["exit_status"]?.intValue, 7)
  }

  func testFifoWorksAndLeavesNothingInTheTempDirectory() {
    let f = facts("fifo --bytes 1M")
    XCTAssertEqual(f["bytes_received"]?.intValue, 1 << 20)
    XCTAssertEqual(f["checksums_match"]?.boolValue, true)
    XCTAssertEqual(f["left_in_directory"]?.arrayValue?.count, 0)
    let dir = f["directory"]?.stringValue ?? ""
    XCTAssertTrue(dir.contains("proclab-fifo-"))
    XCTAssertFalse(FileManager.default.fileExists(atPath: dir), "the private directory was removed")
  }

  func testMessageQueueDeliversInPriorityOrderAndIsUnlinked() {
    let f = facts("mq")
    let sent = f["sent_priorities"]?.arrayValue?.compactMap(\.intValue) ?? []
    let got = f["received_priorities"]?.arrayValue?.compactMap(\.intValue) ?? []
    XCTAssertEqual(got, sent.sorted(by: >))
    XCTAssertNotEqual(got, sent, "the order really changed")
    XCTAssertEqual(f["queued"]?.intValue, sent.count)
    let texts = f["received_texts"]?.arrayValue?.compactMap(\.stringValue) ?? []
    XCTAssertEqual(
      texts.filter { $0.hasSuffix("priority 5") }, ["message 4, priority 5", "message 5, priority 5"])
    XCTAssertEqual(f["name_left"]?.boolValue, false)
    let name = f["name"]?.stringValue ?? ""
    XCTAssertFalse(MessageQueue.exists(name), "the queue no longer exists")
    XCTAssertFalse(
      FileManager.default.fileExists(atPath: NSTemporaryDirectory() + name), "its claim file is gone")
    if FileManager.default.fileExists(atPath: "/dev/mqueue") {
      XCTAssertFalse(FileManager.default.fileExists(atPath: "/dev/mqueue" + name))
    }
  }

  func testCompareMeasuresFourMechanismsAndEveryByteArrives() {
    let before = shmNames()
    let f = facts("ipc compare --bytes 2M --rounds 200")
    let mechanisms = f["mechanisms"]?.arrayValue ?? []
    XCTAssertEqual(
      mechanisms.compactMap { $0["mechanism"]?.stringValue },
      ["pipe", "socketpair", "shm + semaphore", "message queue"])
    for m in mechanisms {
      XCTAssertEqual(m["bytes_received"]?.intValue, 2 << 20)
      XCTAssertEqual(m["checksums_match"]?.boolValue, true)
      XCTAssertEqual(m["echo_mismatches"]?.intValue, 0)
      XCTAssertGreaterThan(m["round_trip_ns"]?.intValue ?? 0, 0)
      XCTAssertGreaterThan(m["throughput_mib_s"]?.doubleValue ?? 0, 0)
      XCTAssertEqual(m["names_left"]?.intValue, 0)
    }
    XCTAssertEqual(shmNames(), before)
    // Four mechanisms, four forked children (not "the same forked child").
    XCTAssertEqual(Set(mechanisms.compactMap { $0["child"]?.intValue }).count, 4)
    let text = ProcLabBinary.text("ipc compare --bytes 64K --rounds 10")
    XCTAssertTrue(text.stdout.contains("█"), "a bar chart")
  }

  func testBadInputIsOneLine() {
    for (command, expected) in [
      ("pipe --bytes 0", "pipe: --bytes must be"), ("pipe --bytes lots", "pipe: --bytes must be a size"),
      ("signal NOPE", "signal: unknown signal 'NOPE'"), ("shm --private --no-sync", "shm: --private"),
      ("socket --stream --datagram", "cannot be used together"),
      ("ipc frobnicate", "ipc: SUBCOMMAND must be one of compare"), ("ipc", "ipc: SUBCOMMAND is missing"),
      ("ipc compare --bytes 4G", "ipc: --bytes must be 4K…1G"),
      ("pipe --fill --bytes 2M", "pipe: --bytes and --rounds belong to the transfer"),
      ("pipe --leave-open", "pipe: --leave-open goes with --pipeline"),
      ("signal --merge --handler", "signal: --handler"),
      ("signal KILL --merge", "signal: --merge and --threads need"),
      ("signal --count 3", "signal: --count goes with"), ("signal USR1 --auto-reap", "take no SIGNAL"),
      ("shm --iterations 5000", "shm: --iterations counts with"),
    ] {
      let run = ProcLabBinary.text(command)
      let all = run.stdout + run.stderr
      XCTAssertTrue(all.contains(expected), "\(command): \(all)")
      XCTAssertEqual(all.split(separator: "\n").filter { !$0.isEmpty }.count, 1, "\(command): \(all)")
    }
  }
}
