import Foundation
import Glibc
import XCTest

/// The plain-C reference (Benchmarks/reference.c) builds with the system's cc
/// and measures the same rows as `cost` and `switch`.
final class CostReferenceTests: XCTestCase {
  static var repository: URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
  }

  func run(_ path: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = arguments
    p.environment = ProcessInfo.processInfo.environment.merging(["REFERENCE_QUICK": "1"]) { $1 }
    let out = Pipe()
    p.standardOutput = out
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
  }

  /// `cost fork median=… p10=…` → ["fork": ["median": …, …]]
  func parse(_ text: String, prefix: String) -> [String: [String: Double]] {
    var rows: [String: [String: Double]] = [:]
    for line in text.split(separator: "\n") where line.hasPrefix(prefix + " ") {
      let words = line.split(separator: " ")
      var values: [String: Double] = [:]
      for w in words.dropFirst(2) {
        let kv = w.split(separator: "=")
        if kv.count == 2, let v = Double(kv[1]) { values[String(kv[0])] = v }
      }
      rows[String(words[1])] = values
    }
    return rows
  }

  func testTheReferenceBuildsAndMeasuresTheSameRows() throws {
    guard
      let cc = ["/usr/bin/cc", "/usr/bin/gcc", "/usr/bin/clang"].first(where: {
        FileManager.default.isExecutableFile(atPath: $0)
      })
    else {
      throw XCTSkip("no C compiler on this machine")
    }
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("proclab-reference-\(getpid())")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let binary = dir.appendingPathComponent("reference").path
    let source = Self.repository.appendingPathComponent("Benchmarks/reference.c").path
    let build = try run(cc, ["-O2", "-Wall", "-Werror", "-o", binary, source, "-lpthread", "-lm"])
    XCTAssertEqual(build.status, 0, "cc failed")

    // lmbench's manner: 11 tries of a timed loop of many operations, each kind on its own.
    let cost = try run(binary, ["cost"])
    XCTAssertEqual(cost.status, 0)
    let rows = parse(cost.output, prefix: "cost")
    XCTAssertEqual(Set(rows.keys), ["thread", "fork", "spawn", "exec"], cost.output)
    for (name, row) in rows {
      XCTAssertGreaterThan(row["median"] ?? 0, 0, name)
      XCTAssertEqual(row["tries"], 11, name)
      XCTAssertGreaterThanOrEqual(row["per_try"] ?? 0, 1, name)
      XCTAssertLessThanOrEqual(row["min"] ?? .infinity, row["median"] ?? 0, name)
    }
    // Fastest tries: on a loaded machine a whole try of the short thread loop can be stretched.
    XCTAssertLessThan(rows["thread"]!["min"]!, rows["exec"]!["min"]!, cost.output)

    let sw = try run(binary, ["switch"])
    XCTAssertEqual(sw.status, 0)
    let switches = parse(sw.output, prefix: "switch")
    XCTAssertEqual(Set(switches.keys), ["threads", "processes", "pipe_only"], sw.output)
    for (name, row) in switches { XCTAssertGreaterThan(row["median"] ?? 0, 0, name) }
    // lat_ctx's subtraction: the switch alone is per switch (half a round trip) minus the pipe calls.
    for name in ["threads", "processes"] {
      let row = switches[name]!
      XCTAssertEqual(row["alone"]!, row["median"]! - switches["pipe_only"]!["median"]!, accuracy: 1.5, name)
    }
    XCTAssertTrue(sw.output.contains("pinned "), sw.output)

    // 32 MiB of private resident pages: fork copies 8,192 more page-table entries, several
    // times the cost of an empty parent's fork, far beyond a busy machine's noise.
    let sizes = try run(binary, ["fork-size", "0", "\(32 << 20)"])
    XCTAssertEqual(sizes.status, 0)
    let size = parse(sizes.output, prefix: "size")
    // The fastest try of each (quick tries are short and a busy machine stretches some).
    XCTAssertGreaterThan(
      size["fork@\(32 << 20)"]?["min"] ?? 0, size["fork@0"]?["min"] ?? .infinity, sizes.output)
  }
}
