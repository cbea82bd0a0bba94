import Foundation
import ProcLabKit
import TestSupport
import XCTest

final class TranscriptCommandTests: XCTestCase {
  func testCheckOfAMissingFileIsExitTwo() {
    let run = ProcLabBinary.run(["check", "/nonexistent/proclab-transcript.txt"])
    XCTAssertEqual(run.status, 2, run.stdout + run.stderr)
  }
}
