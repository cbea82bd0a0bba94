import Glibc
import ProcLabKit
import TestSupport
import XCTest

/// The thread commands run inside the test process, checked against its own /proc.
final class ThreadExperimentTests: XCTestCase {
  func run(_ line: String, _ session: Session) throws -> Report {
    let words = line.split(separator: " ").map(String.init)
    let command = try XCTUnwrap(Catalog.registry.command(named: words[0]))
    return try command.parse(Array(words.dropFirst())).run(session)
  }

  func testHeldThreadsAreInProcTaskUntilTheSessionCleansUp() throws {
    let before = CleanupSnapshot()
    let session = Session()
    let r = try run("thread 3 --hold 60", session)
    let tids = try XCTUnwrap(r.facts["threads"]?.arrayValue).compactMap { $0["tid"]?.intValue }.map {
      Int32($0)
    }
    XCTAssertEqual(tids.count, 3)
    let live = Set(ProcFS.threads(of: getpid()))
    XCTAssertTrue(Set(tids).isSubset(of: live), "the held threads are kernel tasks of this process right now")
    for tid in tids {
      // Each is asleep in the kernel (poll on the pipe), with its own stat file.
      XCTAssertEqual(ProcFS.threadStat(tid)?.state, "S", "thread \(tid) sleeps while held")
    }
    XCTAssertEqual(session.keepers["threads"]?.heldThreads, 3)
    XCTAssertEqual(session.keepers["threads"]?.heldDescriptors, 2)
    session.cleanUp()
    let after = Set(ProcFS.threads(of: getpid()))
    XCTAssertTrue(after.isDisjoint(with: tids), "released threads are gone")
    XCTAssertEqual(before.leftovers(), [])
  }

  func testCtrlCStopsEveryCommandAndLeavesNothingBehind() throws {
    let before = CleanupSnapshot()
    let session = Session()
    defer { Interrupt.clear() }
    for line in [
      "race --iterations 50000000", "parallel --threads 2 --work 2000", "parallel --processes 2 --work 2000",
      "io --tasks 4 --wait 3000",
    ] {
      // Ctrl-C arrives 150 ms into the work, from another thread (as the SIGINT handler would set it).
      let presser = try Threads.spawn("ctrl-c") {
        usleep(150_000)
        Interrupt.request()
      }
      let start = MonotonicClock.nanoseconds()
      XCTAssertThrowsError(try run(line, session), line) {
        XCTAssertTrue($0 is Interrupted, "\(line): \($0)")
      }
      XCTAssertLessThan(MonotonicClock.since(start).seconds, 2.5, "\(line) stopped promptly")
      XCTAssertGreaterThan(MonotonicClock.since(start).seconds, 0.1, "\(line) was working when Ctrl-C came")
      Threads.join(presser)
      Interrupt.clear()
      XCTAssertEqual(before.leftovers(), [], line)
    }
  }

  func testRaceThreadsAreJoinedAndTheirTIDsGone() throws {
    let before = CleanupSnapshot()
    let r = try run("race --racy --threads 3 --iterations 100000", Session())
    let tids = try XCTUnwrap(r.facts["variants"]?["racy"]?["tids"]?.arrayValue).compactMap(\.intValue)
    XCTAssertEqual(Set(tids).count, 3)
    XCTAssertTrue(Set(ProcFS.threads(of: getpid()).map(Int.init)).isDisjoint(with: tids))
    XCTAssertEqual(before.leftovers(), [])
  }
}
