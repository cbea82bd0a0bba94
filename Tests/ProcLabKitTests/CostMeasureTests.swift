import CLab
import Foundation
import Glibc
import ProcLabKit
import TestSupport
import XCTest

/// The OS layer under `cost` and `switch`, checked in-process against /proc.
final class CostMeasureTests: XCTestCase {
  private var baseline = Holdings()

  override func setUp() {
    baseline = Holdings()
  }

  func testEveryWayOfCreatingReallyCreatesAndFinishes() throws {
    XCTAssertGreaterThan(try CreationCost.thread(), 0)
    XCTAssertGreaterThan(try CreationCost.fork(), 0)
    XCTAssertGreaterThan(try CreationCost.spawn("/bin/true"), 0)
    // A program that does not exist is an error, not a number.
    XCTAssertThrowsError(try CreationCost.spawn("/nonexistent/program"))
    XCTAssertEqual(leftovers(since: baseline), [])
  }

  func testTheTinyProgramIsARealStaticELFThatExitsZero() throws {
    let tiny = try XCTUnwrap(TinyProgram(), "this machine (x86_64/aarch64) has a tiny program")
    let bytes = [UInt8](try XCTUnwrap(FileManager.default.contents(atPath: tiny.path)))
    XCTAssertEqual(Array(bytes.prefix(4)), [0x7f, 0x45, 0x4c, 0x46], "an ELF file")
    XCTAssertEqual(bytes[16], 2, "ET_EXEC: a static executable, no interpreter")
    XCTAssertEqual(tiny.size, bytes.count)
    XCTAssertLessThan(tiny.size, 200)
    XCTAssertEqual(
      ProcFS.descriptorTarget(pid: getpid(), fd: tiny.descriptor)?.contains("proclab-tiny-program"), true)
    // spawn throws unless the child exited 0: the kernel really ran the three instructions.
    XCTAssertGreaterThan(try CreationCost.spawn(tiny.path), 0)
    tiny.close()
    XCTAssertEqual(leftovers(since: baseline), [])
  }

  func testAProcessPartnerIsARealChildThatIsReapedOnClose() throws {
    let pin = CPUPin()
    defer { pin.release() }
    let pair = try PingPong(.process, pinnedTo: pin.cpu ?? -1)
    XCTAssertTrue(ProcFS.children(of: getpid()).contains(pair.partnerID), "the partner is our child")
    let (ns, voluntary, involuntary) = try pair.batch(500)
    XCTAssertGreaterThan(ns, 0)
    let partner = pair.close()
    let counted = voluntary + involuntary + partner.voluntary + partner.involuntary
    if pin.cpu != nil {
      // Pinned to one CPU, every round trip is two real switches.
      XCTAssertGreaterThanOrEqual(counted, 750, "the kernel counted the switches")
    }
    XCTAssertFalse(processExists(pair.partnerID), "the partner was reaped")
    pin.release()
    XCTAssertEqual(leftovers(since: baseline), [])
  }

  func testAThreadPartnerIsAThreadOfThisProcess() throws {
    let pair = try PingPong(.thread, pinnedTo: -1)
    XCTAssertTrue(ProcFS.threads(of: getpid()).contains(pair.partnerID), "its TID is in /proc/self/task")
    XCTAssertNotEqual(pair.partnerID, getpid())
    _ = try pair.batch(200)
    pair.close()
    XCTAssertFalse(ProcFS.threads(of: getpid()).contains(pair.partnerID), "joined")
    XCTAssertEqual(leftovers(since: baseline), [])
  }

  func testPinningRestoresTheAffinity() throws {
    let pin = CPUPin()
    guard let cpu = pin.cpu else { throw XCTSkip("sched_setaffinity refused: \(pin.failure ?? "?")") }
    let allowed = ProcFS.status(getpid(), field: "Cpus_allowed_list")
    XCTAssertNotNil(allowed)
    let mine = ProcFS.read("/proc/self/task/\(gettidForTest())/status") ?? ""
    XCTAssertTrue(mine.contains("Cpus_allowed_list:\t\(cpu)\n"), "this thread runs on CPU \(cpu) only")
    pin.release()
    let after = ProcFS.read("/proc/self/task/\(gettidForTest())/status") ?? ""
    XCTAssertFalse(
      after.contains("Cpus_allowed_list:\t\(cpu)\n") && sysconf(Int32(_SC_NPROCESSORS_ONLN)) > 1,
      "unpinned again")
  }

  func testCtrlCStopsCostAndSwitchAndEverythingIsCleanedUp() throws {
    for line in [["cost", "--iterations", "100000"], ["switch", "--iterations", "10000000"]] {
      let session = Session()
      // The first progress report presses Ctrl-C.
      session.progressSink = { _ in Interrupt.request() }
      let outcome = session.run(words: line)
      XCTAssertFalse(outcome.succeeded)
      XCTAssertTrue(outcome.error?.contains("interrupted") == true, outcome.error ?? "")
      XCTAssertEqual(leftovers(since: baseline), [], "after \(line[0])")
    }
    Interrupt.clear()
  }

  private func gettidForTest() -> Int32 { clab_gettid() }

  /// What this process holds that `cost` and `switch` could leak: children, pipes and
  /// in-memory files, and threads other than the test runner's Dispatch workers (which
  /// come and go on their own and open eventfds of their own).
  private struct Holdings: Equatable {
    var children: Set<Int32>
    var descriptors: Set<String>
    var threads: Set<Int32>

    init() {
      let me = getpid()
      children = Set(ProcFS.children(of: me))
      descriptors = Set(
        ProcFS.descriptors(of: me).compactMap { fd -> String? in
          guard let target = ProcFS.descriptorTarget(pid: me, fd: fd) else { return nil }
          return target.hasPrefix("pipe:") || target.contains("memfd:") ? "\(fd)→\(target)" : nil
        })
      threads = Set(
        ProcFS.threads(of: me).filter { tid in
          let name = ProcFS.read("/proc/self/task/\(tid)/comm") ?? ""
          return !name.contains("qos") && !name.contains("dispatch")
        })
    }
  }

  /// Everything held now that was not held at `before`, one line each.
  private func leftovers(since before: Holdings) -> [String] {
    let now = Holdings()
    var problems: [String] = []
    let children = now.children.subtracting(before.children)
    if !children.isEmpty { problems.append("children left: \(children.sorted())") }
    let fds = now.descriptors.subtracting(before.descriptors)
    if !fds.isEmpty { problems.append("descriptors leaked: \(fds.sorted())") }
    let threads = now.threads.subtracting(before.threads)
    if !threads.isEmpty { problems.append("threads left: \(threads.sorted())") }
    return problems
  }
}
