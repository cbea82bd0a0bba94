import Foundation
import ProcLabKit
import TestSupport
import XCTest

/// `io` through the built binary: overlapping waits take about one wait, serial ones about K.
final class IOCommandTests: XCTestCase {
  func testThreadsAndPollOverlapTheWaitsAndSerialAddsThemUp() throws {
    var last = ""
    for _ in 0..<3 {
      let run = ProcLabBinary.json("io --tasks 4 --wait 100")
      XCTAssertTrue(run.succeeded, run.stdout + run.stderr)
      let m = try XCTUnwrap(run.outcomes.first?["facts"]?["modes"])
      let serial = try XCTUnwrap(m["serial"]?["waits"]?.doubleValue)
      let threads = try XCTUnwrap(m["threads"]?["waits"]?.doubleValue)
      let poll = try XCTUnwrap(m["poll"]?["waits"]?.doubleValue)
      // Every task really read its reply (its eventfd's count), from its own thread or from the one thread.
      for mode in ["serial", "threads", "poll"] {
        XCTAssertEqual(m[mode]?["answered"]?.intValue, 4, mode)
        let values = try XCTUnwrap(m[mode]?["values"]?.arrayValue).compactMap(\.intValue)
        XCTAssertEqual(values, [1, 1, 1, 1], mode)
      }
      XCTAssertEqual(Set(try XCTUnwrap(m["threads"]?["tids"]?.arrayValue).compactMap(\.intValue)).count, 4)
      XCTAssertEqual(Set(try XCTUnwrap(m["poll"]?["tids"]?.arrayValue).compactMap(\.intValue)).count, 1)
      XCTAssertGreaterThanOrEqual(serial, 3.9, "serial waits add up: at least K waits")
      last = "serial \(serial), threads \(threads), poll \(poll) waits"
      if serial / threads > 2.5 && serial / poll > 2.5 && threads < 1.6 && poll < 1.6 {
        // Waiting costs little CPU.
        let cpu = try XCTUnwrap(m["poll"]?["cpu_ns"]?.intValue)
        let wall = try XCTUnwrap(m["poll"]?["wall_ns"]?.intValue)
        XCTAssertLessThan(Double(cpu) / Double(wall), 0.5)
        return
      }
    }
    XCTFail("waits did not overlap: \(last)")
  }
}
