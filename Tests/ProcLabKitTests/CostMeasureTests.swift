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
    let threadsBefore = ProcFS.threads(of: getpid()).count
    XCTAssertTrue(try CreationCost.loop(.thread, count: 5).allSatisfy { $0 > 0 })
    XCTAssertEqual(ProcFS.threads(of: getpid()).count, threadsBefore, "every thread joined")
    XCTAssertTrue(try CreationCost.loop(.fork, count: 5).allSatisfy { $0 > 0 })
    // The children were real processes with their own PIDs, each reaped.
    var ns = [Int64](repeating: 0, count: 4)
    var children = [Int32](repeating: 0, count: 4)
    XCTAssertEqual(clab_cost_loop(Int32(CLAB_COST_FORK), nil, 4, &ns, &children), 4)
    XCTAssertEqual(Set(children).count, 4)
    XCTAssertFalse(children.contains(getpid()))
    XCTAssertTrue(children.allSatisfy { !processExists($0) }, "reaped")
    XCTAssertTrue(try CreationCost.loop(.spawn("/bin/true"), count: 3).allSatisfy { $0 > 0 })
    // A program that does not exist, or one that fails, is an error, not a number.
    XCTAssertThrowsError(try CreationCost.loop(.spawn("/nonexistent/program"), count: 1))
    XCTAssertThrowsError(try CreationCost.loop(.spawn("/bin/false"), count: 1))
    XCTAssertEqual(leftovers(since: baseline), [])
  }

  func testAfterAForkTheParentsFirstWriteToEachPageFaultsEvenOnceTheChildHasGone() throws {
    let pages = 64
    let size = pages * 4096
    let memory = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 4096)
    defer { memory.deallocate() }
    func writeAll() -> Int {
      let before = CreationCost.minorFaults()
      for i in stride(from: 0, to: size, by: 4096) {
        memory.storeBytes(of: UInt8(i & 0xff), toByteOffset: i, as: UInt8.self)
      }
      return CreationCost.minorFaults() - before
    }
    _ = writeAll()
    XCTAssertLessThan(writeAll(), 4, "written once already: no faults")
    _ = try CreationCost.loop(.fork, count: 1)  // the child _exits and is reaped
    XCTAssertGreaterThanOrEqual(writeAll(), pages - 4, "copy-on-write protection outlived the child")
  }

  /// Lesson 5: spawn's CREATED IN ends when posix_spawn returns, which is once execve has
  /// succeeded (glibc's posix_spawn is clone(CLONE_VM|CLONE_VFORK) + execve).
  func testPosixSpawnReturnsOnceExecveHasSucceeded() throws {
    // execve's failure comes back from posix_spawn itself, not as a child exiting 127: it waited for execve.
    XCTAssertThrowsError(try Spawn.spawn(path: "/nonexistent/program", arguments: ["program"])) { error in
      XCTAssertEqual((error as? SystemError)?.errno, ENOENT, "\(error)")
    }
    // When it returns, the child already is the new program.
    let pid = try Spawn.spawn(path: "/bin/sleep", arguments: ["sleep", "5"])
    defer {
      kill(pid, SIGKILL)
      _ = Wait.reap(pid)
    }
    let exe = readLink("/proc/\(pid)/exe")
    XCTAssertTrue(exe.hasSuffix("/sleep"), "/proc/\(pid)/exe is \(exe)")
  }

  private func readLink(_ path: String) -> String {
    var buffer = [CChar](repeating: 0, count: 4096)
    let n = readlink(path, &buffer, buffer.count - 1)
    return n > 0 ? String(decoding: buffer.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""
  }

  func testTheForkerGrowsItsPrivateMemoryAndForkCostFollowsItButNotAnUntouchedMapping() throws {
    let tiny = try XCTUnwrap(TinyProgram())
    defer { tiny.close() }
    let forker = try SmallForker(program: tiny)
    defer { forker.close() }
    // The fastest of 9: a busy machine only ever adds time, never takes it away.
    func fastest(_ kind: SmallForker.Kind) throws -> Double {
      try forker.samples(9, of: kind).map { Double($0.nanoseconds) }.min() ?? 0
    }
    let start = forker.size
    let fork0 = try fastest(.fork)
    let spawn0 = try fastest(.spawn)
    // 64 MiB mapped but never touched: one more mapping, nothing resident, fork barely moves.
    let mapped = try forker.mapUntouched(64 << 20)
    XCTAssertEqual(mapped.mappings, start.mappings + 1)
    XCTAssertLessThan(mapped.anonymousBytes - start.anonymousBytes, 1 << 20)
    let forkUntouched = try fastest(.fork)
    try forker.unmapUntouched()
    // 64 MiB touched: /proc/PID/status of the helper itself shows it resident.
    let grown = try forker.grow(by: 64 << 20)
    XCTAssertGreaterThanOrEqual(grown.anonymousBytes - start.anonymousBytes, 63 << 20)
    let rssAnon = Int(ProcFS.status(forker.pid, field: "RssAnon")?.split(separator: " ").first ?? "") ?? 0
    XCTAssertGreaterThanOrEqual(rssAnon * 1024, 63 << 20, "the kernel agrees")
    let forkGrown = try fastest(.fork)
    let spawnGrown = try fastest(.spawn)
    // 16384 more page-table entries to copy and tear down: several times the small fork, and
    // well above the untouched mapping of the same size; posix_spawn copies none of them.
    XCTAssertGreaterThan(forkGrown, 2 * fork0, "fork \(fork0) → \(forkGrown) ns")
    XCTAssertGreaterThan(forkGrown, 2 * forkUntouched, "untouched \(forkUntouched), touched \(forkGrown) ns")
    XCTAssertLessThan(spawnGrown, 2 * spawn0 + 200_000, "spawn \(spawn0) → \(spawnGrown) ns")
    XCTAssertLessThan(spawnGrown, forkGrown)
  }

  /// cminflt in /proc/PID/stat: minor faults of the children PID has waited for.
  private func waitedChildrenFaults(_ pid: Int32) -> Int? {
    guard let text = ProcFS.read("/proc/\(pid)/stat"), let close = text.lastIndex(of: ")") else { return nil }
    let fields = text[text.index(after: close)...].split(separator: " ")
    return fields.count > 8 ? Int(fields[8]) : nil  // state ppid pgrp session tty tpgid flags minflt cminflt
  }

  func testTheSmallForkerReallyForksItsOwnChildrenAndReapsThem() throws {
    let forker = try SmallForker()
    XCTAssertTrue(forker.path.hasSuffix("/proclab-forker"))
    XCTAssertNotEqual(forker.pid, getpid())
    XCTAssertTrue(ProcFS.children(of: getpid()).contains(forker.pid), "the helper is our child")
    // It is a small C process: smaller than this test process, and it told the truth about its maps.
    let maps = (ProcFS.read("/proc/\(forker.pid)/maps") ?? "").split(separator: "\n").count
    XCTAssertGreaterThan(forker.mappings, 5)
    XCTAssertLessThanOrEqual(
      abs(maps - forker.mappings), 4, "reported \(forker.mappings), /proc says \(maps)")
    XCTAssertLessThan(forker.mappings, AddressSpace.mappingCount())
    XCTAssertGreaterThan(forker.residentBytes, 0)
    XCTAssertEqual(ProcFS.commandLine(forker.pid)?.hasPrefix("proclab-forker"), true)

    let faultsBefore = try XCTUnwrap(waitedChildrenFaults(forker.pid))
    let myChildrenBefore = Set(ProcFS.children(of: getpid()))
    let samples = try forker.samples(20)
    XCTAssertEqual(samples.count, 20)
    XCTAssertTrue(samples.allSatisfy { $0.nanoseconds > 0 })
    let children = samples.map(\.child)
    XCTAssertEqual(Set(children).count, 20, "20 distinct child processes: \(children)")
    XCTAssertFalse(children.contains(forker.pid))
    XCTAssertFalse(children.contains(getpid()))
    // They were the helper's children, not ours, and the helper reaped every one:
    // none is left under it, none ever appeared under us, and the kernel charged the
    // children's page faults (copy-on-write after fork) to the helper when it waited for them.
    XCTAssertEqual(ProcFS.children(of: forker.pid), [], "no zombie under the helper")
    XCTAssertEqual(Set(ProcFS.children(of: getpid())), myChildrenBefore)
    let faultsAfter = try XCTUnwrap(waitedChildrenFaults(forker.pid))
    XCTAssertGreaterThan(faultsAfter, faultsBefore, "the helper waited for children that ran")
    for child in children {
      XCTAssertNotEqual(ProcFS.stat(child)?.parent, getpid())
    }

    // A second batch goes on where the first stopped: the same helper, new children.
    let more = try forker.samples(3)
    XCTAssertTrue(Set(more.map(\.child)).isDisjoint(with: children))
    let pid = forker.pid
    forker.close()
    XCTAssertFalse(processExists(pid), "the helper ended at end of file and was reaped")
    XCTAssertEqual(leftovers(since: baseline), [])
  }

  func testAMissingHelperIsOneClearError() {
    XCTAssertThrowsError(try SmallForker(path: "/nonexistent/proclab-forker")) { error in
      let text = "\(error)"
      XCTAssertTrue(text.contains("/nonexistent/proclab-forker") && text.contains("missing"), text)
      XCTAssertFalse(text.contains("\n"))
    }
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
    XCTAssertGreaterThan(try CreationCost.loop(.spawn(tiny.path), count: 1)[0], 0)
    tiny.close()
    XCTAssertEqual(leftovers(since: baseline), [])
  }

  func testAProcessPartnerIsARealChildThatIsReapedOnClose() throws {
    let pin = CPUPin()
    defer { pin.release() }
    let pair = try PingPong(.process, workingSet: 64 << 10)
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
    let pair = try PingPong(.thread)
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

  private func gettidForTest() -> Int32 { gettid() }

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
