import Foundation
import ProcLabKit
import XCTest

/// The lesson engine inside a real session: real commands run, their output is
/// checked against the step, progress goes to a real file.
final class LessonEngineTests: XCTestCase {
  static let lesson = """
    ---
    id: tiny
    title: A tiny lesson
    order: 1
    needs: [info, explain]
    ---
    Intro.

    ## Your PID

    > **Hint:** type info
    > **Hint:** really: info

    ```proclab
    proclab> info
      process ID  {{SHELL:pid}}
    ...
    ```

    ## A definition

    > **Predict:** Does a process have its own address space?
    > - [x] yes
    > - [ ] no
    > **Why:** The kernel gives {{SHELL}} *its own*.

    ```proclab
    proclab> explain process
    A process is a running program{{def:text}}
    ```

    So {{SHELL}} has an address space of its own: {{def}}.

    ## Another definition

    <!-- run: explain thread -->
    ```proclab
    proclab> explain {{topic:word}}
    A thread is one line of execution{{:text}}
    ```

    ## Summary

    Process {{SHELL}} read about {{topic}}.
    """

  var dir = ""
  var output: [String] = []

  override func setUp() {
    dir = NSTemporaryDirectory() + "lesson-engine-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    try! FileManager.default.createDirectory(atPath: dir + "/lessons", withIntermediateDirectories: true)
    try! Self.lesson.write(toFile: dir + "/lessons/tiny.md", atomically: true, encoding: .utf8)
  }
  override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

  var progressPath: String { dir + "/state/progress.json" }

  /// A new shell: a fresh session with the engine installed, printing into `output`.
  func shell() -> Session {
    let session = Session()
    session.write = { [unowned self] text in
      self.output += text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }
    session.installLessons(directory: dir + "/lessons", progressPath: progressPath)
    return session
  }

  /// Runs a line and returns what it printed.
  @discardableResult
  func type(_ session: Session, _ line: String) -> String {
    output = []
    session.execute(line: line)
    return output.joined(separator: "\n")
  }

  func savedProgress() throws -> ProgressFile {
    try JSONDecoder().decode(ProgressFile.self, from: Data(contentsOf: URL(fileURLWithPath: progressPath)))
  }

  func testAStepPassesOnMatchingOutputAndNotOnAMismatch() throws {
    let s = shell()
    XCTAssertTrue(type(s, "lesson tiny").contains("Step 1/3 · Your PID"))
    XCTAssertEqual(s.prompt, "proclab [tiny 1/3]> ")
    // Another command: the step waits.
    XCTAssertTrue(type(s, "ps").contains("step 1/3 still waits for: info"))
    XCTAssertThrowsErrorLine(type(s, "next"), "not passed yet")
    let out = type(s, "info")
    XCTAssertTrue(out.contains("✓ step 1/3 passed"), out)
    // The captured PID is this process's real PID.
    XCTAssertTrue(out.contains("SHELL = \(getpid())"), out)
    XCTAssertEqual(s.prompt, "proclab [tiny 1/3 ok]> ")
    XCTAssertTrue(type(s, "next").contains("Step 2/3 · A definition"))
    let answered = type(s, "a")
    XCTAssertTrue(answered.contains("Your prediction: A) yes"), answered)
    let revealed = type(s, "explain process")
    XCTAssertTrue(revealed.contains("you said A — right."), revealed)
    XCTAssertTrue(revealed.contains("The kernel gives \(getpid()) its own."), revealed)
    type(s, "next")
    // The right verb with output that does not match: said plainly, no pass.
    let wrong = type(s, "explain zombie")
    XCTAssertTrue(
      wrong.contains("✗ step 3/3: that is the step's command, but its output is not what the lesson expects"),
      wrong)
    XCTAssertEqual(s.prompt, "proclab [tiny 3/3]> ")
    XCTAssertTrue(type(s, "explain thread").contains("✓ step 3/3 passed"))
    let summary = type(s, "next")
    XCTAssertTrue(summary.contains("Process \(getpid()) read about thread."), summary)
    XCTAssertTrue(summary.contains("✓ Lesson 1 done"), summary)
    XCTAssertEqual(s.prompt, "proclab> ")
    XCTAssertEqual(try savedProgress().lessons["tiny"]?.done, true)
    XCTAssertTrue(type(s, "lessons").contains("done"))
  }

  /// Round-3 learner trial: prose after a step's block comments on the result; shown before the
  /// run it gave a prediction away. It comes after the step passes, and no blank run is left.
  func testProseAfterTheBlockIsShownOnceTheStepPasses() throws {
    let s = shell()
    type(s, "lesson tiny")
    type(s, "info")
    let step = type(s, "next")
    XCTAssertFalse(step.contains("has an address space of its own"), step)
    XCTAssertFalse(step.contains("\n\n\n"), step)
    let passed = type(s, "explain process")
    // It may quote what this very step captured.
    let after = try XCTUnwrap(passed.range(of: "So \(getpid()) has an address space of its own: "), passed)
    let why = try XCTUnwrap(passed.range(of: "The kernel gives"), passed)
    XCTAssertLessThan(why.lowerBound, after.lowerBound, passed)
  }

  func testHintsComeOneAtATimeInOrder() {
    let s = shell()
    type(s, "lesson 1")
    XCTAssertTrue(type(s, "hint").contains("Hint 1 of 2: type info"))
    XCTAssertTrue(type(s, "hint").contains("Hint 2 of 2: really: info"))
    let last = type(s, "hint")
    XCTAssertTrue(last.contains("No more hints. This step's command is `info`"), last)
    XCTAssertFalse(last.contains("exactly"), "other spellings work too: \(last)")
  }

  func testSkipRunsTheCommandSoLaterStepsHaveItsValues() throws {
    let s = shell()
    type(s, "lesson tiny")
    let out = type(s, "skip")
    XCTAssertTrue(out.contains("skip: running 'info' for you"), out)
    XCTAssertTrue(out.contains("process ID"), "the command really ran: \(out)")
    XCTAssertTrue(out.contains("SHELL = \(getpid())"), out)
    XCTAssertEqual(try savedProgress().lessons["tiny"]?.captures["SHELL"], String(getpid()))
    type(s, "next; skip; next")
    // A pattern with a free placeholder: skip types the step's 'run:' command.
    XCTAssertTrue(type(s, "skip").contains("skip: running 'explain thread' for you"))
    XCTAssertTrue(type(s, "next").contains("read about thread"))
  }

  func testBackReturnsToAPassedStep() {
    let s = shell()
    type(s, "lesson tiny; info; next")
    XCTAssertEqual(s.prompt, "proclab [tiny 2/3]> ")
    XCTAssertTrue(type(s, "back").contains("Step 1/3 · Your PID"))
    XCTAssertEqual(s.prompt, "proclab [tiny 1/3 ok]> ")
    XCTAssertThrowsErrorLine(type(s, "back"), "this is the first step")
    XCTAssertTrue(type(s, "next").contains("Step 2/3"))
  }

  func testProgressSurvivesARestartOfTheShell() throws {
    do {
      let s = shell()
      type(s, "lesson tiny; info; next")
      type(s, "quit")
    }
    let file = try savedProgress()
    XCTAssertEqual(file.current, "tiny")
    XCTAssertEqual(file.lessons["tiny"]?.step, 1)
    XCTAssertEqual(file.lessons["tiny"]?.passed, [0])
    // A new shell, as after quitting proclab: 'lesson' resumes where the learner was.
    let s = shell()
    XCTAssertTrue(type(s, "lessons").contains("step 2 of 3"))
    let out = type(s, "lesson")
    XCTAssertTrue(out.contains("Resuming 'A tiny lesson' at step 2 of 3"), out)
    XCTAssertEqual(s.prompt, "proclab [tiny 2/3]> ")
    // Values captured in the earlier session are still quoted.
    XCTAssertTrue(type(s, "explain process").contains("The kernel gives \(getpid()) its own."))
    XCTAssertTrue(type(s, "leave").contains("progress is saved"))
    XCTAssertEqual(s.prompt, "proclab> ")
    XCTAssertTrue(type(s, "restart tiny").contains("Step 1/3"))
    XCTAssertEqual(try savedProgress().lessons["tiny"]?.passed, [])
  }

  func testACorruptProgressFileIsSetAsideWithAWarning() throws {
    try FileManager.default.createDirectory(atPath: dir + "/state", withIntermediateDirectories: true)
    try "{ not json".write(toFile: progressPath, atomically: true, encoding: .utf8)
    let s = shell()
    let out = type(s, "lessons")
    XCTAssertTrue(
      out.contains("warning: lesson progress in \(progressPath) was unreadable; set aside as"), out)
    let names = try FileManager.default.contentsOfDirectory(atPath: dir + "/state")
    let aside = try XCTUnwrap(names.first { $0.hasPrefix("progress.json.corrupt-") })
    XCTAssertEqual(
      try String(contentsOfFile: dir + "/state/" + aside, encoding: .utf8), "{ not json", "kept, not lost")
    XCTAssertFalse(type(s, "lessons").contains("warning"), "the warning is shown once")
    type(s, "lesson tiny; info")
    XCTAssertEqual(try savedProgress().lessons["tiny"]?.passed, [0], "a fresh file is written")
  }

  func testTheCheckerPlaysEveryStepAndNamesWhatFails() throws {
    let file = dir + "/lessons/tiny.md"
    XCTAssertEqual(LessonChecker.check(file: file).map(\.description), [])
    // A verb the front matter does not list.
    try Self.lesson.replacingOccurrences(of: "needs: [info, explain]", with: "needs: [info]")
      .write(toFile: file, atomically: true, encoding: .utf8)
    XCTAssertEqual(
      LessonChecker.check(file: file).map(\.description),
      [file + ":28:10: step 2 types 'explain', which the front matter's 'needs:' does not list"])
    // Output that does not match, with where and what.
    try Self.lesson.replacingOccurrences(of: "A thread is one line", with: "A thread is two lines")
      .write(toFile: file, atomically: true, encoding: .utf8)
    let failures = LessonChecker.check(file: file, attempts: 1)
    XCTAssertEqual(failures.count, 1)
    XCTAssertEqual(failures.first?.line, 39)
    XCTAssertTrue(failures.first?.message.contains("step 3 'Another definition'") ?? false, "\(failures)")
  }

  func testLessonNamesCompleteAfterLesson() {
    let s = shell()
    XCTAssertEqual(Completer.complete(before: "lesson ", word: "ti", session: s), .words(["tiny"]))
  }

  /// A lesson whose second step types a PID the first one captured.
  static let zombie = """
    ---
    id: zombie
    title: A zombie
    order: 2
    needs: [spawn, wait]
    ---
    ## Make one

    ```proclab
    proclab> spawn --no-reap
    ...
      {{Z:pid}}  {{SHELL:pid}}  {{:text}}
    ```

    ## Reap it

    ```proclab
    proclab> wait {{Z}}
    reaped 1 child with wait4:
    ...
      {{Z}}  Z zombie  {{zwait:duration}}  {{:text}}
    ```

    ## Summary

    - Child {{Z}} of {{SHELL}} waited {{zwait}} to be reaped.
    - The end.
    """

  func writeProgress(_ json: String) throws {
    try FileManager.default.createDirectory(atPath: dir + "/state", withIntermediateDirectories: true)
    try json.write(toFile: progressPath, atomically: true, encoding: .utf8)
  }

  /// 17.3: a PID captured by an earlier shell is stale on resume; the step that types it asks
  /// for the step that captures it, and the re-run takes fresh values.
  func testResumingMarksAnEarlierShellsProcessesStaleAndAsksToRedoTheirStep() throws {
    try Self.zombie.write(toFile: dir + "/lessons/zombie.md", atomically: true, encoding: .utf8)
    try writeProgress(
      """
      {"version": 1, "current": "zombie", "lessons": {"zombie": {"step": 1, "passed": [0], "done": false,
      "captures": {"Z": "999999", "SHELL": "999998"}, "answers": {}, "capturedIn": {"Z": "gone", "SHELL": "gone"}}}}
      """)
    let s = shell()
    let resumed = type(s, "lesson zombie")
    XCTAssertTrue(resumed.contains("SHELL (999998) and Z (999999) came from an earlier shell"), resumed)
    XCTAssertTrue(
      resumed.contains(
        "this step needs Z (999999) from step 1 'Make one', but it was captured in an earlier shell"),
      resumed)
    XCTAssertTrue(resumed.contains("type `back 1`"), resumed)
    XCTAssertFalse(resumed.contains("▶ run: wait 999999"), "a stale PID is never offered: \(resumed)")
    XCTAssertTrue(
      type(s, "skip").contains("skip: this step needs Z"), "skip does not type a stale PID either")
    XCTAssertTrue(type(s, "wait 999999").contains("✗ step 2/2"))
    type(s, "back 1")
    let again = type(s, "spawn --no-reap")
    XCTAssertTrue(again.contains("✓ step 1/2 passed"), again)
    let fresh = try XCTUnwrap(try savedProgress().lessons["zombie"]?.captures["Z"])
    XCTAssertNotEqual(fresh, "999999")
    XCTAssertEqual(try savedProgress().lessons["zombie"]?.captures["SHELL"], String(getpid()))
    XCTAssertTrue(type(s, "next").contains("▶ run: wait \(fresh)"))
    XCTAssertTrue(type(s, "wait \(fresh)").contains("✓ step 2/2 passed"))
    let summary = type(s, "next")
    XCTAssertTrue(summary.contains("- Child \(fresh) of \(getpid()) waited"), summary)
    XCTAssertFalse(summary.contains("left out"), summary)
  }

  /// 17.3: a summary leaves out a point whose values are stale, rather than quote a dead PID.
  func testASummaryNeverQuotesAStaleValue() throws {
    try Self.zombie.write(toFile: dir + "/lessons/zombie.md", atomically: true, encoding: .utf8)
    try writeProgress(
      """
      {"version": 1, "current": "zombie", "lessons": {"zombie": {"step": 1, "passed": [0, 1], "done": false,
      "captures": {"Z": "999999", "SHELL": "999998", "zwait": "1 ms"}, "answers": {},
      "capturedIn": {"Z": "gone", "SHELL": "gone"}}}}
      """)
    let s = shell()
    type(s, "lesson zombie")
    let summary = type(s, "next")
    XCTAssertTrue(summary.contains("Summary · A zombie"), summary)
    XCTAssertFalse(summary.contains("999999"), summary)
    XCTAssertTrue(summary.contains("- The end."), summary)
    XCTAssertTrue(summary.contains("Some points are left out"), summary)
    XCTAssertTrue(summary.contains("Run step 1 again"), summary)
  }

  /// 17.3: running a step again with other values un-passes the steps that used the old ones.
  func testARerunThatChangesAValueUnpassesTheStepsThatUsedIt() throws {
    try Self.zombie.write(toFile: dir + "/lessons/zombie.md", atomically: true, encoding: .utf8)
    let s = shell()
    type(s, "lesson zombie; spawn --no-reap; next")
    let z = try XCTUnwrap(try savedProgress().lessons["zombie"]?.captures["Z"])
    XCTAssertTrue(type(s, "wait \(z)").contains("✓ step 2/2 passed"))
    type(s, "back")
    let rerun = type(s, "spawn --no-reap")
    XCTAssertTrue(rerun.contains("this run changed values that step 2 used"), rerun)
    let saved = try XCTUnwrap(try savedProgress().lessons["zombie"])
    XCTAssertEqual(saved.passed, [0])
    XCTAssertEqual(saved.stale, ["zwait"])
    XCTAssertTrue(type(s, "next").contains("▶ run: wait \(saved.captures["Z"]!)"))
    type(s, "wait \(saved.captures["Z"]!)")
  }

  /// A failure shows the expected line in the learner's terms (values filled in, `…` for the
  /// rest), never the file's placeholders, line numbers or captures; a passed step run again
  /// with other output is not a failure.
  func testAMismatchSpeaksTheLearnersLanguageAndAPassedStepStaysPassed() throws {
    let s = shell()
    type(s, "lesson tiny; info; next; explain process; next")
    let wrong = type(s, "explain zombie")
    XCTAssertTrue(wrong.contains("✗ step 3/3"), wrong)
    XCTAssertTrue(wrong.contains("    A thread is one line of execution…"), wrong)
    XCTAssertTrue(wrong.contains("  Your output has there:\n    A zombie"), wrong)
    for inside in ["{{", "(line ", "captured so far", "expected output:"] {
      XCTAssertFalse(wrong.contains(inside), "'\(inside)' shown to the learner: \(wrong)")
    }
    XCTAssertTrue(type(s, "explain thread").contains("✓ step 3/3 passed"))
    let again = type(s, "explain zombie")
    XCTAssertFalse(again.contains("✗"), again)
    XCTAssertTrue(again.contains("step 3/3 passed already"), again)
    XCTAssertTrue(again.contains("type 'next' for the summary"), again)
    XCTAssertFalse(again.contains("Run it again"), again)
    XCTAssertEqual(s.prompt, "proclab [tiny 3/3 ok]> ")
  }

  /// A lesson whose two steps both measure the same thing: a value that varies by nature.
  static let measure = """
    ---
    id: measure
    title: Measured twice
    order: 3
    needs: [spawn]
    ---
    ## First

    ```proclab
    proclab> spawn
    posix_spawn created 1 process in {{t:duration}}: {{:text}}
    ...
    ```

    ## Again

    ```proclab
    proclab> spawn
    posix_spawn created 1 process in {{t:duration}}: {{:text}}
    ...
    ```

    ## Summary

    - One process took {{t}}.
    """

  /// learner 1: measuring again replaces a measurement; only a new identity (a PID) un-passes
  /// the steps that used the old one, and the summary keeps every point.
  func testAMeasurementTakenAgainUnpassesNothing() throws {
    try Self.measure.write(toFile: dir + "/lessons/measure.md", atomically: true, encoding: .utf8)
    let s = shell()
    type(s, "lesson measure; spawn; next")
    let first = try XCTUnwrap(try savedProgress().lessons["measure"]?.captures["t"])
    var second = first
    var out = ""
    // Durations differ from run to run; a few tries make sure this one did.
    for _ in 0..<5 where second == first {
      out = type(s, "spawn")
      second = try XCTUnwrap(try savedProgress().lessons["measure"]?.captures["t"])
    }
    XCTAssertNotEqual(first, second, "five spawns took exactly the same time")
    XCTAssertTrue(out.contains("✓ step 2/2 passed"), out)
    XCTAssertFalse(out.contains("changed values"), out)
    XCTAssertEqual(try savedProgress().lessons["measure"]?.passed, [0, 1])
    XCTAssertEqual(try savedProgress().lessons["measure"]?.stale, [])
    let summary = type(s, "next")
    XCTAssertTrue(summary.contains("- One process took \(second)."), summary)
    XCTAssertFalse(summary.contains("left out"), summary)
  }

  /// The last lesson of the list ends the course only when every lesson is done.
  func testTheLastLessonNamesTheLessonsNotDone() throws {
    try Self.zombie.write(toFile: dir + "/lessons/zombie.md", atomically: true, encoding: .utf8)
    let s = shell()
    type(s, "lesson zombie; spawn --no-reap; next")
    let z = try XCTUnwrap(try savedProgress().lessons["zombie"]?.captures["Z"])
    type(s, "wait \(z)")
    let end = type(s, "next")
    XCTAssertFalse(end.contains("last lesson of the course"), end)
    XCTAssertTrue(end.contains("lesson 1 is not done yet: `lesson 1` starts it."), end)
    type(s, "lesson tiny; info; next; a; explain process; next; explain thread; next")
    type(s, "lesson zombie; spawn --no-reap; next")
    let z2 = try XCTUnwrap(try savedProgress().lessons["zombie"]?.captures["Z"])
    type(s, "wait \(z2)")
    XCTAssertTrue(type(s, "next").contains("That was the last lesson of the course."))
  }

  func XCTAssertThrowsErrorLine(
    _ out: String, _ words: String, file: StaticString = #filePath, line: UInt = #line
  ) {
    XCTAssertTrue(out.contains(words), out, file: file, line: line)
  }
}
