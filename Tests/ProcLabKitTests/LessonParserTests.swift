import ProcLabKit
import XCTest

/// The lesson format: a good file reads into steps, hints, a prediction and a
/// summary; every kind of mistake is reported with its file:line:col.
final class LessonParserTests: XCTestCase {
  static let good = """
    ---
    id: demo
    title: A demo lesson
    order: 3  # third
    summary: "Two steps and a summary."
    needs:
      - info
      - explain
    ---
    # A demo lesson

    Intro text.

    ## Look at the shell

    Narration of step one.

    > **Hint:** first hint
    > **Hint:** second hint,
    > over two lines

    ```proclab
    proclab> info
      process ID  {{SHELL:pid}}
    ...
    ```

    ## Predict, then run

    > **Predict:** Which PID is {{SHELL}}?
    > - [ ] the kernel's
    > - [x] this shell's
    > **Why:** {{SHELL}} is this shell.

    <!-- run: explain process -->
    ```proclab
    proclab> explain {{topic:word}}
    {{:text}}
    ```

    ## Summary

    You were {{SHELL}}; you read about {{topic}}.
    """

  func parse(_ text: String) throws -> Lesson { try LessonParser.parse(text, file: "demo.md") }

  func testAGoodLessonReadsIntoStepsHintsPredictionAndSummary() throws {
    let lesson = try parse(Self.good)
    XCTAssertEqual(lesson.id, "demo")
    XCTAssertEqual(lesson.title, "A demo lesson")
    XCTAssertEqual(lesson.order, 3)
    XCTAssertEqual(lesson.summary, "Two steps and a summary.")
    XCTAssertEqual(lesson.needs, ["info", "explain"])
    XCTAssertEqual(lesson.introduction, ["Intro text."])
    XCTAssertEqual(lesson.steps.count, 2)
    let one = lesson.steps[0]
    XCTAssertEqual(one.title, "Look at the shell")
    XCTAssertEqual(one.line, 14)
    XCTAssertEqual(one.narration, ["Narration of step one."])
    XCTAssertEqual(one.hints, ["first hint", "second hint,\nover two lines"])
    XCTAssertEqual(one.commandText, "info")
    XCTAssertEqual(one.commandLine, 23)
    XCTAssertEqual(one.captureNames, ["SHELL"])
    let two = lesson.steps[1]
    let p = try XCTUnwrap(two.prediction)
    XCTAssertEqual(p.question, "Which PID is {{SHELL}}?")
    XCTAssertEqual(p.choices, ["the kernel's", "this shell's"])
    XCTAssertEqual(p.correct, [1])
    XCTAssertEqual(p.why, ["{{SHELL}} is this shell."])
    XCTAssertEqual(two.runCommand, "explain process")
    XCTAssertEqual(lesson.closing, ["You were {{SHELL}}; you read about {{topic}}."])

    // The command pattern is a real transcript pattern: it matches and captures.
    var captures = Captures()
    XCTAssertTrue(two.command.matches("explain process", captures: &captures))
    XCTAssertEqual(captures["topic"], "process")
    // What the learner is shown is always a command they can type, with its freedom in words.
    XCTAssertEqual(two.displayCommand(Captures()), "explain process")
    XCTAssertEqual(two.freedom, ["any topic"])
    XCTAssertEqual(two.concreteCommand(Captures()), "explain process")
  }

  /// Replaces `old` in the good lesson and returns the error's position and message.
  func error(replacing old: String, with new: String, file: StaticString = #filePath, line: UInt = #line)
    -> LessonError?
  {
    let text = Self.good.replacingOccurrences(of: old, with: new)
    XCTAssertNotEqual(text, Self.good, "the replacement applies", file: file, line: line)
    do {
      _ = try parse(text)
      XCTFail("expected an error", file: file, line: line)
      return nil
    } catch let e as LessonError {
      return e
    } catch {
      XCTFail("unexpected \(error)", file: file, line: line)
      return nil
    }
  }

  func assertError(
    _ old: String, _ new: String, at position: (Int, Int), contains words: String,
    file: StaticString = #filePath, line: UInt = #line
  ) {
    guard let e = error(replacing: old, with: new, file: file, line: line) else { return }
    XCTAssertEqual(e.file, "demo.md", file: file, line: line)
    XCTAssertEqual(e.line, position.0, "line of: \(e)", file: file, line: line)
    XCTAssertEqual(e.column, position.1, "column of: \(e)", file: file, line: line)
    XCTAssertTrue(e.message.contains(words), "\(e)", file: file, line: line)
    XCTAssertTrue(e.description.hasPrefix("demo.md:\(position.0):\(position.1): "), file: file, line: line)
  }

  func testFrontMatterErrorsNameTheirPosition() {
    assertError("---\nid: demo", "id: demo", at: (1, 1), contains: "first line must be '---'")
    assertError("order: 3  # third", "order: three", at: (4, 8), contains: "order must be a whole number")
    assertError("order: 3  # third", "level: 3", at: (4, 1), contains: "unknown key 'level'")
    assertError("order: 3  # third", "order 3", at: (4, 1), contains: "expected 'key: value'")
    assertError("id: demo", "id: Demo Lesson", at: (2, 5), contains: "id must be lowercase")
    assertError("title: A demo lesson\n", "", at: (8, 1), contains: "no 'title:'")
    assertError(
      "summary: \"Two steps and a summary.\"\n", "summary: x\n- stray\n", at: (6, 1),
      contains: "list only follows 'needs:'")
    assertError("order: 3  # third\n", "order: 3\norder: 4\n", at: (5, 1), contains: "given twice")
    assertError("  - explain\n---\n", "  - explain\n", at: (1, 1), contains: "never closed")
  }

  /// 15.6: the front matter is a deliberate YAML subset; everything outside it is refused
  /// with its position, never read another way than YAML would read it.
  func testFrontMatterOutsideTheSubsetIsRefusedWithItsPosition() {
    assertError("title: A demo lesson", "title: |", at: (3, 8), contains: "block scalars")
    assertError("title: A demo lesson", "title: &anchor x", at: (3, 8), contains: "anchors")
    assertError("title: A demo lesson", "title: {a: b}", at: (3, 8), contains: "maps")
    assertError("title: A demo lesson", "title: \"a\\nb\"", at: (3, 10), contains: "escapes")
    assertError("title: A demo lesson", "title: \"open", at: (3, 8), contains: "never closed")
    assertError("title: A demo lesson", "\ttitle: x", at: (3, 1), contains: "a tab")
    assertError("title: A demo lesson", "  title: x", at: (3, 1), contains: "every key starts at column 1")
    assertError(
      "needs:\n  - info\n  - explain", "needs: [info, [explain]]", at: (6, 15), contains: "a list inside")
    assertError("needs:\n  - info\n  - explain", "needs: [info", at: (6, 8), contains: "never closed")
  }

  func testQuotedValuesAndFlowListsAreRead() throws {
    let lesson = try parse(
      Self.good.replacingOccurrences(of: "title: A demo lesson", with: "title: 'Races: and # mutexes'")
        .replacingOccurrences(of: "needs:\n  - info\n  - explain", with: "needs: [info, \"explain\"]  # two"))
    XCTAssertEqual(lesson.title, "Races: and # mutexes")
    XCTAssertEqual(lesson.needs, ["info", "explain"])
  }

  func testStepErrorsNameTheirPosition() {
    assertError(
      "```proclab\nproclab> info", "```sh\nproclab> info", at: (14, 1), contains: "has no ```proclab block")
    assertError("proclab> info\n", "proclab> info\nproclab> help\n", at: (24, 1), contains: "one command")
    assertError(
      "proclab> info\n", "output first\nproclab> info\n", at: (23, 1), contains: "expected 'proclab> COMMAND'"
    )
    assertError("{{:text}}\n```", "{{:text}}", at: (36, 1), contains: "never closed")
    assertError("{{:text}}", "{{:bogus}}", at: (38, 1), contains: "bogus")
    assertError("<!-- run: explain process -->\n", "", at: (36, 10), contains: "free placeholder")
    assertError("## Look at the shell", "##", at: (14, 4), contains: "expected a step title")
    assertError(
      "Narration of step one.", "Narration quotes {{nobody}}.", at: (16, 18),
      contains: "'{{nobody}}' quotes a value no earlier step captures")
    assertError("proclab> info\n", "proclab> info {{X}}\n", at: (23, 15), contains: "'{{X}}'")
  }

  func testMarkupErrorsNameTheirPosition() {
    assertError(
      "> **Hint:** first hint", "> **Hnit:** first hint", at: (18, 3), contains: "unknown marker '**Hnit:**'")
    assertError("> **Hint:** first hint", "> **Hint:**", at: (18, 3), contains: "empty hint")
    assertError("Intro text.", "> **Hint:** too early", at: (12, 3), contains: "belongs to a step")
    assertError(
      "> - [x] this shell's", "> - [ ] this shell's", at: (30, 3), contains: "mark the right choice")
    assertError("> - [ ] the kernel's\n", "> - the kernel's\n", at: (31, 3), contains: "'- [ ] text'")
    assertError(
      "> - [x] this shell's\n", "> - [x] this shell's\n> - [ ] c\n> - [ ] d\n> - [ ] e\n", at: (35, 3),
      contains: "at most 4 choices")
    assertError(
      "> **Predict:** Which PID is {{SHELL}}?", "> **Why:** early", at: (30, 3),
      contains: "put a '**Predict:**' before it")
    assertError(
      "> **Why:** {{SHELL}} is this shell.", "> **Why:** {{late}}", at: (33, 12), contains: "'{{late}}'")
  }

  func testSummaryErrorsNameTheirPosition() {
    assertError(
      "## Summary\n\nYou were", "## Not a summary\n\nYou were", at: (41, 1),
      contains: "has no ```proclab block")
    assertError(
      "you read about {{topic}}.", "you read about {{topik}}.", at: (43, 36), contains: "'{{topik}}'")
    assertError(
      "You were {{SHELL}}; you read about {{topic}}.", "", at: (41, 1), contains: "the summary is empty")
    assertError(
      "you read about {{topic}}.", "you read about {{topic}}.\n## Extra\n", at: (44, 1),
      contains: "must be the last section")
  }

  func testABrokenFileDoesNotStopTheOthers() throws {
    let dir = NSTemporaryDirectory() + "lesson-parse-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    try FileManager.default.createDirectory(atPath: dir + "/drafts", withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try Self.good.write(toFile: dir + "/b-demo.md", atomically: true, encoding: .utf8)
    try "---\nid: broken\n".write(toFile: dir + "/a-broken.md", atomically: true, encoding: .utf8)
    try "not a lesson".write(toFile: dir + "/README.md", atomically: true, encoding: .utf8)
    try "not a lesson".write(toFile: dir + "/drafts/c.md", atomically: true, encoding: .utf8)
    let course = LessonLibrary.load(directory: dir)
    XCTAssertEqual(course.lessons.map(\.id), ["demo"])
    XCTAssertEqual(course.errors.count, 1)
    XCTAssertEqual(course.errors.first?.file, dir + "/a-broken.md")
    XCTAssertEqual(course.find("1")?.id, "demo")
    XCTAssertEqual(course.find("dem")?.id, "demo")
    XCTAssertNil(course.find("2"))
  }
}
