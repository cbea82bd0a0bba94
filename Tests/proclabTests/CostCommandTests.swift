import Foundation
import Glibc
import ProcLabKit
import TestSupport
import XCTest

/// `cost` end to end through the binary, strict: no zombie, no stray child, no leaked descriptor.
final class CostCommandTests: XCTestCase {
  func medians(_ run: ProcLabBinary.Run) -> [String: Double] {
    var out: [String: Double] = [:]
    for key in ["thread", "fork_small", "fork_shell", "spawn", "exec"] {
      out[key] = run.outcomes.first?["facts"]?["rows"]?[key]?["median_ns"]?.doubleValue
    }
    return out
  }

  func testCostMeasuresEveryRowWithSaneMediansAndTheExpectedOrder() throws {
    // thread < spawn+exec and fork < spawn+exec hold on any machine, but a busy machine
    // can upset one small run: a bounded number of tries. Whether a thread is cheaper than
    // a fork of the small process, or that fork cheaper than the shell's, is not asserted:
    // on some machines the differences are small enough for noise to swap them.
    var last: [String: Double] = [:]
    for _ in 0..<3 {
      let run = ProcLabBinary.json("cost --iterations 60")
      XCTAssertTrue(run.succeeded, run.stdout + run.stderr)
      let facts = try XCTUnwrap(run.outcomes.first?["facts"])
      XCTAssertEqual(facts["iterations"]?.intValue, 60)
      for key in ["thread", "fork_small", "fork_shell", "spawn", "exec"] {
        let row = try XCTUnwrap(facts["rows"]?[key], "row \(key)")
        XCTAssertEqual(row["samples"]?.intValue, 60)
        let median = try XCTUnwrap(row["median_ns"]?.doubleValue)
        XCTAssertGreaterThan(median, 0)
        XCTAssertLessThanOrEqual(row["p10_ns"]!.doubleValue!, median)
        XCTAssertGreaterThanOrEqual(row["p90_ns"]!.doubleValue!, median)
        XCTAssertLessThanOrEqual(row["min_ns"]!.doubleValue!, row["p10_ns"]!.doubleValue!)
        XCTAssertNotNil(
          facts["ratios"]?["\(key)_over_thread"]?.doubleValue ?? (key == "thread" ? 1 : nil), key)
      }
      XCTAssertNotNil(facts["ratios"]?["fork_shell_over_fork_small"]?.doubleValue)
      // Both parents were measured: the shell and the helper, two different processes,
      // the helper the smaller of the two (a C program against the Swift runtime + Foundation).
      let shellMappings = try XCTUnwrap(facts["shell_mappings"]?.intValue)
      let forkerMappings = try XCTUnwrap(facts["forker_mappings"]?.intValue)
      XCTAssertGreaterThan(forkerMappings, 0)
      XCTAssertLessThan(forkerMappings, shellMappings, "the helper is the smaller parent")
      XCTAssertGreaterThan(facts["forker_rss_bytes"]?.intValue ?? 0, 0)
      XCTAssertLessThan(facts["forker_rss_bytes"]?.intValue ?? 0, facts["shell_rss_bytes"]?.intValue ?? 0)
      XCTAssertGreaterThan(facts["tiny_program_bytes"]?.intValue ?? 0, 64)
      // The helper was a child of the shell and is gone (strict mode checked no stray child).
      let forker = try XCTUnwrap(facts["forker_pid"]?.intValue)
      XCTAssertFalse(processExists(Int32(forker)), "proclab-forker was reaped")
      XCTAssertEqual(
        facts["order"]?.arrayValue?.compactMap(\.stringValue),
        ["thread", "fork_small", "fork_shell", "spawn", "exec"])
      last = medians(run)
      if last["thread"]! < last["exec"]! && last["fork_small"]! < last["exec"]! { break }
    }
    XCTAssertLessThan(last["thread"]!, last["exec"]!, "a thread is cheaper than posix_spawn + exec: \(last)")
    XCTAssertLessThan(
      last["fork_small"]!, last["exec"]!,
      "fork of a small process is cheaper than posix_spawn + exec of /bin/true: \(last)")
  }

  func testTheSpawnOfTheHelperIsTraced() {
    let run = ProcLabBinary.text("set trace on; cost --iterations 10")
    XCTAssertTrue(run.succeeded, run.stdout + run.stderr)
    let all = run.stdout + run.stderr
    XCTAssertTrue(all.contains("posix_spawn") && all.contains("proclab-forker"), all)
    XCTAssertTrue(all.contains("fork+waitpid in proclab-forker"), all)
  }

  func testWithoutTheHelperCostSaysSoInOneLine() throws {
    // A copy of proclab alone in a directory: no proclab-forker beside it. (A hard link,
    // in the build folder so that it is on the same file system.)
    let build = URL(fileURLWithPath: ProcLabBinary.path).deletingLastPathComponent()
      .deletingLastPathComponent()
    let dir = build.appendingPathComponent("proclab-alone-\(getpid())").path
    mkdir(dir, 0o755)
    defer {
      unlink(dir + "/proclab")
      rmdir(dir)
    }
    let copy = dir + "/proclab"
    if link(ProcLabBinary.path, copy) != 0 {
      try FileManager.default.copyItem(atPath: ProcLabBinary.path, toPath: copy)
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: copy)
    process.arguments = ["--json", "-c", "cost --iterations 10"]
    var env = ProcessInfo.processInfo.environment
    env["PROCLAB_EXECUTABLE"] = nil
    process.environment = env
    let out = Pipe()
    process.standardOutput = out
    try process.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let text = String(decoding: data, as: UTF8.self)
    XCTAssertNotEqual(process.terminationStatus, 0)
    XCTAssertTrue(text.contains("proclab-forker") && text.contains("missing"), text)
    XCTAssertFalse(text.contains("\\n"), "one line: \(text)")
  }

  func testTheTextShowsTheRowsTheChartAndRatios() {
    let run = ProcLabBinary.text("cost --iterations 10")
    XCTAssertTrue(run.succeeded, run.stdout + run.stderr)
    for expected in [
      "pthread_create + pthread_join", "fork + _exit + waitpid, from proclab-forker",
      "fork + _exit + waitpid, from this shell", "static program", "/bin/true",
      "a thread here", "the parents fork copied:", "fork_small", "fork_shell",
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
