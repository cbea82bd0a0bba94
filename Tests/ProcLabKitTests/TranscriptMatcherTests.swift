import ProcLabKit
import XCTest

final class TranscriptMatcherTests: XCTestCase {
  func expected(_ lines: [String]) throws -> ExpectedOutput {
    try ExpectedOutput(lines: lines, file: "t.txt", firstLine: 10)
  }

  func matches(_ pattern: [String], _ actual: [String], _ captures: inout Captures) throws -> Mismatch? {
    try expected(pattern).match(actual, captures: &captures)
  }

  func testEveryKindCapturesItsValue() throws {
    var c = Captures()
    let m = try matches(
      [
        "n={{N:int}} f={{F:float}} d={{D:duration}} p={{P:pid}} t={{T:tid}} a={{A:addr}} w={{W:word}} rest={{X:text}}"
      ],
      ["n=-42 f=3.25 d=12.4 µs p=4312 t=4313 a=0x7ffd5a3c1a2c w=hello-world rest=all of this"], &c)
    XCTAssertNil(m, m?.report ?? "")
    XCTAssertEqual(c["N"], "-42")
    XCTAssertEqual(c["F"], "3.25")
    XCTAssertEqual(c["D"], "12.4 µs")
    XCTAssertEqual(c["P"], "4312")
    XCTAssertEqual(c["T"], "4313")
    XCTAssertEqual(c["A"], "0x7ffd5a3c1a2c")
    XCTAssertEqual(c["W"], "hello-world")
    XCTAssertEqual(c["X"], "all of this")
  }

  func testDurationsInEveryUnitOfUnitsDuration() throws {
    for seconds in [4.12e-7, 1.24e-5, 3.21e-3, 1.5] {
      var c = Captures()
      let shown = Units.duration(seconds: seconds)
      XCTAssertNil(try matches(["took {{t:duration}}"], ["took \(shown)"], &c), shown)
      XCTAssertEqual(c["t"], shown)
    }
    var c = Captures()
    XCTAssertNotNil(
      try matches(["took {{:duration}}"], ["took 12 msgs"], &c), "a unit must end at a word boundary")
  }

  func testKindsRefuseValuesOfAnotherKind() throws {
    var c = Captures()
    XCTAssertNotNil(try matches(["pid {{:pid}}"], ["pid abc"], &c))
    XCTAssertNotNil(try matches(["at {{:addr}}"], ["at 1234"], &c))
    XCTAssertNotNil(try matches(["n {{:int}}"], ["n 1.5"], &c))
    XCTAssertNotNil(try matches(["took {{:duration}}"], ["took 12"], &c))
  }

  func testBackReferencesMustEqualTheCapture() throws {
    var c = Captures()
    XCTAssertNil(
      try matches(
        ["pid {{A:pid}} parent {{S:pid}}", "pid {{B:pid}} parent {{S}}"],
        ["pid 10 parent 5", "pid 11 parent 5"], &c))
    XCTAssertEqual(c["S"], "5")
    var d = Captures()
    let m = try matches(
      ["pid {{A:pid}} parent {{S:pid}}", "pid {{B:pid}} parent {{S}}"],
      ["pid 10 parent 5", "pid 11 parent 6"], &d)
    XCTAssertEqual(m?.line, 11)
    XCTAssertTrue(m!.report.contains("{{S}} must equal the captured S = 5"), m!.report)
    XCTAssertNil(d["A"], "a failed match leaves the captures as they were")
  }

  func testConstraints() throws {
    var c = Captures()
    XCTAssertNil(
      try matches(["{{n:int 1..4}} {{t:duration <50ms}} {{x:float >=0.5}}"], ["4 49.9 ms 0.5"], &c))
    let tooMany = try matches(["{{n:int 1..4}}"], ["5"], &c)
    XCTAssertTrue(tooMany!.report.contains("5 is not 1..4"), tooMany!.report)
    let slow = try matches(["{{t:duration <50ms}}"], ["1.50 s"], &c)
    XCTAssertTrue(slow!.report.contains("1.50 s is not <50ms"), slow!.report)
    XCTAssertNotNil(try matches(["{{t:duration 1µs..2s}}"], ["412 ns"], &c), "412 ns is below 1 µs")
    XCTAssertNotNil(try matches(["{{t:duration >1ms}}"], ["412 ns"], &c))
    XCTAssertNil(try matches(["{{t:duration >1ms}}"], ["3.21 ms"], &c))
  }

  func testSkipMatchesAnyNumberOfLines() throws {
    var c = Captures()
    XCTAssertNil(try matches(["first", "...", "last"], ["first", "last"], &c))
    XCTAssertNil(try matches(["first", "...", "last"], ["first", "a", "b", "last"], &c))
    XCTAssertNil(try matches(["first", "..."], ["first", "a", "b"], &c))
    XCTAssertNotNil(try matches(["first", "...", "last"], ["first", "a"], &c))
    XCTAssertNotNil(try matches(["first"], ["first", "extra"], &c))
  }

  func testUnorderedBlocksKeepEachThreadsOwnOrder() throws {
    let block = [
      "start", "~~~ any order", "[{{T1:tid}}] step 1", "[{{T1}}] step 2", "[{{T2:tid}}] step 1",
      "[{{T2}}] step 2", "~~~",
      "end",
    ]
    var c = Captures()
    let interleaved = ["start", "[7] step 1", "[8] step 1", "[8] step 2", "[7] step 2", "end"]
    XCTAssertNil(try matches(block, interleaved, &c), "threads interleave")
    XCTAssertEqual(Set([c["T1"], c["T2"]]), Set(["7", "8"]))
    var d = Captures()
    let outOfOrder = ["start", "[7] step 2", "[8] step 1", "[8] step 2", "[7] step 1", "end"]
    XCTAssertNotNil(try matches(block, outOfOrder, &d), "one thread's own lines keep their order")
    var e = Captures()
    XCTAssertNil(try matches(["~~~ any order", "b", "a", "~~~"], ["a", "b"], &e))
    XCTAssertNotNil(try matches(["~~~ any order", "b", "a", "~~~"], ["a", "c"], &e))
  }

  func testSpacesRunsAndTrailingSpacesAndEscapes() throws {
    var c = Captures()
    XCTAssertNil(try matches(["pid {{:pid}}  parent"], ["pid 4312      parent   "], &c), "columns may widen")
    XCTAssertNil(try matches(["\u{1B}[1mbold\u{1B}[0m"].map(Style.stripped), ["\u{1B}[1mbold\u{1B}[0m"], &c))
    XCTAssertNil(try matches(["literal \\{{braces}}"], ["literal {{braces}}"], &c))
    XCTAssertNil(try matches(["\\...", "\\# not narration"], ["...", "# not narration"], &c))
  }

  func testMismatchReportShowsWhereTheLinesPart() throws {
    var c = Captures()
    let m = try matches(["a", "spawned {{n:int}} children"], ["a", "spawned 2 threads"], &c)!
    XCTAssertEqual(m.line, 11)
    XCTAssertTrue(m.report.contains("expected: spawned {{n:int}} children"), m.report)
    XCTAssertTrue(m.report.contains("actual:   spawned 2 threads"), m.report)
    XCTAssertTrue(m.report.contains("^ expected \"children\""), m.report)
    let caret = m.report.split(separator: "\n").first { $0.contains("^") }!
    let actual = m.report.split(separator: "\n").first { $0.contains("actual:   spawned") }!
    XCTAssertEqual(
      caret.firstIndex(of: "^")!.utf16Offset(in: caret),
      actual.range(of: "threads")!.lowerBound.utf16Offset(in: actual))
  }

  /// learner 3: a text capture before a table's next column holds its whole value, unit and all.
  func testATextValueIsNeverCutFromItsUnit() throws {
    var c = Captures()
    XCTAssertNil(
      try matches(
        [
          "   1000  threads  {{t:duration}}  {{rss:text}}  {{vm:text}}",
          "  {{Z:pid}}  {{cpu:text}}  {{:text}}",
        ],
        ["   1000  threads     372 ms    8.7 MiB         7.79 GiB", "  4121  4.25 ms  25.8 MiB"], &c))
    XCTAssertEqual(c["rss"], "8.7 MiB")
    XCTAssertEqual(c["vm"], "7.79 GiB")
    XCTAssertEqual(c["cpu"], "4.25 ms")
    // A pattern that writes the unit itself still takes the number alone.
    XCTAssertNil(try matches(["took {{n:text}} ms and {{b:text}} KiB"], ["took 12 ms and 4.0 KiB"], &c))
    XCTAssertEqual(c["n"], "12")
    XCTAssertEqual(c["b"], "4.0")
    // A number followed by a word that is no unit ends where the pattern says.
    XCTAssertNil(try matches(["{{k:text}} {{w:word}}"], ["7 msgs"], &c))
    XCTAssertEqual(c["k"], "7")
  }

  /// For a learner: the expected line where the match stopped, values filled in, `…` for the rest.
  func testAMismatchCarriesTheExpectedLineInPlainWords() throws {
    var c = Captures()
    c["B"] = "4122"
    let m = try matches(
      ["{{B}} stopped by SIGSTOP{{:text}}", "{{n:int}} left"], ["4122 was already stopped (state T)"], &c)!
    XCTAssertEqual(m.expectedLine, "4122 stopped by SIGSTOP…")
    XCTAssertEqual(m.actualLine, "4122 was already stopped (state T)")
    let short = try matches(["first", "{{n:int}} {{:word}} left"], ["first"], &c)!
    XCTAssertEqual(short.expectedLine, "… … left")
    XCTAssertNil(short.actualLine)
  }

  func testParseErrorsNameFileLineAndColumn() {
    func error(_ text: String) -> TranscriptError? {
      do {
        _ = try Transcript.parse(text, file: "demo.txt")
        return nil
      } catch let e as TranscriptError { return e } catch { return nil }
    }
    let kind = error("# hi\nproclab> info\npid {{A:pidd}}\n")
    XCTAssertEqual(kind?.line, 3)
    XCTAssertEqual(kind?.column, 5)
    XCTAssertTrue(
      kind!.description.hasPrefix("demo.txt:3:5: unknown placeholder kind 'pidd'"), kind!.description)
    XCTAssertEqual(error("proclab> info\nx {{A:int 1..}}\ny {{A:int 5..1}}\n")?.line, 3)
    XCTAssertEqual(error("proclab> info\nunclosed {{A:int\n")?.column, 10)
    let reference = error("proclab> kill {{B}}\n")
    XCTAssertEqual(reference?.line, 1)
    XCTAssertEqual(reference?.column, 15)
    XCTAssertEqual(error("output before a command\n")?.line, 1)
    XCTAssertEqual(error("proclab> info\n~~~ any order\na\n")?.line, 2)
    XCTAssertEqual(error("proclab> info\n~~~ anyhow\n")?.line, 2)
    XCTAssertEqual(error("proclab> info\n{{t:pid <5}}\n")?.line, 2)
  }

  func testTranscriptStepsNarrationAndCommands() throws {
    let t = try Transcript.parse(
      """
      # Two children.
      # Each with its own PID.
      proclab> spawn 2 --hold 30
      spawned in {{t:duration <50ms}}
        pid {{A:pid}}

      # Now kill one.
      proclab> kill {{A}}
      {{A}} killed
      # The end.
      """, file: "demo.txt")
    XCTAssertEqual(t.steps.count, 2)
    XCTAssertEqual(t.steps[0].narration, ["Two children.", "Each with its own PID."])
    XCTAssertEqual(t.steps[0].line, 3)
    XCTAssertEqual(t.steps[0].expected.lines.count, 2, "blank lines before narration are layout")
    XCTAssertEqual(t.steps[1].narration, ["Now kill one."])
    XCTAssertEqual(t.trailingNarration, ["The end."])
    var c = Captures()
    XCTAssertEqual(t.steps[0].command.instantiate(c), "spawn 2 --hold 30")
    XCTAssertNil(t.steps[0].expected.match(["spawned in 3.2 ms", "  pid 4312"], captures: &c))
    XCTAssertEqual(t.steps[1].command.instantiate(c), "kill 4312")
    XCTAssertEqual(c.substitute("kill {{A}} {{nope}}"), "kill 4312 {{nope}}")
  }

  func testCommandPatternsForLessons() throws {
    let p = try CommandPattern("spawn {{n:int 2..8}} --hold {{:int}}", file: "l.md", line: 4)
    var c = Captures()
    XCTAssertTrue(p.matches("spawn 3 --hold 10", captures: &c))
    XCTAssertEqual(c["n"], "3")
    XCTAssertFalse(p.matches("spawn 9 --hold 10", captures: &c))
    XCTAssertNil(p.instantiate(Captures()), "nothing to run without a value")
    let kill = try CommandPattern("kill {{A}}", file: "l.md", line: 5)
    c["A"] = "77"
    XCTAssertTrue(kill.matches("kill   77", captures: &c))
    XCTAssertFalse(kill.matches("kill 78", captures: &c))
  }
}
