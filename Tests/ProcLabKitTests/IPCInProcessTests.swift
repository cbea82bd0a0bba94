import Foundation
import Glibc
import ProcLabKit
import TestSupport
import XCTest

/// The OS layer's IPC experiments called in-process: the test checks its own /proc afterwards.
final class IPCInProcessTests: XCTestCase {
  func testEveryMechanismCarriesEveryByteAndLeavesNothing() throws {
    let before = CleanupSnapshot()
    for mechanism in IPCMechanism.allCases {
      let t = try IPCTransfer.run(mechanism, bytes: 300_001, rounds: 20, message: 64)
      XCTAssertEqual(t.bytesReceived, 300_001, "\(mechanism)")
      XCTAssertEqual(t.sentChecksum, t.receivedChecksum, "\(mechanism)")
      XCTAssertEqual(t.echoMismatches, 0, "\(mechanism)")
      XCTAssertEqual(t.status, .exited(0), "\(mechanism)")
      XCTAssertEqual(t.namesLeft, 0, "\(mechanism)")
      XCTAssertFalse(processExists(t.child), "\(mechanism): child reaped")
      if let dir = t.directory { XCTAssertEqual(access(dir, F_OK), -1, "FIFO directory removed") }
    }
    XCTAssertEqual(Leftovers.owned(by: getpid()), [])
    XCTAssertEqual(leftovers(since: before), [])
  }

  func testTheShellsChecksumIsTheChildsChecksum() throws {
    // The C child and the Swift shell compute one checksum: the same bytes cut anywhere agree,
    // different bytes or order do not.
    let bytes = (0..<1001).map { UInt8(truncatingIfNeeded: $0 &* 37) }
    var whole = IPCChecksum()
    bytes.withUnsafeBytes { whole.add($0) }
    var pieces = IPCChecksum()
    for range in [0..<3, 3..<11, 11..<500, 500..<1001] { bytes[range].withUnsafeBytes { pieces.add($0) } }
    XCTAssertEqual(whole.value, pieces.value)
    var swapped = IPCChecksum()
    (Array(bytes[8..<16]) + Array(bytes[0..<8]) + Array(bytes[16...])).withUnsafeBytes { swapped.add($0) }
    XCTAssertNotEqual(whole.value, swapped.value)
  }

  func testCtrlCStopsATransferAndCleansUp() throws {
    let before = CleanupSnapshot()
    Interrupt.request()
    defer { Interrupt.clear() }
    for mechanism in [IPCMechanism.pipe, .datagram, .fifo, .sharedMemory, .messageQueue] {
      XCTAssertThrowsError(try IPCTransfer.run(mechanism, bytes: 1 << 30, rounds: 10, message: 64)) {
        XCTAssertTrue($0 is Interrupted, "\(mechanism): \($0)")
      }
    }
    Interrupt.clear()
    // FIFO directories, the shm object, the queues and their claim files: all gone.
    XCTAssertEqual(Leftovers.owned(by: getpid()), [])
    XCTAssertEqual(leftovers(since: before), [])
  }

  func testADataGramReadIsOneMessageAndAStreamReadIsWhateverIsThere() throws {
    let before = CleanupSnapshot()
    let d = try IPCSockets.boundaries(datagram: true, sizes: [100, 1, 900])
    XCTAssertEqual(d.readSizes, [100, 1, 900])
    let s = try IPCSockets.boundaries(datagram: false, sizes: [100, 1, 900])
    XCTAssertEqual(s.readSizes, [1001])
    XCTAssertEqual(leftovers(since: before), [])
  }

  func testShmChildHasItsOwnAddressSpaceButSeesTheSamePage() throws {
    let before = CleanupSnapshot()
    let s = try IPCSharedMemory.run(privateMapping: false, counter: .semaphore, iterations: 20_000)
    XCTAssertNotEqual(s.child, getpid())
    XCTAssertTrue(s.childSawParent)
    // One page at two addresses in one process: the address is not what is shared.
    XCTAssertNotEqual(s.childAddress, s.childSecondAddress)
    XCTAssertTrue(s.childSecondSaw)
    XCTAssertEqual(s.counter, 40_000)
    XCTAssertFalse(IPCNames.listed(shm: s.name))
    XCTAssertEqual(leftovers(since: before), [])
  }

  func testTheTraceShowsTheRealCallsWithReadableArguments() throws {
    _ = Trace.drain()
    Trace.isEnabled = true
    defer {
      Trace.isEnabled = false
      _ = Trace.drain()
    }
    _ = try IPCTransfer.run(.pipe, bytes: 10_000, rounds: 3, message: 64)
    _ = try IPCPipes.fill(readerDelay: .milliseconds(5))
    let calls = Trace.drain()
    let names = calls.map(\.name)
    XCTAssertEqual(
      names.filter { $0 == "pipe2" }.count, 5, "two for the transfer, three for --fill (the pipe, go, report)"
    )
    XCTAssertEqual(names.filter { $0 == "fork" }.count, 2)
    XCTAssertTrue(names.contains("wait4"))
    let fcntl = calls.first { $0.name == "fcntl" && $0.arguments.contains("F_GETPIPE_SZ") }
    XCTAssertEqual(fcntl.flatMap { Int($0.result) }, try IPCPipes.defaultCapacity())
    XCTAssertTrue(calls.contains { $0.name == "write" && $0.result.contains("EAGAIN") })
    // More than 64 calls are all there: the trace no longer stops at a fixed number.
    Trace.isEnabled = true
    for _ in 0..<20 { _ = try IPCSockets.boundaries(datagram: true, sizes: [1, 2, 3]) }
    XCTAssertGreaterThan(Trace.drain().count, 64)
  }

  /// Children and descriptors left behind. These experiments start no threads (they fork); the
  /// test runner's own threads come and go, so thread counts are not compared here.
  private func leftovers(since before: CleanupSnapshot) -> [String] {
    before.leftovers().filter { !$0.hasPrefix("threads left") }
  }
}
