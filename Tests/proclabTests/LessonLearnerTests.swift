import Foundation
import Glibc
import ProcLabKit
import TestSupport
import XCTest

/// Every shipped lesson taken by a simulated learner at an 80-column terminal:
/// a wrong command and wrong arguments first, then each step typed either in
/// another spelling that means the same (options reordered, a signal's other
/// name, another value where the step allows any) or exactly; halfway through
/// the learner quits, starts a new shell, resumes and goes back one step. At
/// the end the summary appears, and no line the shell printed was wider than
/// the terminal.
final class LessonLearnerTests: XCTestCase {
  static let columns = 80
  var state = ""

  override func setUp() {
    state = NSTemporaryDirectory() + "proclab-learner-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
  }
  override func tearDown() { try? FileManager.default.removeItem(atPath: state) }

  func testEveryLessonTakenByALearnerWhoTypesDifferentlyLeavesAndComesBack() throws {
    let course = LessonLibrary.load(directory: LessonCourseTests.lessonsDirectory)
    XCTAssertEqual(course.errors.map(\.description), [])
    let only = ProcessInfo.processInfo.environment["PROCLAB_LEARNER_LESSON"]
    for lesson in course.lessons where only == nil || only == lesson.id {
      let learner = Learner(lesson: lesson, state: state, test: self)
      try learner.take()
    }
  }
}

extension LessonLearnerTests {
  /// 17.2: a shell started by a parent whose name has a space (`tmux: server`) passes lesson 1's
  /// first step, and the values it captures hold the whole name.
  func testAParentNameWithASpaceIsCapturedWhole() throws {
    let fm = FileManager.default
    try fm.createDirectory(atPath: state, withIntermediateDirectories: true)
    let parent = state + "/tmux: server"
    try fm.copyItem(atPath: URL(fileURLWithPath: "/bin/sh").resolvingSymlinksInPath().path, toPath: parent)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: parent)
    // `; true` keeps the shell from exec'ing proclab: it stays the parent, with its name.
    process.arguments = ["-c", "'\(ProcLabBinary.path)' -c 'lesson process; info'; true"]
    var env = ProcessInfo.processInfo.environment
    env["XDG_STATE_HOME"] = state
    env["NO_COLOR"] = "1"
    env["PROCLAB_LESSONS"] = LessonCourseTests.lessonsDirectory
    env.removeValue(forKey: "COLUMNS")
    process.environment = env
    let out = Pipe()
    process.standardOutput = out
    try process.run()
    let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    XCTAssertTrue(text.contains("(tmux: server)"), text)
    XCTAssertTrue(text.contains("✓ step 1/7 passed"), text)
    XCTAssertTrue(text.contains("pname = tmux: server,"), text)
  }
}

extension LessonLearnerTests {
  /// 17.2: children an earlier lesson left held do not break lesson 2's `ps` and `wait` steps.
  func testChildrenFromAnEarlierLessonDoNotBreakTheZombieSteps() throws {
    let start = Date()
    let run = ProcLabBinary.run(
      [
        "-c", "spawn 2 --hold 60; lesson lifecycle; spawn --no-reap; next; ps; next; hint; skip",
        "--lessons", LessonCourseTests.lessonsDirectory,
      ], environment: ["XDG_STATE_HOME": state], timeout: 60)
    XCTAssertEqual(run.status, 0, run.stdout + run.stderr)
    for n in 1...3 { XCTAssertTrue(run.stdout.contains("✓ step \(n)/8 passed"), run.stdout) }
    XCTAssertTrue(run.stdout.contains("├─"), "the other children were listed too: \(run.stdout)")
    // The zombie's CPU time is captured with its unit (not `4.25` of `4.25 ms`).
    XCTAssertNotNil(
      run.stdout.range(of: #"zcpu = [0-9.]+ (ns|µs|ms|s)(,|$|\n)"#, options: .regularExpression), run.stdout)
    XCTAssertLessThan(Date().timeIntervalSince(start), 30, "wait PID did not wait for the sleepers")
  }
}

extension LessonLearnerTests {
  /// learner 1, 3: lesson 1 in one sitting, every command typed as shown. `ps` measures the
  /// children's RSS again: that replaces step 3's figure without un-passing it, and the summary
  /// keeps every point, sizes whole with their units.
  func testLessonOneInOneSittingKeepsEveryPointOfItsSummary() throws {
    let run = ProcLabBinary.run(
      [
        "-c",
        "lesson process; info; next; explain process; next; b; spawn 2 --hold 60; next; ps; next; spawn 3; next;"
          + " set trace on; next; spawn --fork; next",
        "--lessons", LessonCourseTests.lessonsDirectory,
      ], environment: ["XDG_STATE_HOME": state, "NO_COLOR": "1"], timeout: 60)
    XCTAssertEqual(run.status, 0, run.stdout + run.stderr)
    for n in 1...7 { XCTAssertTrue(run.stdout.contains("✓ step \(n)/7 passed"), run.stdout) }
    XCTAssertFalse(run.stdout.contains("changed values"), run.stdout)
    XCTAssertFalse(run.stdout.contains("left out"), run.stdout)
    XCTAssertTrue(run.stdout.contains("- You created processes"), run.stdout)
    let resident = try XCTUnwrap(run.stdout.range(of: "had about "))
    let size = run.stdout[resident.upperBound...].prefix { $0 != "\n" }
    XCTAssertTrue(
      size.range(
        of: #"^[0-9.]+ (B|KiB|MiB|GiB) resident, [0-9.]+ (B|KiB|MiB|GiB) of it"#, options: .regularExpression)
        != nil, String(size))
    // Markdown emphasis is rendered, not shown raw.
    XCTAssertTrue(run.stdout.contains("the process that asked for the new one"), run.stdout)
  }
}

extension LessonLearnerTests {
  /// A prediction step skipped before any answer says it was skipped, not that the learner ran it.
  func testASkippedPredictionStepSaysItWasSkipped() throws {
    let run = ProcLabBinary.run(
      [
        "-c", "lesson process; skip; next; skip; next; skip", "--lessons", LessonCourseTests.lessonsDirectory,
      ],
      environment: ["XDG_STATE_HOME": state, "NO_COLOR": "1"], timeout: 60)
    XCTAssertEqual(run.status, 0, run.stdout + run.stderr)
    XCTAssertTrue(run.stdout.contains("✓ step 3/7 passed (skipped: proclab ran it for you)."), run.stdout)
    XCTAssertTrue(run.stdout.contains("Prediction: skipped before a prediction; the answer is"), run.stdout)
    XCTAssertFalse(run.stdout.contains("you ran it before predicting"), run.stdout)
  }
}

extension LessonLearnerTests {
  /// `skip` on a step that passed goes on, as `next` does, instead of running the step's command
  /// again (which made a second zombie here and replaced the step's values).
  func testSkipOnAPassedStepGoesToTheNextStep() throws {
    let run = ProcLabBinary.run(
      ["-c", "lesson lifecycle; skip; skip; progress", "--lessons", LessonCourseTests.lessonsDirectory],
      environment: ["XDG_STATE_HOME": state, "NO_COLOR": "1"], timeout: 60)
    XCTAssertEqual(run.status, 0, run.stdout + run.stderr)
    XCTAssertEqual(
      run.stdout.components(separatedBy: "skip: running 'spawn --no-reap' for you").count, 2, run.stdout)
    XCTAssertTrue(run.stdout.contains("skip: step 1 passed already; on to step 2"), run.stdout)
    XCTAssertTrue(run.stdout.contains("Step 2/8 · See the zombie"), run.stdout)
  }
}

/// One learner taking one lesson through a pseudo-terminal.
final class Learner {
  let lesson: Lesson
  let state: String
  let test: XCTestCase
  var shell: TerminalSession!
  /// Everything every shell printed (for the width check and failure messages).
  var transcript = ""
  /// What the last command printed.
  var lastOutput = ""

  init(lesson: Lesson, state: String, test: XCTestCase) {
    self.lesson = lesson
    self.state = state
    self.test = test
  }

  var id: String { lesson.id }
  var count: Int { lesson.steps.count }

  func fail(_ message: String, file: StaticString = #filePath, line: UInt = #line) {
    XCTFail("\(id): \(message)\n--- screen ---\n\(shell.screen.suffix(3000))", file: file, line: line)
  }

  /// Starts a shell in the lesson (resuming it when progress exists).
  func open() throws {
    shell = try TerminalSession(
      arguments: ["lesson", id], environment: ["XDG_STATE_HOME": state], columns: LessonLearnerTests.columns)
    guard let start = waitForPrompt(from: shell.screen.startIndex) else { return fail("no prompt at start") }
    checkWidth(start, after: "lesson \(id)")
    lastOutput = start.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\n", with: " ")
  }

  /// Waits for the next prompt after `mark`; returns the text printed before it.
  func waitForPrompt(from mark: String.Index, timeout: Double = 90) -> String? {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
      let text = String(shell.screen[mark...])
      let trimmed = text.replacingOccurrences(of: "\r", with: "")
      if trimmed.hasSuffix("]> ") || trimmed.hasSuffix("proclab> ") { return text }
      shell.pump(0.05)
    }
    return nil
  }

  /// Types a line and returns what the shell printed in answer (up to the next prompt).
  @discardableResult
  func type(_ line: String, file: StaticString = #filePath, lineNumber: UInt = #line) -> String {
    let mark = shell.mark
    shell.type(line + "\r")
    guard let out = waitForPrompt(from: mark) else {
      fail("no prompt after '\(line)'", file: file, line: lineNumber)
      return ""
    }
    checkWidth(out, after: line)
    checkNoInternals(out, after: line)
    lastOutput = out.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\n", with: " ")
    return out
  }

  /// No line wider than the terminal (escapes and the carriage returns of the terminal removed).
  func checkWidth(_ text: String, after line: String) {
    for raw in text.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n") {
      let visible = Style.stripped(
        String(raw.split(separator: "\r", omittingEmptySubsequences: false).last ?? ""))
      if visible.count > LessonLearnerTests.columns {
        fail("after '\(line)', a line of \(visible.count) columns: \(visible)")
      }
    }
  }

  /// The lesson file's inner workings never reach the learner: no placeholders, no dump of the
  /// captured values; and a step is never "not what the lesson expects" once it has passed.
  func checkNoInternals(_ text: String, after line: String) {
    for inside in ["{{", "captured so far:", "expected output:"] where text.contains(inside) {
      fail("after '\(line)', the learner saw '\(inside)'")
    }
    if text.contains("passed already (this run") && text.contains("✗ step") {
      fail("after '\(line)', a passed step was called a failure")
    }
  }

  /// The step the prompt shows (0-based), and whether it passed.
  var position: (step: Int, passed: Bool)? {
    let screen = shell.screen
    guard let r = screen.range(of: "proclab [\(id) ", options: .backwards) else { return nil }
    let rest = screen[r.upperBound...]
    guard let slash = rest.firstIndex(of: "/"), let k = Int(rest[..<slash]) else { return nil }
    return (k - 1, rest.prefix(while: { $0 != "]" }).hasSuffix(" ok"))
  }

  /// The values the lesson may use now: captured, and not marked stale.
  func freshCaptures() -> Captures {
    var captures = Captures()
    guard let data = FileManager.default.contents(atPath: state + "/proclab/progress.json"),
      let file = try? JSONDecoder().decode(ProgressFile.self, from: data), let p = file.lessons[id]
    else { return captures }
    for (name, value) in p.captures where !p.stale.contains(name) { captures[name] = value }
    return captures
  }

  // MARK: what the learner types

  /// The same command in another spelling, when the step's command has one.
  func otherSpelling(of command: String, step: LessonStep) -> String? {
    let words = command.split(separator: " ").map(String.init)
    guard let verb = words.first, let declared = Catalog.registry.command(named: verb) else { return nil }
    if verb == "kill" && words.count == 3 {
      let other = ["STOP": "SIGSTOP", "KILL": "9", "TERM": "SIGTERM"][words[2]]
      return other.map { "kill \(words[1]) \($0)" }
    }
    if verb == "kill" && words.count == 2 { return command + " SIGTERM" }
    // A step that takes any value of an option: another value in its range.
    if let range = step.freedom.first?.range(of: " from "),
      let lower = Int(step.freedom[0][range.upperBound...].prefix { $0.isNumber }),
      let at = words.firstIndex(where: { Int($0) != nil })
    {
      var changed = words
      changed[at] = String(lower * 2)
      return changed.joined(separator: " ")
    }
    // Options moved before the positionals, in reverse order.
    var options: [[String]] = []
    var positionals: [String] = []
    var i = 1
    while i < words.count {
      if words[i].hasPrefix("--") {
        let takesValue = declared.options.first { $0.names.contains(words[i]) }?.takesValue ?? false
        options.append(takesValue && i + 1 < words.count ? [words[i], words[i + 1]] : [words[i]])
        i += takesValue ? 2 : 1
      } else {
        positionals.append(words[i])
        i += 1
      }
    }
    let reordered = ([verb] + options.reversed().flatMap { $0 } + positionals).joined(separator: " ")
    return reordered == command ? nil : reordered
  }

  /// A command the step does not ask for: another verb.
  func otherVerb(than step: LessonStep) -> String {
    step.commandText.hasPrefix("info") ? "ps" : "info"
  }

  // MARK: the lesson

  func take() throws {
    try open()
    guard shell.screen.contains("Step 1/\(count) ·") else { return fail("the first step was not shown") }
    // (c) a wrong command, then the right verb with an option it does not have.
    let first = lesson.steps[0]
    let wrong = type(otherVerb(than: first))
    if !wrong.contains("step 1/\(count) still waits for:") { fail("a wrong verb was not answered") }
    let verb = String(first.commandText.prefix { $0 != " " })
    let wrongArguments = type(verb + " --no-such-option")
    if !wrongArguments.contains("✗ step 1/\(count): this step asks for") {
      fail("wrong arguments were not answered")
    }
    let half = count / 2
    var resumed = false
    var redo = false
    var attempts = 0
    while attempts < 6 * count {
      attempts += 1
      guard let (k, passed) = position else { return fail("no position in the prompt") }
      if passed && !redo {
        if k == half && !resumed {
          try leaveAndComeBack()
          resumed = true
          redo = true
          continue
        }
        let out = type("next")
        if k + 1 == count {
          if ProcessInfo.processInfo.environment["PROCLAB_LEARNER_SHOW"] != nil {
            print(transcript + shell.screen)
          }
          if !out.contains("Summary · \(lesson.title)") || !out.contains("✓ Lesson") {
            fail("no summary after the last step")
          }
          shell.type("quit\r")
          XCTAssertEqual(shell.waitForExit(), .exited(0), "\(id): quit")
          return
        }
        continue
      }
      // The step may first ask to redo an earlier one (a value from the earlier shell).
      if let r = lastOutput.range(of: "▶ first: "),
        let back = lastOutput[r.upperBound...].range(of: "type `back "),
        let n = Int(lastOutput[back.upperBound...].prefix { $0.isNumber })
      {
        type("back \(n)")
        continue
      }
      let step = lesson.steps[k]
      if step.prediction != nil && !shell.screen.suffix(800).contains("(you answered") {
        type("a")
      }
      guard let exact = step.concreteCommand(freshCaptures()) else {
        return fail("step \(k + 1) has no command to type with \(freshCaptures().values)")
      }
      // (b) every other attempt in another spelling, when there is one.
      let command = (attempts % 2 == 1 ? otherSpelling(of: exact, step: step) : nil) ?? exact
      let out = type(command)
      redo = false
      if !out.contains("✓ step \(k + 1)/\(count) passed") && command != exact {
        fail("step \(k + 1): '\(command)' (for '\(exact)') was not accepted:\n\(out.suffix(1500))")
      }
    }
    fail("the lesson did not end after \(attempts) commands")
  }

  /// (d) Quits halfway, starts a new shell, resumes and goes back one step.
  func leaveAndComeBack() throws {
    shell.type("quit\r")
    XCTAssertEqual(shell.waitForExit(), .exited(0), "\(id): quit")
    transcript += shell.screen
    try open()
    if !shell.screen.contains("Resuming '\(lesson.title)'") { fail("did not resume") }
    let back = type("back")
    if !back.contains("Step \(count / 2)/\(count)") { fail("'back' did not go to the step before") }
  }
}
