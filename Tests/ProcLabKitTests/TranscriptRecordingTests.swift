import XCTest

@testable import ProcLabKit

/// What the recorder writes for a report's lines, from the report's own notes: values
/// the command fixes stay literal, bounds are written as bounds, a chart's bars vary.
final class TranscriptRecordingTests: XCTestCase {
  /// The expected lines a recording writes for `r` (explanations shown, as by default).
  func recorded(_ r: Report, command: String = "x") -> [String] {
    var o = Outcome(
      input: command, command: command, succeeded: true, lines: r.lines, variables: r.variables,
      explanation: r.explanation)
    o.unorderedRuns = r.unorderedRuns
    let shown = Recorder.rendered(o, settings: Settings())
    return OutputGeneralizer(names: RecordedNames(), historyBeforeStart: 0).generalize(o, shown: shown).map(
      \.text)
  }

  func testAFixedValueStaysLiteralAndABoundIsWrittenAsTheBound() {
    let r = Report()
    r.line("slept \(r.fixed("20.0 ms")) then \(r.duration(.milliseconds(3)))")
    r.line("at most \(r.bounded("3", .int, "1..4")) of 4")
    let written = recorded(r)
    XCTAssertEqual(written, ["slept 20.0 ms then {{:duration}}", "at most {{:int 1..4}} of 4"])
  }

  func testANoteMadeForTheExplanationLoosensNoLaterLine() {
    let r = Report()
    r.line("started")
    r.explain("it counted \(r.count(7)) things")
    r.line("holding 7 threads")
    let written = recorded(r)
    XCTAssertTrue(written.contains("holding 7 threads"), "\(written)")
  }

  /// Bars vary with the measurement; a legend's glyphs are fixed and stay literal.
  func testBarsBecomePlaceholdersAndALegendStaysAsItIs() {
    XCTAssertEqual(
      OutputGeneralizer.drawnAsWords("  no protection █████▎  12.3 ms"), "  no protection {{:word}}  12.3 ms")
    XCTAssertEqual(OutputGeneralizer.drawnAsWords("  thread ▏ 19.0 µs"), "  thread {{:word}} 19.0 µs")
    XCTAssertEqual(
      OutputGeneralizer.drawnAsWords("  █ inside  ░ waiting  · elsewhere"),
      "  █ inside  ░ waiting  · elsewhere")
    XCTAssertEqual(OutputGeneralizer.drawnAsWords("  t1 ··1111░░██"), "  t1 {{:word}}")
  }

  func testColourIsStrippedFromWhatIsRecorded() {
    Style.enabled = true
    defer { Style.enabled = false }
    let r = Report()
    r.line(Style.dim("   PID  PARENT") + " " + Style.cyan("█████"))
    XCTAssertTrue(r.lines[0].contains("\u{1B}["), "the report is styled")
    let written = recorded(r)
    XCTAssertFalse(written.joined().contains("\u{1B}"), "\(written)")
  }

  /// Finding 2: a bar chart's bars vary by nature; recorded with colour on (cyan bars), they
  /// are written as placeholders, and the recording matches a run whose bars differ.
  func testABarChartsBarsAreRecordedAsPlaceholders() throws {
    func chart(_ a: Double, _ b: Double) -> Report {
      let r = Report()
      var c = BarChart()
      c.add("no protection", a, r.duration(.microseconds(Int64(a))))
      c.add("mutex", b, r.duration(.microseconds(Int64(b))))
      r.lines(c.lines)
      return r
    }
    Style.enabled = true
    let written = recorded(chart(300, 1_900))
    Style.enabled = false
    XCTAssertFalse(written.joined().contains("█"), "\(written)")
    var captures = Captures()
    let expected = try ExpectedOutput(lines: written, file: "t.txt", firstLine: 1)
    let other = chart(2_500, 40).lines.map(Style.stripped)
    XCTAssertNil(expected.match(other, captures: &captures), "\(written) vs \(other)")
  }

  /// Finding 15: in an unordered block the caret stands where the closest line parts,
  /// not at column 0 ("the line ends here" under the line's end).
  func testAnUnorderedBlocksCaretIsWhereTheClosestLineParts() throws {
    var c = Captures()
    let e = try ExpectedOutput(
      lines: ["~~~ any order", "alpha {{:int}} more", "beta {{:int}}", "~~~"], file: "t.txt", firstLine: 1)
    let m = try XCTUnwrap(e.match(["alpha 1", "beta 2"], captures: &c))
    let lines = m.report.split(separator: "\n").map(String.init)
    let actual = try XCTUnwrap(lines.first { $0.contains("actual:") && $0.contains("alpha 1") }, m.report)
    let caret = try XCTUnwrap(lines.first { $0.contains("^ in the unordered block") }, m.report)
    let lineStart = try XCTUnwrap(actual.range(of: "alpha 1")).lowerBound
    let caretAt = try XCTUnwrap(caret.firstIndex(of: "^"))
    XCTAssertEqual(
      caret.distance(from: caret.startIndex, to: caretAt),
      actual.distance(from: actual.startIndex, to: lineStart) + "alpha 1".count, m.report)
  }
}
