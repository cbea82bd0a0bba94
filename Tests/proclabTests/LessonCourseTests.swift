import Foundation
import Glibc
import ProcLabKit
import TestSupport
import XCTest

/// The shipped course, through the real binary: every lesson passes `check`,
/// `proclab lesson` plays and resumes, and a person at a terminal can take lesson 1.
final class LessonCourseTests: XCTestCase {
  /// The repository's `lessons/` folder.
  static var lessonsDirectory: String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().appendingPathComponent("lessons").path
  }

  var state = ""
  override func setUp() {
    state = NSTemporaryDirectory() + "proclab-lessons-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
  }
  override func tearDown() { try? FileManager.default.removeItem(atPath: state) }

  func testEveryShippedLessonPassesCheck() throws {
    let files = LessonLibrary.files(in: Self.lessonsDirectory)
    XCTAssertGreaterThanOrEqual(files.count, 11, "the course has at least the 11 lessons of the issue")
    // Each lesson loads, has 5–10 steps and a summary that quotes the learner's numbers.
    let course = LessonLibrary.load(directory: Self.lessonsDirectory)
    XCTAssertEqual(course.errors.map(\.description), [])
    // In order, each number once (areas number their lessons ahead of others landing: 13–15 before 12).
    let orders = course.lessons.map(\.order)
    XCTAssertEqual(orders, orders.sorted())
    XCTAssertEqual(Set(orders).count, orders.count)
    for lesson in course.lessons {
      XCTAssertTrue((5...10).contains(lesson.steps.count), "\(lesson.id) has \(lesson.steps.count) steps")
      XCTAssertTrue(
        lesson.closing.contains { $0.contains("{{") }, "\(lesson.id)'s summary quotes the learner's numbers")
    }
    // Strict: after every command of every lesson, no zombie, stray child, leaked descriptor or thread.
    let run = ProcLabBinary.run(
      ["check", Self.lessonsDirectory], environment: ["XDG_STATE_HOME": state], timeout: 300)
    XCTAssertEqual(run.status, 0, run.stdout + run.stderr)
    // check leaves the folder's README.md out: it is not a lesson, and never counts as passed.
    let all = try FileManager.default.contentsOfDirectory(atPath: Self.lessonsDirectory).filter {
      $0.hasSuffix(".md") && $0.lowercased() != "readme.md"
    }
    XCTAssertTrue(run.stdout.contains("\(all.count) files: \(all.count) passed"), run.stdout)
    XCTAssertFalse(run.stdout.contains("FAIL"), run.stdout)
  }

  /// Both READMEs say how many lessons there are: the number of lesson files.
  func testTheReadmesCountEveryLesson() throws {
    let n = LessonLibrary.load(directory: Self.lessonsDirectory).lessons.count
    let words = [
      "Zero", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten", "Eleven",
      "Twelve",
      "Thirteen", "Fourteen", "Fifteen", "Sixteen", "Seventeen", "Eighteen", "Nineteen", "Twenty",
    ]
    let course = try String(contentsOfFile: Self.lessonsDirectory + "/README.md", encoding: .utf8)
    XCTAssertTrue(course.contains("\(words[min(n, 20)]) lessons, each"), "lessons/README.md: \(n) lessons")
    let readme = try String(contentsOfFile: Self.lessonsDirectory + "/../README.md", encoding: .utf8)
    XCTAssertTrue(readme.contains("the course: \(n) lessons"), "README.md: \(n) lessons")
  }

  func testCheckFailsALessonWhoseOutputNoLongerMatches() throws {
    try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
    let text = try String(contentsOfFile: Self.lessonsDirectory + "/01-process.md", encoding: .utf8)
      .replacingOccurrences(
        of: "  CPU cores   {{cores:int}} online", with: "  CPU cores   {{cores:int}} offline")
    try text.write(toFile: state + "/changed.md", atomically: true, encoding: .utf8)
    let run = ProcLabBinary.run(["check", state + "/changed.md"], environment: ["XDG_STATE_HOME": state])
    XCTAssertEqual(run.status, 1, run.stdout)
    XCTAssertTrue(run.stdout.contains("changed.md:37:1: step 1 'This shell is a process'"), run.stdout)
    XCTAssertTrue(run.stdout.contains("online"), "the report shows the real output: \(run.stdout)")
  }

  func testLessonSubcommandPlaysFromAPipeAndResumesAfterQuitting() throws {
    let first = ProcLabBinary.run(
      ["lesson", "process"], input: "info\nnext\nexplain process\nquit\n",
      environment: ["XDG_STATE_HOME": state])
    XCTAssertEqual(first.status, 0, first.stdout + first.stderr)
    XCTAssertTrue(first.stdout.contains("Lesson 1: What a process is"), first.stdout)
    XCTAssertTrue(first.stdout.contains("✓ step 1/7 passed"), first.stdout)
    XCTAssertTrue(first.stdout.contains("✓ step 2/7 passed"), first.stdout)
    // The PID the lesson captured is the real PID the shell reported from /proc.
    let pid = try XCTUnwrap(
      first.lines.first { $0.hasPrefix("  process ID") }?.split(separator: " ").last.map(String.init))
    XCTAssertTrue(first.stdout.contains("your numbers: SHELL = \(pid)"), first.stdout)
    let saved = try JSONDecoder().decode(
      ProgressFile.self, from: Data(contentsOf: URL(fileURLWithPath: state + "/proclab/progress.json")))
    XCTAssertEqual(saved.lessons["process"]?.passed, [0, 1])

    let second = ProcLabBinary.run(["-c", "lessons; lesson"], environment: ["XDG_STATE_HOME": state])
    XCTAssertEqual(second.status, 0, second.stdout + second.stderr)
    XCTAssertTrue(second.stdout.contains("step 2 of 7"), second.stdout)
    XCTAssertTrue(second.stdout.contains("Resuming 'What a process is' at step 2 of 7."), second.stdout)
  }

  func testAPersonTakesTheFirstStepsOfLessonOneAtATerminal() throws {
    let shell = try TerminalSession(arguments: ["lesson", "1"], environment: ["XDG_STATE_HOME": state])
    XCTAssertTrue(shell.waitFor("proclab [process 1/7]> "), shell.screen)
    var mark = shell.mark
    shell.type("hint\r")
    XCTAssertTrue(shell.waitFor("Hint 1 of 1: Type `info`", after: mark), shell.screen)
    mark = shell.mark
    shell.type("info\r")
    XCTAssertTrue(shell.waitFor("✓ step 1/7 passed", after: mark), shell.screen)
    XCTAssertTrue(shell.waitFor("proclab [process 1/7 ok]> ", after: mark), shell.screen)
    mark = shell.mark
    shell.type("next\r")
    XCTAssertTrue(shell.waitFor("Step 2/7 · What the kernel means by \"process\"", after: mark), shell.screen)
    mark = shell.mark
    // Tab completes the topic, as anywhere in the shell.
    shell.type("explain proc\t\r")
    XCTAssertTrue(shell.waitFor("✓ step 2/7 passed", after: mark), shell.screen)
    mark = shell.mark
    shell.type("next\r")
    XCTAssertTrue(shell.waitFor("Predict: Whose children", after: mark), shell.screen)
    mark = shell.mark
    shell.type("b\r")
    XCTAssertTrue(shell.waitFor("Your prediction: B)", after: mark), shell.screen)
    mark = shell.mark
    shell.type("spawn 2 --hold 60\r")
    XCTAssertTrue(shell.waitFor("you said B — right.", after: mark), shell.screen)
    XCTAssertTrue(shell.waitFor("proclab [process 3/7 ok]> ", after: mark), shell.screen)
    mark = shell.mark
    shell.type("leave\r")
    XCTAssertTrue(shell.waitFor("progress is saved", after: mark), shell.screen)
    mark = shell.mark
    shell.type("lesson iso\t")
    XCTAssertTrue(
      shell.waitFor("lesson isolation", after: mark), "Tab completes lesson names: \(shell.screen)")
    shell.type("\u{15}quit\r")
    XCTAssertEqual(shell.waitForExit(), .exited(0))
  }

  /// Runs a proclab binary from `directory` (not the repository), with no help from the environment.
  func runInstalled(
    _ binary: String, _ arguments: [String], in directory: String, environment: [String: String] = [:]
  )
    throws -> String
  {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: binary)
    process.arguments = arguments
    process.currentDirectoryURL = URL(fileURLWithPath: directory)
    var env = ProcessInfo.processInfo.environment
    env["NO_COLOR"] = "1"
    env["XDG_STATE_HOME"] = state
    env["PROCLAB_LESSONS"] = nil
    for (k, v) in environment { env[k] = v }
    process.environment = env
    let out = Pipe()
    process.standardOutput = out
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: data, as: UTF8.self)
  }

  func testAnInstalledBinaryFindsTheCourseInShareAndPROCLAB_LESSONSWins() throws {
    let prefix = state + "/prefix"
    let fm = FileManager.default
    try fm.createDirectory(atPath: prefix + "/bin", withIntermediateDirectories: true)
    try fm.createDirectory(atPath: prefix + "/share/proclab", withIntermediateDirectories: true)
    try fm.copyItem(atPath: ProcLabBinary.path, toPath: prefix + "/bin/proclab")
    try fm.copyItem(atPath: Self.lessonsDirectory, toPath: prefix + "/share/proclab/lessons")
    let listed = try runInstalled(prefix + "/bin/proclab", ["-c", "lessons"], in: state)
    XCTAssertTrue(listed.contains("11  cpu-io"), listed)
    // Every lesson of the course (other areas add theirs), not a fixed number.
    let lessons = try fm.contentsOfDirectory(atPath: Self.lessonsDirectory).filter {
      $0.hasSuffix(".md") && $0 != "README.md"
    }
    XCTAssertTrue(listed.contains("course: 0 of \(lessons.count) done"), listed)

    // $PROCLAB_LESSONS names another course, and wins over the installed one.
    let other = state + "/other"
    try fm.createDirectory(atPath: other, withIntermediateDirectories: true)
    try fm.copyItem(atPath: Self.lessonsDirectory + "/03-isolation.md", toPath: other + "/isolation.md")
    let chosen = try runInstalled(
      prefix + "/bin/proclab", ["-c", "lessons"], in: state, environment: ["PROCLAB_LESSONS": other])
    XCTAssertTrue(chosen.contains("1  isolation"), chosen)
    XCTAssertTrue(chosen.contains("course: 0 of 1 done"), chosen)
    // And with no course anywhere, the learner is told where one can come from.
    try fm.removeItem(atPath: prefix + "/share/proclab/lessons")
    let none = try runInstalled(prefix + "/bin/proclab", ["-c", "lessons"], in: state)
    XCTAssertTrue(none.contains("No lessons found"), none)
  }
}
