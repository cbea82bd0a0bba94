import Glibc
import ProcLabKit
import TestSupport
import XCTest

/// The synchronization primitives, driven in this process: the recorded
/// timestamps and counters must show what the primitive promises.
final class SyncPrimitivesTests: XCTestCase {
  private func overlaps(_ intervals: [(UInt64, UInt64)]) -> Int {
    var n = 0
    for i in intervals.indices {
      for j in intervals.indices where j > i {
        if intervals[i].0 < intervals[j].1 && intervals[j].0 < intervals[i].1 { n += 1 }
      }
    }
    return n
  }

  private func maxConcurrent(_ intervals: [(UInt64, UInt64)]) -> Int {
    var events: [(UInt64, Int)] = []
    for (a, b) in intervals {
      events.append((a, 1))
      events.append((b, -1))
    }
    events.sort { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
    var now = 0
    var best = 0
    for e in events {
      now += e.1
      best = max(best, now)
    }
    return best
  }

  func testMutexHoldsNeverOverlapAndWaitersSleepInTheKernel() throws {
    let before = CleanupSnapshot()
    let r = try SyncPrimitives.takeTurns(kind: .mutex, workers: 3, rounds: 2, hold: .milliseconds(10))
    XCTAssertEqual(before.leftovers(), [], "threads joined")
    let turns = r.workers.flatMap(\.turns)
    XCTAssertEqual(turns.count, 6)
    XCTAssertEqual(
      overlaps(turns.map { ($0.acquired, $0.released) }), 0, "a mutex lets one thread in at a time")
    XCTAssertEqual(r.maxInside, 1)
    let tids = Set(r.workers.map(\.tid))
    XCTAssertEqual(tids.count, 3, "each worker is its own kernel thread")
    XCTAssertFalse(tids.contains(getpid()))
    XCTAssertTrue(turns.allSatisfy { $0.held >= 9_000_000 }, "each turn held the lock for its 10 ms")
    let waited = turns.filter { $0.waited > 3_000_000 }
    XCTAssertFalse(waited.isEmpty, "with 3 threads someone had to wait")
    // A waiter sleeps in futex (a voluntary switch). On a loaded machine a thread
    // can also be preempted before it asks and then find the lock free: allow a few.
    let slept = waited.filter { $0.waitSwitches > 0 }
    XCTAssertGreaterThan(slept.count * 2, waited.count, "most waits slept in the kernel: \(waited)")
  }

  func testTrylockIsRefusedButNeverOverlaps() throws {
    let r = try SyncPrimitives.takeTurns(kind: .trylock, workers: 3, rounds: 2, hold: .milliseconds(5))
    let turns = r.workers.flatMap(\.turns)
    XCTAssertEqual(overlaps(turns.map { ($0.acquired, $0.released) }), 0)
    XCTAssertGreaterThan(turns.reduce(0) { $0 + $1.refusals }, 0, "busy lock: trylock said EBUSY")
  }

  func testProcessSharedMutexBetweenForkedChildren() throws {
    let before = CleanupSnapshot()
    let shm = try FileManager.default.contentsOfDirectory(atPath: "/dev/shm")
    let r = try SyncPrimitives.takeTurns(
      kind: .mutex, workers: 3, rounds: 2, hold: .milliseconds(5), processes: true)
    XCTAssertEqual(r.childrenReaped, 3)
    XCTAssertEqual(before.leftovers(), [], "children reaped")
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: "/dev/shm"), shm, "no shm object left")
    let pids = r.workers.map(\.tid)
    XCTAssertEqual(Set(pids).count, 3)
    for pid in pids {
      XCTAssertNotEqual(pid, getpid(), "the workers were other processes")
      XCTAssertFalse(processExists(pid), "child \(pid) was reaped")
    }
    let turns = r.workers.flatMap(\.turns)
    XCTAssertEqual(turns.count, 6, "the children's records came back through the shared mapping")
    XCTAssertEqual(
      overlaps(turns.map { ($0.acquired, $0.released) }), 0, "the shared mutex excluded processes")
  }

  func testSemaphoreAdmitsExactlyKAtOnceNeverMore() throws {
    for (k, n) in [(1, 3), (2, 5), (3, 6)] {
      var reached = false
      // K is reached unless the machine is so busy that the threads never meet: bounded retries.
      for _ in 0..<3 where !reached {
        let r = try SyncPrimitives.takeTurns(
          kind: .semaphore, workers: n, rounds: 2, hold: .milliseconds(8), permits: k)
        let intervals = r.workers.flatMap(\.turns).map { ($0.acquired, $0.released) }
        XCTAssertLessThanOrEqual(r.maxInside, k, "K=\(k) of N=\(n): never more than K inside")
        XCTAssertLessThanOrEqual(maxConcurrent(intervals), k, "the timeline never shows more than K inside")
        reached = r.maxInside == k
      }
      XCTAssertTrue(reached, "K=\(k) of N=\(n): the counter inside the section reached K")
    }
  }

  func testReadersOverlapAndWritersAreAlone() throws {
    var readersOverlapped = false
    for _ in 0..<3 {
      let r = try SyncPrimitives.takeTurns(
        kind: .rwlock, workers: 5, rounds: 2, hold: .milliseconds(8), writers: 2)
      let reads = r.workers.filter { !$0.writer }.flatMap(\.turns).map { ($0.acquired, $0.released) }
      let writes = r.workers.filter(\.writer).flatMap(\.turns).map { ($0.acquired, $0.released) }
      XCTAssertEqual(writes.count, 4)
      for w in writes {
        let others = (reads + writes).filter { $0 != w }
        XCTAssertFalse(others.contains { w.0 < $0.1 && $0.0 < w.1 }, "a write turn overlapped another turn")
      }
      XCTAssertEqual(r.writerOverlaps, 0)
      if maxConcurrent(reads) >= 2 && r.maxReaders >= 2 {
        readersOverlapped = true
        break
      }
    }
    XCTAssertTrue(readersOverlapped, "readers shared the lock in at least one of three runs")
  }

  func testBoundedBufferConsumesEveryItemExactlyOnce() throws {
    let before = CleanupSnapshot()
    let r = try SyncPrimitives.boundedBuffer(
      producers: 2, consumers: 3, capacity: 2, items: 3000, variant: .correct, timeout: .seconds(20))
    XCTAssertFalse(r.hung)
    XCTAssertEqual(r.produced, 3000)
    XCTAssertEqual(r.consumed, 3000)
    XCTAssertEqual(r.duplicates, 0)
    XCTAssertEqual(r.missing, 0)
    XCTAssertEqual(r.underflows, 0)
    XCTAssertLessThanOrEqual(r.maxCount, 2)
    XCTAssertGreaterThan(r.producerWaits + r.consumerWaits, 0, "a 2-slot buffer made someone wait")
    XCTAssertEqual(r.workers.filter(\.consumer).reduce(0) { $0 + $1.handled }, 3000)
    XCTAssertEqual(before.leftovers(), [])
  }

  func testCtrlCStopsTheWorkersAndJoinsThem() throws {
    let before = CleanupSnapshot()
    Interrupt.request()
    defer { Interrupt.clear() }
    XCTAssertThrowsError(
      try SyncPrimitives.takeTurns(kind: .mutex, workers: 4, rounds: 16, hold: .milliseconds(50))
    ) { XCTAssertTrue($0 is Interrupted) }
    XCTAssertEqual(before.leftovers(), [])
  }
}
