import Glibc
import ProcLabKit
import TestSupport
import XCTest

/// `cost` end to end through the binary, strict: no zombie, no stray child, no leaked descriptor.
final class CostCommandTests: XCTestCase {
  func medians(_ run: ProcLabBinary.Run) -> [String: Double] {
    var out: [String: Double] = [:]
    for key in ["thread", "fork", "spawn", "exec"] {
      out[key] = run.outcomes.first?["facts"]?["rows"]?[key]?["median_ns"]?.doubleValue
    }
    return out
  }

  func testCostMeasuresEveryRowWithSaneMediansAndTheExpectedOrder() throws {
    // The ordering thread < fork < spawn+exec holds on any machine, but a busy
    // machine can upset one small run: a bounded number of tries.
    var last: [String: Double] = [:]
    for _ in 0..<3 {
      let run = ProcLabBinary.json("cost --iterations 60")
      XCTAssertTrue(run.succeeded, run.stdout + run.stderr)
      let facts = try XCTUnwrap(run.outcomes.first?["facts"])
      XCTAssertEqual(facts["iterations"]?.intValue, 60)
      for key in ["thread", "fork", "spawn", "exec"] {
        let row = try XCTUnwrap(facts["rows"]?[key], "row \(key)")
        XCTAssertEqual(row["samples"]?.intValue, 60)
        let median = try XCTUnwrap(row["median_ns"]?.doubleValue)
        XCTAssertGreaterThan(median, 0)
        XCTAssertLessThanOrEqual(row["p10_ns"]!.doubleValue!, median)
        XCTAssertGreaterThanOrEqual(row["p90_ns"]!.doubleValue!, median)
        XCTAssertLessThanOrEqual(row["min_ns"]!.doubleValue!, row["p10_ns"]!.doubleValue!)
      }
      XCTAssertGreaterThan(facts["shell_mappings"]?.intValue ?? 0, 0)
      XCTAssertGreaterThan(facts["tiny_program_bytes"]?.intValue ?? 0, 64)
      last = medians(run)
      if last["thread"]! < last["fork"]! && last["fork"]! < last["exec"]! { break }
    }
    XCTAssertLessThan(last["thread"]!, last["fork"]!, "a thread is cheaper than a process by fork: \(last)")
    XCTAssertLessThan(
      last["fork"]!, last["exec"]!, "fork is cheaper than posix_spawn + exec of /bin/true: \(last)")
  }

  func testTheTextShowsTheRowsTheChartAndRatios() {
    let run = ProcLabBinary.text("cost --iterations 10")
    XCTAssertTrue(run.succeeded, run.stdout + run.stderr)
    for expected in [
      "pthread_create + pthread_join", "fork + _exit + waitpid", "static program", "/bin/true",
      "a thread here",
      "logarithmic", "█",
    ] {
      XCTAssertTrue(run.stdout.contains(expected), "missing '\(expected)' in:\n\(run.stdout)")
    }
    XCTAssertTrue(run.stdout.contains("→ A process by fork cost"), run.stdout)
  }

  func testBadInputIsOneLineNamingTheCommand() {
    for (line, needle) in [
      ("cost --iterations 0", "cost: --iterations must be 10…100000, got 0"),
      ("cost --iterations many", "cost: --iterations must be a whole number"),
      ("cost 5", "cost: unexpected '5'"),
      ("cost --fast", "cost: unknown option --fast"),
    ] {
      let run = ProcLabBinary.json(line)
      XCTAssertFalse(run.succeeded)
      let error = run.outcomes.first?["error"]?.stringValue ?? ""
      XCTAssertTrue(error.hasPrefix(needle), "\(line): \(error)")
      XCTAssertFalse(error.contains("\n"))
    }
  }

  func testCostIsInHelpWithItsOptions() {
    let run = ProcLabBinary.text("help cost")
    XCTAssertTrue(run.stdout.contains("--iterations N"), run.stdout)
    XCTAssertTrue(run.stdout.contains("cost --iterations 1000"), run.stdout)
  }
}
