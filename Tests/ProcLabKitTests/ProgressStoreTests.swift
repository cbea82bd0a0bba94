import Foundation
import Glibc
import ProcLabKit
import XCTest

/// The progress file: merged under a lock when two shells save, swept of what
/// killed shells left, set aside under names that never collide.
final class ProgressStoreTests: XCTestCase {
  var dir = ""
  override func setUp() {
    dir = NSTemporaryDirectory() + "progress-store-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
  }
  override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }
  var path: String { dir + "/progress.json" }

  func saved() throws -> ProgressFile {
    try JSONDecoder().decode(ProgressFile.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
  }

  /// 19.10: shell A in lesson 1 and shell B in lesson 6; whichever saved last used to win.
  func testTwoShellsKeepEachOthersProgress() throws {
    let a = ProgressStore(path: path)
    let b = ProgressStore(path: path)
    var one = LessonProgress()
    one.step = 3
    one.passed = [0, 1, 2]
    a["process"] = one
    a.current = "process"
    a.save()
    var six = LessonProgress()
    six.step = 1
    six.passed = [0]
    b["races"] = six
    b.current = "races"
    b.save()
    // A goes on, after B saved.
    one.step = 4
    one.passed.append(3)
    a["process"] = one
    a.save()
    let file = try saved()
    XCTAssertEqual(file.lessons["process"]?.passed, [0, 1, 2, 3])
    XCTAssertEqual(file.lessons["races"]?.passed, [0], "B's lesson survived A's later save")
    XCTAssertEqual(file.current, "races", "A did not change the current lesson again")
    XCTAssertEqual(a["races"]?.step, 1, "A now knows B's progress too")
  }

  /// 19.11: `progress.json.tmp.PID` of a dead shell is swept at start; a live one's is not.
  func testTemporaryFilesOfDeadShellsAreSweptAtStart() throws {
    // A PID that does not exist: a child that has been reaped.
    let child = Process()
    child.executableURL = URL(fileURLWithPath: "/bin/true")
    try child.run()
    child.waitUntilExit()
    let pid = child.processIdentifier
    let dead = path + ".tmp.\(pid)"
    let alive = path + ".tmp.\(getppid())"
    for f in [dead, alive] { try "{".write(toFile: f, atomically: false, encoding: .utf8) }
    _ = ProgressStore(path: path)
    XCTAssertFalse(FileManager.default.fileExists(atPath: dead), "the dead shell's temporary file is gone")
    XCTAssertTrue(FileManager.default.fileExists(atPath: alive), "a live process's file is left alone")
  }

  /// 19.11: two set-asides within one second used to share a name, the second overwriting the first.
  func testSetAsideNamesNeverCollide() throws {
    var names: [String] = []
    for i in 0..<3 {
      try "junk \(i)".write(toFile: path, atomically: false, encoding: .utf8)
      names.append(try XCTUnwrap(StateFile.setAside(path, now: 1_700_000_000)))
    }
    XCTAssertEqual(Set(names).count, 3, "\(names)")
    for (i, name) in names.enumerated() {
      XCTAssertEqual(try String(contentsOfFile: name, encoding: .utf8), "junk \(i)")
    }
    XCTAssertFalse(FileManager.default.fileExists(atPath: path))
  }

  /// 19.14: a progress file that is a link is not read, written through or replaced.
  func testALinkedProgressFileIsLeftAloneWithAWarning() throws {
    let victim = dir + "/victim"
    try "precious".write(toFile: victim, atomically: true, encoding: .utf8)
    try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: victim)
    let store = ProgressStore(path: path)
    XCTAssertTrue(store.warning?.contains("not a regular file") ?? false, store.warning ?? "no warning")
    store["x"] = LessonProgress()
    store.save()
    XCTAssertEqual(try String(contentsOfFile: victim, encoding: .utf8), "precious")
    XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: path), victim)
  }

  /// Files from before `capturedIn` and `stale` existed still load.
  func testAnOlderFileWithoutTheNewKeysLoads() throws {
    try """
    {"version": 1, "current": "process", "lessons": {"process": {"step": 2, "passed": [0, 1], "done": false,
    "captures": {"SHELL": "41"}, "answers": {}}}}
    """.write(toFile: path, atomically: true, encoding: .utf8)
    let store = ProgressStore(path: path)
    XCTAssertNil(store.warning)
    XCTAssertEqual(store["process"]?.captures["SHELL"], "41")
  }

  /// History: lines appended under the lock, the oldest dropped past the limit.
  func testHistoryLinesAreAppendedAndCapped() throws {
    let history = dir + "/history"
    try StateFile.appendLines(["a", "b"], to: history, keepLast: 3)
    try StateFile.appendLines(["c", "d"], to: history, keepLast: 3)
    XCTAssertEqual(try String(contentsOfFile: history, encoding: .utf8), "b\nc\nd\n")
  }
}
