import Glibc
import ProcLabKit
import TestSupport
import XCTest

/// Condition variables, semaphores, barriers, counters, reader-writer
/// preference and concurrency bugs through the real binary (strict runs).
final class SyncDepthCommandTests: XCTestCase {
  private func outcomes(_ line: String, file: StaticString = #filePath, line number: UInt = #line) -> [JSON] {
    let run = ProcLabBinary.json(line)
    for o in run.outcomes {
      XCTAssertEqual(
        o["ok"]?.boolValue, true, o["error"]?.stringValue ?? run.stderr, file: file, line: number)
    }
    return run.outcomes.map { $0["facts"] ?? [:] }
  }

  func testOneConditionVariableWithSignalHangsAndBroadcastFixesIt() {
    var hung = 0
    for _ in 0..<2 {
      let f = outcomes(
        "condvar --cvs 1 --capacity 1 --producers 2 --consumers 3 --items 20000 --timeout 600")[0]
      XCTAssertFalse(processExists(Int32(f["lab_pid"]?.intValue ?? 0)), "the lab child was ended and reaped")
      if f["hung"]?.boolValue == true {
        hung += 1
        XCTAssertLessThan(f["consumed"]?.intValue ?? 20000, 20000, "items were left when everyone slept")
        XCTAssertLessThan(f["finished_workers"]?.intValue ?? 5, 5)
      }
    }
    XCTAssertGreaterThan(hung, 0, "a signal meant for a producer woke a consumer until everyone slept")
    let b = outcomes("condvar --cvs 1 --capacity 1 --producers 2 --consumers 3 --items 5000 --broadcast")[0]
    XCTAssertEqual(b["exactly_once"]?.boolValue, true)
    XCTAssertEqual(b["hung"]?.boolValue, false)
    XCTAssertGreaterThan(
      (b["empty_wakeups"]?.intValue ?? 0) + (b["full_wakeups"]?.intValue ?? 0), 0,
      "broadcast wakes threads that find nothing to do")
  }

  func testBarriersLetNobodyGoOnEarly() throws {
    for f in outcomes(
      "barrier --threads 4 --rounds 3 --work 2; barrier --pthread --threads 3 --rounds 2 --work 2")
    {
      XCTAssertEqual(f["left_before_last_arrival"]?.intValue, 0)
      let tids = (f["tids"]?.arrayValue ?? []).compactMap(\.intValue)
      XCTAssertEqual(Set(tids).count, f["threads"]?.intValue, "each its own thread")
      let visits = try XCTUnwrap(f["visits"]?.arrayValue)
      for round in 0..<(f["rounds"]?.intValue ?? 0) {
        let arrived = visits.compactMap { $0.arrayValue?[round]["arrived_ns"]?.intValue }
        let left = visits.compactMap { $0.arrayValue?[round]["left_ns"]?.intValue }
        XCTAssertGreaterThanOrEqual(left.min() ?? 0, arrived.max() ?? 1, "round \(round + 1)")
        XCTAssertGreaterThan(Set(arrived).count, 1, "threads arrived at different times")
      }
    }
  }

  func testRendezvousAndJoinWithSemaphores() {
    let all = outcomes("semaphore --rendezvous --rounds 3; semaphore --join --threads 5")
    XCTAssertEqual(all[0]["left_before_last_arrival"]?.intValue, 0)
    XCTAssertEqual(all[0]["threads"]?.intValue, 2)
    XCTAssertEqual(all[1]["joined_after_last_post"]?.boolValue, true)
    XCTAssertGreaterThanOrEqual(all[1]["joined_ns"]?.intValue ?? 0, all[1]["last_post_ns"]?.intValue ?? 1)
  }

  func testCountersAreExactSloppyLagsAndPaddingSeparatesLines() throws {
    let all = outcomes(
      "counter --threads 2 --increments 200000; counter --sloppy 100 --threads 2 --increments 100000; counter --packed --threads 2 --increments 300000"
    )
    for run in try XCTUnwrap(all[0]["runs"]?.arrayValue) {
      XCTAssertEqual(run["total"]?.intValue, run["expected"]?.intValue, run["mode"]?.stringValue ?? "")
    }
    for run in try XCTUnwrap(all[1]["runs"]?.arrayValue) {
      let total = try XCTUnwrap(run["total"]?.intValue)
      let seen = try XCTUnwrap(run["seen"]?.intValue)
      let threads = try XCTUnwrap(run["threads"]?.intValue)
      XCTAssertEqual(total, run["expected"]?.intValue)
      XCTAssertLessThanOrEqual(seen, total)
      XCTAssertGreaterThanOrEqual(
        seen, total - threads * 99, "a sloppy counter lags by less than threads × S")
    }
    let packed = (all[2]["packed_addresses"]?.arrayValue ?? []).compactMap(\.intValue)
    let padded = (all[2]["padded_addresses"]?.arrayValue ?? []).compactMap(\.intValue)
    XCTAssertEqual(packed.count, 2)
    XCTAssertEqual(packed[1] - packed[0], 8, "packed: neighbours in one cache line")
    XCTAssertEqual(packed[0] / 64, packed[1] / 64)
    XCTAssertEqual(padded[1] - padded[0], 128, "padded: each on its own lines")
    XCTAssertNotNil(all[2]["false_sharing_ratio"]?.doubleValue)
  }

  func testGlibcsDefaultRWLockLetsReadersPassAWaitingWriter() throws {
    let f = outcomes("rwlock --readers 2 --hold 4 --rounds 1")[0]
    let probe = try XCTUnwrap(f["reader_while_writer_waits"])
    XCTAssertEqual(
      probe["prefer_readers"]?["writer_waits_in"]?.stringValue, "futex", "the writer slept in wrlock")
    XCTAssertEqual(
      probe["prefer_readers"]?["tryrdlock"]?.stringValue, "0", "glibc's default admits the reader")
    XCTAssertEqual(
      probe["prefer_writers"]?["tryrdlock"]?.stringValue, "EBUSY", "the writer-preferring kind refuses it")
  }

  func testAReaderRelayStarvesTheWriterOfTheDefaultLockOnly() throws {
    var starved = false
    for _ in 0..<2 {
      let f = outcomes("rwlock --starve --readers 3 --hold 20 --for 300")[0]
      let kinds = try XCTUnwrap(f["kinds"])
      XCTAssertEqual(kinds["prefer_writers"]?["starved"]?.boolValue, false)
      XCTAssertEqual(kinds["turnstile"]?["starved"]?.boolValue, false)
      XCTAssertEqual(kinds["prefer_writers"]?["reader_turns_while_writer_waited"]?.intValue, 0)
      if kinds["prefer_readers"]?["starved"]?.boolValue == true {
        starved = true
        XCTAssertGreaterThanOrEqual(kinds["prefer_readers"]?["writer_wait_ns"]?.intValue ?? 0, 300_000_000)
        XCTAssertGreaterThan(kinds["prefer_readers"]?["reader_turns_while_writer_waited"]?.intValue ?? 0, 3)
        break
      }
    }
    XCTAssertTrue(starved, "with glibc's default the writer waited until the readers stopped")
  }

  func testAtomicityViolationCrashesAndTheFixHolds() {
    var crashed = false
    for _ in 0..<2 {
      let f = outcomes("bugs --atomicity --checks 5000000")[0]
      XCTAssertFalse(processExists(Int32(f["lab_pid"]?.intValue ?? 0)))
      if f["crashed"]?.boolValue == true {
        crashed = true
        XCTAssertEqual(f["signal"]?.stringValue, "SIGSEGV", "a NULL read ends the whole process")
        // The threads are named by their real TIDs even when the crash came first (learner 8).
        let user = f["user_tid"]?.intValue ?? 0
        let other = f["other_tid"]?.intValue ?? 0
        XCTAssertGreaterThan(user, f["lab_pid"]?.intValue ?? 0, "the user thread's TID")
        XCTAssertGreaterThan(other, f["lab_pid"]?.intValue ?? 0, "the clearing thread's TID")
        XCTAssertNotEqual(user, other)
        break
      }
    }
    XCTAssertTrue(crashed, "check-then-use met a NULL pointer")
    let fixed = outcomes("bugs --atomicity --fixed --checks 100000")[0]
    XCTAssertEqual(fixed["crashed"]?.boolValue, false)
    XCTAssertEqual(fixed["status"]?.stringValue, "exited 0")
    XCTAssertEqual(fixed["checks"]?.intValue, 100_000)
    XCTAssertGreaterThan(
      fixed["toggles"]?.intValue ?? 0, 0, "the other thread really cleared and set it meanwhile")
  }

  func testOrderViolationCrashesAndTheFixHolds() {
    let all = outcomes("bugs --order --rounds 50; bugs --order --fixed --rounds 5")
    XCTAssertEqual(all[0]["crashed"]?.boolValue, true, "the new thread used the pointer before it was set")
    XCTAssertEqual(all[0]["signal"]?.stringValue, "SIGSEGV")
    XCTAssertEqual(all[1]["crashed"]?.boolValue, false)
    XCTAssertEqual(all[1]["rounds"]?.intValue, 5)
  }
}
