import Foundation
import Glibc
import TestSupport
import XCTest

/// `proclab … | head`: once the reader is gone, a write fails with EPIPE and the shell
/// goes on (Interrupt.ignoreBrokenPipe), rather than being killed by SIGPIPE.
final class BrokenPipeTests: XCTestCase {
  func testAClosedOutputPipeDoesNotKillTheShell() throws {
    var fds: [Int32] = [0, 0]
    XCTAssertEqual(pipe(&fds), 0)
    close(fds[0])  // no reader: the first write raises SIGPIPE unless it is ignored
    defer { close(fds[1]) }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: ProcLabBinary.path)
    process.arguments = ["-c", "help; help"]
    var env = ProcessInfo.processInfo.environment
    env["NO_COLOR"] = "1"
    env["XDG_STATE_HOME"] = NSTemporaryDirectory() + "proclab-test-state"
    process.environment = env
    process.standardInput = FileHandle.nullDevice
    process.standardOutput = FileHandle(fileDescriptor: fds[1], closeOnDealloc: false)
    process.standardError = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    XCTAssertEqual(
      process.terminationReason, .exit,
      "ended by signal \(process.terminationStatus) (\(process.terminationStatus == SIGPIPE ? "SIGPIPE" : "?"))"
    )
  }
}
