import ProcLabKit
import TestSupport
import XCTest

/// `lock --impl`: locks built from scratch, raced by real threads (strict runs).
final class LockImplCommandTests: XCTestCase {
  private func facts(_ run: ProcLabBinary.Run) -> [JSON] {
    run.outcomes.map {
      XCTAssertEqual($0["ok"]?.boolValue, true, $0["error"]?.stringValue ?? run.stderr)
      return $0["facts"] ?? [:]
    }
  }

  /// On x86 a store can wait in the store buffer while a later load goes ahead:
  /// Peterson's algorithm without a fence lets both threads in; with a full fence it never does.
  func testPetersonNeedsAFence() throws {
    #if !arch(x86_64)
      throw XCTSkip("the store→load reordering shown here is x86-64's")
    #endif
    let runs = 6
    let line = (0..<runs).map { _ in
      "lock --impl peterson --no-fence --turns 20000 --ms 3000; lock --impl peterson --turns 20000 --ms 3000"
    }
    .joined(separator: "; ")
    let all = facts(ProcLabBinary.json(line))
    XCTAssertEqual(all.count, 2 * runs)
    var unfenced: [Int] = []
    for (i, f) in all.enumerated() {
      let fence = f["fence"]?.boolValue ?? true
      let violations = try XCTUnwrap(f["violations"]?.intValue)
      XCTAssertEqual(Set((f["tids"]?.arrayValue ?? []).compactMap(\.intValue)).count, 2, "two real threads")
      if fence {
        XCTAssertEqual(violations, 0, "run \(i): a full fence keeps Peterson's mutual exclusion")
        XCTAssertEqual(f["counter"]?.intValue, f["turns_total"]?.intValue, "no increment lost with the fence")
      } else {
        unfenced.append(violations)
      }
    }
    // Most runs show violations on an idle machine; a busy one keeps the threads apart more often.
    XCTAssertGreaterThanOrEqual(
      unfenced.filter { $0 > 0 }.count, 2, "violations without a fence: \(unfenced)")
  }

  func testEveryLockExcludesAndCountsEveryTurn() throws {
    let f = facts(ProcLabBinary.json("lock --impl all --turns 20000 --ms 3000")).first ?? [:]
    let locks = try XCTUnwrap(f["locks"]?.arrayValue)
    XCTAssertEqual(
      locks.compactMap { $0["impl"]?.stringValue }, ["tas", "ttas", "ticket", "peterson", "mutex", "yield"])
    for l in locks {
      let name = l["impl"]?.stringValue ?? "?"
      XCTAssertEqual(l["violations"]?.intValue, 0, name)
      XCTAssertEqual(
        l["counter"]?.intValue, l["turns_total"]?.intValue, "\(name): the plain increments all arrived")
      XCTAssertEqual(
        (l["turns"]?.arrayValue ?? []).compactMap(\.intValue).reduce(0, +), l["turns_total"]?.intValue, name)
      XCTAssertGreaterThan(l["cpu_ns"]?.intValue ?? 0, 0, "\(name): CPU time measured per thread")
    }
  }

  /// More threads than CPUs: a spinner burns CPU while the holder waits for one; a futex sleeper does not.
  func testSpinnersBurnCPUThatSleepersGiveBack() throws {
    let line =
      "lock --impl tas --threads 8 --turns 20000 --ms 2000; lock --impl mutex --threads 8 --turns 20000 --ms 2000"
    let all = facts(ProcLabBinary.json(line))
    XCTAssertEqual(all.count, 2)
    let (tas, mutex) = (all[0], all[1])
    func perTurn(_ f: JSON) -> Double {
      Double(f["cpu_ns"]?.intValue ?? 0) / Double(max(1, f["turns_total"]?.intValue ?? 0))
    }
    XCTAssertEqual(Set((tas["tids"]?.arrayValue ?? []).compactMap(\.intValue)).count, 8)
    XCTAssertGreaterThan(
      perTurn(tas), 2 * perTurn(mutex), "CPU per turn: tas \(perTurn(tas)) ns, mutex \(perTurn(mutex)) ns")
    XCTAssertGreaterThan(mutex["voluntary_switches"]?.intValue ?? 0, 0, "mutex waiters slept in the kernel")
    XCTAssertLessThan(
      tas["voluntary_switches"]?.intValue ?? 0, mutex["voluntary_switches"]?.intValue ?? 0,
      "test-and-set spins where the mutex sleeps")
  }
}
