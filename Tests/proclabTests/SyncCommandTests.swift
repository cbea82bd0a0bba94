import Glibc
import ProcLabKit
import TestSupport
import XCTest

/// The synchronization verbs through the real binary, strict: after every
/// command the shell itself checks that no thread, child or descriptor is left.
final class SyncCommandTests: XCTestCase {
  private func outcome(_ command: String, file: StaticString = #filePath, line: UInt = #line) -> JSON {
    let run = ProcLabBinary.json(command)
    XCTAssertEqual(run.outcomes.count, 1, run.stdout + run.stderr, file: file, line: line)
    let o = run.outcomes.first ?? [:]
    XCTAssertEqual(
      o["ok"]?.boolValue, true, "\(command): \(o["error"]?.stringValue ?? run.stderr)", file: file, line: line
    )
    return o["facts"] ?? [:]
  }

  private func heldIntervals(_ facts: JSON) -> [(Int, Int)] {
    (facts["workers"]?.arrayValue ?? []).flatMap { w in
      (w["turns"]?.arrayValue ?? []).map {
        ($0["acquired_ns"]?.intValue ?? 0, $0["released_ns"]?.intValue ?? 0)
      }
    }
  }

  func testLockHoldsNeverOverlapAndWaitersSlept() {
    let f = outcome("lock --threads 3 --hold 10 --rounds 2")
    let held = heldIntervals(f)
    XCTAssertEqual(held.count, 6)
    for i in held.indices {
      for j in held.indices where j > i {
        XCTAssertFalse(
          held[i].0 < held[j].1 && held[j].0 < held[i].1, "holds \(held[i]) and \(held[j]) overlap")
      }
    }
    XCTAssertEqual(f["overlapping_holds"]?.intValue, 0)
    let tids = (f["workers"]?.arrayValue ?? []).compactMap { $0["tid"]?.intValue }
    XCTAssertEqual(Set(tids).count, 3)
    XCTAssertGreaterThan(f["waiters"]?.intValue ?? 0, 0)
    // Every waiter sleeps in futex, unless (on a loaded machine) it was preempted and found the lock free.
    XCTAssertGreaterThan((f["waiters_that_slept"]?.intValue ?? 0) * 2, f["waiters"]?.intValue ?? 0)
    let switches = (f["workers"]?.arrayValue ?? []).flatMap { $0["turns"]?.arrayValue ?? [] }.map {
      $0["wait_switches"]?.intValue ?? 0
    }
    XCTAssertGreaterThan(switches.reduce(0, +), 0, "waiters recorded voluntary context switches")
  }

  func testLockBetweenProcessesReapsItsChildren() {
    let f = outcome("lock --processes --threads 3 --hold 5 --rounds 2")
    XCTAssertEqual(f["children_reaped"]?.intValue, 3)
    XCTAssertEqual(f["overlapping_holds"]?.intValue, 0)
    for pid in (f["workers"]?.arrayValue ?? []).compactMap({ $0["tid"]?.intValue }) {
      XCTAssertFalse(processExists(Int32(pid)), "worker process \(pid) is gone")
    }
  }

  func testTrylockCountsRefusals() {
    let f = outcome("lock --try --threads 3 --hold 5")
    XCTAssertGreaterThan(f["refusals"]?.intValue ?? 0, 0)
    XCTAssertEqual(f["overlapping_holds"]?.intValue, 0)
  }

  func testSemaphoreMaxConcurrencyIsK() {
    // Three runs in one shell: never above K; K reached (a very busy machine may
    // keep the threads apart once, so two of three runs must reach it).
    let run = ProcLabBinary.json(
      "semaphore --permits 2 --threads 5 --hold 8; semaphore --permits 2 --threads 5 --hold 8; semaphore --permits 3 --threads 6 --hold 8"
    )
    XCTAssertEqual(run.outcomes.count, 3, run.stderr)
    var reached = 0
    for (o, k) in zip(run.outcomes, [2, 2, 3]) {
      XCTAssertEqual(o["ok"]?.boolValue, true, o["error"]?.stringValue ?? "")
      XCTAssertLessThanOrEqual(o["facts"]?["max_inside"]?.intValue ?? 99, k)
      XCTAssertLessThanOrEqual(o["facts"]?["max_concurrent_holds"]?.intValue ?? 99, k)
      if o["facts"]?["max_inside"]?.intValue == k { reached += 1 }
    }
    XCTAssertGreaterThanOrEqual(reached, 2, "K inside at once")
  }

  func testCondvarConsumesEveryItemOnce() {
    let f = outcome("condvar --producers 2 --consumers 3 --capacity 2 --items 4000")
    XCTAssertEqual(f["produced"]?.intValue, 4000)
    XCTAssertEqual(f["consumed"]?.intValue, 4000)
    XCTAssertEqual(f["duplicates"]?.intValue, 0)
    XCTAssertEqual(f["missing"]?.intValue, 0)
    XCTAssertEqual(f["exactly_once"]?.boolValue, true)
    XCTAssertFalse(processExists(Int32(f["lab_pid"]?.intValue ?? 0)))
  }

  func testFaultyCondvarIsDetectedOrTimesOutCleanly() {
    var detected = false
    for _ in 0..<3 {
      let f = outcome("condvar --if --consumers 3 --items 20000 --timeout 1000")
      XCTAssertEqual(
        f["exactly_once"]?.boolValue == true,
        !(f["hung"]?.boolValue == true || (f["duplicates"]?.intValue ?? 0) > 0
          || (f["missing"]?.intValue ?? 0) > 0))
      if f["exactly_once"]?.boolValue == false {
        detected = true
        XCTAssertTrue(
          (f["underflows"]?.intValue ?? 0) > 0 || f["hung"]?.boolValue == true,
          "a faulty run shows its cause: a consumer took from an empty buffer, or threads hung")
        break
      }
    }
    XCTAssertTrue(detected, "in three runs with 20000 items the if-instead-of-while bug showed")
  }

  func testLostWakeupHangsAndTheWatchdogEndsIt() {
    var hung = false
    for _ in 0..<4 {
      let start = MonotonicClock.nanoseconds()
      let f = outcome(
        "condvar --lost-wakeup --producers 1 --consumers 1 --capacity 1 --items 20000 --timeout 400")
      XCTAssertLessThan(Double(MonotonicClock.nanoseconds() - start) / 1e9, 15)
      XCTAssertFalse(processExists(Int32(f["lab_pid"]?.intValue ?? 0)), "the lab child is gone")
      XCTAssertEqual(f["duplicates"]?.intValue, 0, "a lost wake-up loses time, not items")
      if f["hung"]?.boolValue == true {
        hung = true
        XCTAssertEqual(f["exactly_once"]?.boolValue, false)
        XCTAssertGreaterThan(f["missing"]?.intValue ?? 0, 0, "items were left unconsumed")
        XCTAssertLessThan(f["finished_workers"]?.intValue ?? 2, 2, "both threads were still blocked")
        break
      }
      XCTAssertEqual(f["exactly_once"]?.boolValue, true, "no hang means every item went through")
    }
    XCTAssertTrue(hung, "in four runs a signal fell between the unlocked check and the wait")
  }

  func testDeadlockIsFoundNamedAndTheShellGoesOn() {
    let start = MonotonicClock.nanoseconds()
    let run = ProcLabBinary.json("deadlock --timeout 500; lock --threads 2 --rounds 1 --hold 2")
    XCTAssertLessThan(Double(MonotonicClock.nanoseconds() - start) / 1e9, 15)
    XCTAssertEqual(run.outcomes.count, 2, "the shell ran the next command: \(run.stderr)")
    let o = run.outcomes[0]
    XCTAssertEqual(o["ok"]?.boolValue, true, o["error"]?.stringValue ?? "")
    let f = o["facts"] ?? [:]
    XCTAssertEqual(f["deadlocked"]?.boolValue, true)
    let tids = (f["tids"]?.arrayValue ?? []).compactMap(\.intValue)
    XCTAssertEqual(Set(tids).count, 2)
    let cycle = f["cycle"]?.arrayValue ?? []
    XCTAssertEqual(cycle.count, 2)
    XCTAssertEqual(Set(cycle.compactMap { $0["tid"]?.intValue }), Set(tids), "the cycle names both threads")
    XCTAssertEqual(Set(cycle.compactMap { $0["holds"]?.stringValue }), ["A", "B"])
    for edge in cycle {
      XCTAssertNotEqual(
        edge["holds"]?.stringValue, edge["waits_for"]?.stringValue, "each waits for the other's lock")
    }
    let text = o["output"]?.arrayValue?.compactMap(\.stringValue).joined(separator: "\n") ?? ""
    XCTAssertTrue(text.contains("thread \(tids[0]) holds A and waits for B"), text)
    XCTAssertTrue(text.contains("thread \(tids[1]) holds B and waits for A"), text)
    XCTAssertFalse(processExists(Int32(f["lab_pid"]?.intValue ?? 0)), "the lab child was killed and reaped")
    XCTAssertEqual(run.outcomes[1]["ok"]?.boolValue, true)
  }

  func testOrderedAndTrylockFinish() {
    let run = ProcLabBinary.json("deadlock --ordered; deadlock --trylock")
    XCTAssertEqual(run.outcomes.count, 2, run.stderr)
    for o in run.outcomes {
      XCTAssertEqual(o["ok"]?.boolValue, true, o["error"]?.stringValue ?? "")
      XCTAssertEqual(o["facts"]?["deadlocked"]?.boolValue, false)
      XCTAssertEqual(o["facts"]?["status"]?.stringValue, "exited 0")
    }
  }

  func testRWLockReadersOverlapWritersAlone() {
    var overlapped = false
    for _ in 0..<3 {
      let f = outcome("rwlock --readers 4 --writers 2 --hold 8")
      XCTAssertEqual(f["writer_overlaps"]?.intValue, 0)
      XCTAssertEqual(f["writer_overlaps_counted"]?.intValue, 0)
      if (f["max_readers"]?.intValue ?? 0) >= 2 {
        overlapped = true
        break
      }
    }
    XCTAssertTrue(overlapped)
  }

  func testBadInputIsOneLine() {
    for (command, words) in [
      ("semaphore --permits 0", ["--permits", "0"]),
      ("semaphore --permits 4 --threads 3", ["--permits", "4"]),
      ("lock --threads 100", ["--threads", "100"]),
      ("deadlock --ordered --trylock", ["--ordered", "--trylock"]),
      ("rwlock --writers 0", ["--writers", "0"]), ("condvar --items 0", ["--items", "0"]),
      ("condvar --if --lost-wakeup", ["--if", "--lost-wakeup"]),
      ("deadlock --pause 400 --timeout 500", ["--timeout", "500"]),
      ("lock --impl peterson --threads 3", ["Peterson", "3"]), ("lock --impl spin", ["--impl", "spin"]),
      ("lock --no-fence", ["--no-fence"]), ("lock --impl tas --processes", ["--impl"]),
      ("rwlock --starve --readers 1", ["--starve", "2"]), ("barrier --threads 1", ["--threads", "1"]),
      ("counter --exact --sloppy 8", ["--sloppy"]), ("counter --exact --packed", ["--packed"]),
      ("bugs --atomicity --order", ["--atomicity", "--order"]), ("condvar --cvs 3", ["--cvs", "3"]),
      ("semaphore --rendezvous --threads 3", ["--rendezvous", "3"]),
    ] {
      let run = ProcLabBinary.json(command)
      let o = run.outcomes.first ?? [:]
      XCTAssertEqual(o["ok"]?.boolValue, false, command)
      let error = o["error"]?.stringValue ?? ""
      XCTAssertFalse(error.contains("\n"), error)
      XCTAssertTrue(error.hasPrefix(command.split(separator: " ")[0] + ":"), error)
      for w in words { XCTAssertTrue(error.contains(w), "\(command): \(error)") }
    }
  }

  func testHelpListsTheCommands() {
    let run = ProcLabBinary.text("help")
    // Whole words, so that "deadlock" cannot stand in for "lock".
    let words = Set(run.stdout.split { !$0.isLetter }.map(String.init))
    for verb in ["lock", "semaphore", "condvar", "deadlock", "rwlock", "barrier", "counter", "bugs"] {
      XCTAssertTrue(words.contains(verb), "help lists \(verb)")
    }
    XCTAssertFalse(words.contains("nosuchverb"))
  }
}
