import Foundation
import ProcLabKit
import TestSupport
import XCTest

/// `race` through the built binary: updates are really lost without protection, never with it.
final class RaceCommandTests: XCTestCase {
  func testTheRaceLosesUpdatesAlmostEveryTime() throws {
    // 8 runs of 2 × 5,000,000 increments (about 30 ms each): enough overlap to lose updates nearly always.
    let runs = 8
    let run = ProcLabBinary.json(
      Array(repeating: "race --racy --iterations 5000000", count: runs).joined(separator: "; "))
    XCTAssertTrue(run.succeeded, run.stdout + run.stderr)
    XCTAssertEqual(run.outcomes.count, runs)
    var lossy = 0
    for o in run.outcomes {
      let f = try XCTUnwrap(o["facts"])
      let expected = try XCTUnwrap(f["expected"]?.intValue)
      let got = try XCTUnwrap(f["got"]?.intValue)
      XCTAssertEqual(expected, 2 * 5_000_000)
      XCTAssertLessThanOrEqual(got, expected)
      XCTAssertEqual(f["lost"]?.intValue, expected - got)
      let tids = try XCTUnwrap(f["variants"]?["racy"]?["tids"]?.arrayValue).compactMap(\.intValue)
      XCTAssertEqual(Set(tids).count, 2, "two real threads")
      let perIncrement = try XCTUnwrap(f["variants"]?["racy"]?["per_increment_ns"]?.doubleValue)
      XCTAssertGreaterThan(perIncrement, 0, "the time per increment is measured, not rounded to 0")
      if got < expected { lossy += 1 }
    }
    // Allow one clean run on a shared, busy machine.
    XCTAssertGreaterThanOrEqual(lossy, runs - 1, "lost updates in \(lossy) of \(runs) runs")
  }

  func testPerIncrementIsPrintedWithItsDecimals() {
    let run = ProcLabBinary.text("race --atomic --iterations 2000000")
    XCTAssertTrue(run.succeeded, run.stderr)
    let row = run.lines.first { $0.contains("atomic") && $0.contains("ns") } ?? ""
    XCTAssertNotNil(
      row.range(of: #"\d+\.\d+ ns\s*$"#, options: .regularExpression),
      "a sub-10 ns time keeps its decimals: \(row)")
    XCTAssertFalse(row.hasSuffix(" 0 ns"), row)
  }

  func testAMutexOrAnAtomicLosesNothing() throws {
    let run = ProcLabBinary.json(
      "race --lock --threads 4 --iterations 200000; race --atomic --threads 4 --iterations 200000; race --threads 2 --iterations 300000"
    )
    XCTAssertTrue(run.succeeded, run.stdout + run.stderr)
    let o = run.outcomes
    XCTAssertEqual(o.count, 3)
    for (i, key) in [(0, "mutex"), (1, "atomic")] {
      let v = try XCTUnwrap(o[i]["facts"]?["variants"]?[key])
      XCTAssertEqual(v["got"]?.intValue, 800_000, key)
      XCTAssertEqual(v["lost"]?.intValue, 0, key)
      XCTAssertEqual(Set(try XCTUnwrap(v["tids"]?.arrayValue).compactMap(\.intValue)).count, 4)
    }
    // Without flags all three run side by side, each with its own time.
    let all = try XCTUnwrap(o[2]["facts"]?["variants"])
    for key in ["racy", "mutex", "atomic"] {
      XCTAssertNotNil(all[key]?["wall_ns"]?.intValue, key)
    }
    XCTAssertEqual(all["mutex"]?["lost"]?.intValue, 0)
    XCTAssertEqual(all["atomic"]?["lost"]?.intValue, 0)
  }
}
