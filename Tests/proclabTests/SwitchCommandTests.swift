import Glibc
import ProcLabKit
import TestSupport
import XCTest

/// `switch` end to end through the binary, strict.
final class SwitchCommandTests: XCTestCase {
  func testSwitchMeasuresThreadsAndProcessesInOneRun() throws {
    let run = ProcLabBinary.json("switch --iterations 2000")
    XCTAssertTrue(run.succeeded, run.stdout + run.stderr)
    let facts = try XCTUnwrap(run.outcomes.first?["facts"])
    let rows = try XCTUnwrap(facts["rows"])
    for key in ["threads", "processes", "pipe_only"] {
      let row = try XCTUnwrap(rows[key], key)
      XCTAssertGreaterThan(row["median_ns"]?.doubleValue ?? 0, 0, key)
      XCTAssertGreaterThanOrEqual(row["round_trips"]?.intValue ?? 0, 2000, key)
    }
    // The partner process really existed (a PID different from the shell's) and is gone now.
    let partner = try XCTUnwrap(rows["processes"]?["partner_pid"]?.intValue)
    XCTAssertGreaterThan(partner, 1)
    XCTAssertFalse(processExists(Int32(partner)))
    XCTAssertNotNil(rows["threads"]?["partner_tid"]?.intValue)
    // The headline figure is the switch alone: the pipe calls, measured in one thread, subtracted.
    let pipeCalls = try XCTUnwrap(rows["pipe_only"]?["median_ns"]?.doubleValue)
    for key in ["threads", "processes"] {
      let median = try XCTUnwrap(rows[key]?["median_ns"]?.doubleValue)
      XCTAssertEqual(
        rows[key]?["alone_ns"]?.doubleValue ?? -1, max(0, median - pipeCalls), accuracy: 0.5, key)
    }
    if facts["pinned"]?.boolValue == true {
      // On one CPU every round trip is two switches, and the kernel counted them.
      for key in ["threads", "processes"] {
        let counted = rows[key]?["switches_counted"]?.intValue ?? 0
        let trips = rows[key]?["round_trips"]?.intValue ?? 0
        XCTAssertGreaterThanOrEqual(Double(counted), 1.5 * Double(trips), "\(key): \(counted) for \(trips)")
      }
      XCTAssertLessThan(
        rows["pipe_only"]?["switches_counted"]?.intValue ?? 0, 2000, "no partner, no switches")
    }
  }

  func testASwitchCostsMoreThanThePipeCallsAlone() throws {
    var last = (0.0, 0.0, 0.0)
    for _ in 0..<3 {
      let run = ProcLabBinary.json("switch --iterations 3000")
      let rows = try XCTUnwrap(run.outcomes.first?["facts"]?["rows"])
      last = (
        rows["pipe_only"]!["median_ns"]!.doubleValue!, rows["threads"]!["median_ns"]!.doubleValue!,
        rows["processes"]!["median_ns"]!.doubleValue!
      )
      if last.0 < last.1 && last.0 < last.2 { break }
    }
    XCTAssertLessThan(last.0, last.1, "threads: \(last)")
    XCTAssertLessThan(last.0, last.2, "processes: \(last)")
  }

  func testOnlyThreadsOrOnlyProcesses() throws {
    let threads = ProcLabBinary.json("switch --threads --iterations 500")
    XCTAssertTrue(threads.succeeded, threads.stdout)
    let t = try XCTUnwrap(threads.outcomes.first?["facts"]?["rows"])
    XCTAssertNotNil(t["threads"])
    XCTAssertNil(t["processes"])
    let processes = ProcLabBinary.text("switch --processes --iterations 500")
    XCTAssertTrue(processes.succeeded, processes.stdout)
    XCTAssertTrue(processes.stdout.contains("processes"))
    XCTAssertFalse(processes.stdout.contains("tid "))
    XCTAssertTrue(processes.stdout.contains("sched_setaffinity"), processes.stdout)
  }

  func testAWorkingSetMakesEachSwitchRefillTheCaches() throws {
    let run = ProcLabBinary.json("switch --working-set 1M --iterations 2000")
    XCTAssertTrue(run.succeeded, run.stdout + run.stderr)
    let sizes = try XCTUnwrap(run.outcomes.first?["facts"]?["sizes"]?.arrayValue)
    XCTAssertEqual(sizes.compactMap { $0["bytes"]?.intValue }, [0, 16 << 10, 64 << 10, 256 << 10, 1 << 20])
    // Reading 1 MiB at every hand-over, against the other side's 1 MiB, costs more than nothing.
    let small = sizes.first!["processes_alone_ns"]?.doubleValue ?? 0
    let big = sizes.last!["processes_alone_ns"]?.doubleValue ?? 0
    XCTAssertGreaterThan(big, small, "switch alone: \(small) ns with nothing, \(big) ns with 1 MiB each")
    for s in sizes {
      XCTAssertNotNil(s["rows"]?["pipe_only"]?["median_ns"]?.doubleValue)
      XCTAssertNotNil(s["threads_alone_ns"]?.doubleValue)
    }
  }

  func testBadInput() {
    for (line, needle) in [
      ("switch --threads --processes", "switch: --threads and --processes cannot be used together"),
      ("switch --iterations 5", "switch: --iterations must be 100…10000000, got 5"),
      // lmbench's lat_ctx -s counts KiB; proclab's sizes are bytes unless a unit says otherwise.
      ("switch --working-set 64", "switch: --working-set must be 16K…64M, got 64 (did you mean 64K?)"),
      ("switch now", "switch: unexpected 'now'"),
      ("switch --working-set 1K", "switch: --working-set must be 16K…64M, got 1K"),
    ] {
      let run = ProcLabBinary.json(line)
      XCTAssertFalse(run.succeeded)
      let error = run.outcomes.first?["error"]?.stringValue ?? ""
      XCTAssertTrue(error.hasPrefix(needle), "\(line): \(error)")
    }
  }
}
