import Foundation
import Glibc
import ProcLabKit
import TestSupport
import XCTest

/// The OS layer's IPC experiments called in-process: the test checks its own /proc afterwards.
final class IPCInProcessTests: XCTestCase {
  func testEveryMechanismCarriesEveryByteAndLeavesNothing() throws {
    let before = CleanupSnapshot()
    let dir = try IPCFifo.makePrivateDirectory()
    defer { IPCFifo.removeDirectory(dir) }
    for mechanism in IPCMechanism.allCases {
      let name: String =
        switch mechanism {
        case .fifo: dir
        case .sharedMemory: IPCNames.unique("shm")
        case .messageQueue: IPCNames.unique("mq")
        default: ""
        }
      let t = try IPCTransfer.run(mechanism, bytes: 300_001, rounds: 20, message: 64, name: name)
      XCTAssertEqual(t.bytesReceived, 300_001, "\(mechanism)")
      XCTAssertEqual(t.sentChecksum, t.receivedChecksum, "\(mechanism)")
      XCTAssertEqual(t.echoMismatches, 0, "\(mechanism)")
      XCTAssertEqual(t.status, .exited(0), "\(mechanism)")
      XCTAssertEqual(t.namesLeft, 0, "\(mechanism)")
      XCTAssertFalse(processExists(t.child), "\(mechanism): child reaped")
    }
    XCTAssertEqual(IPCFifo.entries(of: dir), [])
    XCTAssertEqual(leftovers(since: before), [])
  }

  func testCtrlCStopsATransferAndCleansUp() throws {
    let before = CleanupSnapshot()
    let dir = try IPCFifo.makePrivateDirectory()
    defer { IPCFifo.removeDirectory(dir) }
    let shm = IPCNames.unique("shm")
    let mq = IPCNames.unique("mq")
    Interrupt.request()
    defer { Interrupt.clear() }
    for (mechanism, name) in [
      (IPCMechanism.pipe, ""), (.datagram, ""), (.fifo, dir), (.sharedMemory, shm), (.messageQueue, mq),
    ] {
      XCTAssertThrowsError(
        try IPCTransfer.run(mechanism, bytes: 1 << 30, rounds: 10, message: 64, name: name)
      ) {
        XCTAssertTrue($0 is Interrupted, "\(mechanism): \($0)")
      }
    }
    Interrupt.clear()
    XCTAssertEqual(IPCFifo.entries(of: dir), [], "FIFOs removed")
    XCTAssertFalse(IPCNames.listed(shm: shm))
    XCTAssertFalse(IPCNames.queueExists(mq + ".to-child"), "queue unlinked")
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
    let name = IPCNames.unique("shm")
    let s = try IPCSharedMemory.run(
      name: name, privateMapping: false, counter: .semaphore, iterations: 20_000)
    XCTAssertNotEqual(s.child, getpid())
    XCTAssertTrue(s.childSawParent)
    XCTAssertEqual(s.counter, 40_000)
    XCTAssertFalse(IPCNames.listed(shm: name))
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
    XCTAssertEqual(names.filter { $0 == "pipe2" }.count, 3, "two for the transfer, one for --fill")
    XCTAssertTrue(names.contains("fork"))
    XCTAssertTrue(names.contains("waitpid"))
    let fcntl = calls.first { $0.name == "fcntl" && $0.arguments.contains("F_GETPIPE_SZ") }
    XCTAssertEqual(fcntl.flatMap { Int($0.result) }, IPCPipes.defaultCapacity())
    XCTAssertTrue(calls.contains { $0.name == "write" && $0.arguments.contains("EAGAIN") })
  }

  /// Children and descriptors left behind. These experiments start no threads (they fork); the
  /// test runner's own threads come and go, so thread counts are not compared here.
  private func leftovers(since before: CleanupSnapshot) -> [String] {
    before.leftovers().filter { !$0.hasPrefix("threads left") }
  }
}
