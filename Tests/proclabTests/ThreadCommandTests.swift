import Foundation
import ProcLabKit
import TestSupport
import XCTest

/// `thread` through the built binary (strict: a leftover thread or descriptor fails the run).
final class ThreadCommandTests: XCTestCase {
  func testThread4CreatesFourKernelThreadsWithOwnStacksAndOneHeap() throws {
    let run = ProcLabBinary.json("thread 4")
    XCTAssertTrue(run.succeeded, run.stdout + run.stderr)
    let o = try XCTUnwrap(run.outcomes.first)
    XCTAssertEqual(o["ok"]?.boolValue, true, o.serialized)
    let f = try XCTUnwrap(o["facts"])
    let pid = try XCTUnwrap(f["pid"]?.intValue)
    let threads = try XCTUnwrap(f["threads"]?.arrayValue)
    XCTAssertEqual(threads.count, 4)
    let tids = threads.compactMap { $0["tid"]?.intValue }
    XCTAssertEqual(Set(tids).count, 4, "four distinct kernel thread IDs")
    XCTAssertEqual(
      Set(threads.compactMap { $0["name"]?.stringValue }),
      ["proclab-t1", "proclab-t2", "proclab-t3", "proclab-t4"],
      "the kernel keeps each thread's own name (/proc/self/task/TID/comm)")
    XCTAssertFalse(tids.contains(pid), "no thread is the main thread")
    let during = Set(try XCTUnwrap(f["tasks_during"]?.arrayValue).compactMap(\.intValue))
    XCTAssertTrue(
      Set(tids).isSubset(of: during), "every TID was listed in /proc/PID/task while the threads lived")
    XCTAssertTrue(during.contains(pid), "the main thread's TID is the process ID")
    XCTAssertGreaterThanOrEqual(during.count, 5)
    let after = Set(try XCTUnwrap(f["tasks_after"]?.arrayValue).compactMap(\.intValue))
    XCTAssertTrue(after.isDisjoint(with: tids), "joined threads are gone from /proc")

    // One heap variable, the same address in every thread, that counted every thread's add.
    XCTAssertEqual(Set(threads.compactMap { $0["shared_address"]?.intValue }).count, 1)
    XCTAssertEqual(f["shared_value"]?.intValue, 4)
    // Own stacks: locals distinct, each inside its own stack, stacks disjoint.
    let locals = threads.compactMap { $0["local_address"]?.intValue }
    XCTAssertEqual(Set(locals).count, 4, "local variables at distinct addresses")
    var ranges: [(Int, Int)] = []
    for t in threads {
      let lo = try XCTUnwrap(t["stack_low"]?.intValue)
      let hi = try XCTUnwrap(t["stack_high"]?.intValue)
      let local = try XCTUnwrap(t["local_address"]?.intValue)
      XCTAssertTrue(lo <= local && local < hi, "the local lies in the thread's own stack")
      if let sp = t["stack_pointer"]?.intValue {
        XCTAssertTrue(lo <= sp && sp < hi, "the saved stack pointer lies in the thread's own stack")
      }
      ranges.append((lo, hi))
    }
    for a in ranges.indices {
      for b in ranges.indices where a < b {
        XCTAssertFalse(ranges[a].0 < ranges[b].1 && ranges[b].0 < ranges[a].1, "stacks do not overlap")
      }
    }
    XCTAssertEqual(f["stack_pointers_in_own_stack"]?.intValue, 4)
  }

  func testHeldThreadsStayUntilReleaseAndThenLeave() throws {
    let run = ProcLabBinary.json("thread 3 --hold 60; info; thread --release; info")
    XCTAssertTrue(run.succeeded, run.stdout + run.stderr)
    let o = run.outcomes
    XCTAssertEqual(o.count, 4)
    let held = try XCTUnwrap(o[0]["facts"]?["threads"]?.arrayValue).compactMap { $0["tid"]?.intValue }
    XCTAssertEqual(held.count, 3)
    let during = try XCTUnwrap(o[1]["facts"]?["threads"]?.intValue)
    let afterward = try XCTUnwrap(o[3]["facts"]?["threads"]?.intValue)
    XCTAssertEqual(during - afterward, 3, "the 3 held threads were still listed after the command returned")
    XCTAssertEqual(o[2]["facts"]?["released"]?.intValue, 3)
    XCTAssertEqual(
      Set(try XCTUnwrap(o[2]["facts"]?["were_alive"]?.arrayValue).compactMap(\.intValue)), Set(held))
    let after = Set(try XCTUnwrap(o[2]["facts"]?["tasks_after"]?.arrayValue).compactMap(\.intValue))
    XCTAssertTrue(after.isDisjoint(with: held))
  }

  func testHeldThreadsAreReleasedWhenTheShellLeaves() {
    let start = Date()
    let run = ProcLabBinary.json("thread 2 --hold 60")
    XCTAssertTrue(run.succeeded, run.stdout + run.stderr)
    XCTAssertLessThan(Date().timeIntervalSince(start), 30, "leaving did not wait for the hold time")
  }

  func testBadInputIsOneLineEach() {
    let bad = [
      "thread 0", "thread 65", "thread x", "thread 2 --release", "thread --hold 0", "race --lock --atomic",
      "race --threads 0", "race --iterations 0", "race --bogus", "parallel --threads 2 --processes 2",
      "parallel --work 5", "io --tasks 0", "io --wait 99999", "io --serial --poll",
    ]
    for line in bad {
      let run = ProcLabBinary.text(line)
      XCTAssertEqual(run.status, 1, line)
      let lines = run.stdout.split(separator: "\n")
      XCTAssertEqual(lines.count, 1, "\(line): \(run.stdout)")
      XCTAssertTrue(lines.first?.hasPrefix(line.split(separator: " ")[0] + ":") ?? false, run.stdout)
      XCTAssertFalse(run.stderr.contains("Fatal"), run.stderr)
    }
  }
}
