import ProcLabKit
import XCTest

/// Hostile patterns and lines (issue 19.2, 19.3, 18.4): every match answers, uses
/// no deep recursion, and stays within a work budget that grows with the line,
/// not exponentially with the pattern.
final class TranscriptBoundsTests: XCTestCase {
  func expected(_ lines: [String]) throws -> ExpectedOutput {
    try ExpectedOutput(lines: lines, file: "t.txt", firstLine: 1)
  }

  func run(_ pattern: [String], _ actual: [String], steps: Int = MatchBudget.defaultSteps) throws -> (
    ExpectedOutput.MatchResult, MatchBudget
  ) {
    let budget = MatchBudget(steps: steps)
    return (try expected(pattern).match(actual, captures: Captures(), budget: budget), budget)
  }

  func testTenThousandWordLinesMatchWithoutRecursion() throws {
    // `info a a a …` of 10,000 words used to overflow the stack in LinePattern.matchFrom.
    let words = Array(repeating: "a", count: 10_000).joined(separator: " ")
    let (ok, budget) = try run(["info " + words], ["info " + words])
    guard case .matched = ok else { return XCTFail("the same line must match") }
    XCTAssertLessThan(budget.spent, 10 * 20_000, "linear: a few steps per segment")
    let (bad, _) = try run(["info " + words], ["info " + words + " b"])
    guard case .mismatch(let m) = bad else { return XCTFail("one extra word must not match") }
    XCTAssertTrue(m.report.contains("the line goes on"), m.report)
  }

  func testAHundredThousandWordHistoryLine() throws {
    let command = Array(repeating: "x", count: 100_000).joined(separator: " ")
    let (result, budget) = try run(["   12  " + command], ["   12  " + command])
    guard case .matched = result else { return XCTFail("a 100,000-word line matches itself") }
    XCTAssertNil(budget.stop)
  }

  func testFiveTextPlaceholdersBeforeALiteralFailFast() throws {
    // `{{:text}}` five times then `@` on a line without `@`: minutes of backtracking before.
    let line = "record — record the commands that follow, with their output, as a checkable transcript"
    let (result, budget) = try run([String(repeating: "{{:text}}", count: 5) + "@"], [line])
    guard case .mismatch(let m) = result else { return XCTFail("there is no @ to match") }
    XCTAssertTrue(m.report.contains("expected \"@\""), m.report)
    XCTAssertNil(budget.stop, "answered without giving up")
    XCTAssertLessThan(budget.spent, 20 * (line.count + 1), "a few passes over the line, not line^5")
    // Fifty of them on a 519-byte line (300 s before): still a few passes.
    let long = String(repeating: "x", count: 519)
    let (fifty, b50) = try run([String(repeating: "{{:text}}", count: 50) + "@"], [long])
    guard case .mismatch = fifty else { return XCTFail("no @ there either") }
    XCTAssertLessThan(b50.spent, 60 * (long.count + 1) * 2)
  }

  func testTwentyThousandPlaceholdersOnOneLine() throws {
    let pattern = Array(repeating: "{{:int}}", count: 20_000).joined(separator: " ")
    let line = Array(repeating: "7", count: 20_000).joined(separator: " ")
    let (ok, _) = try run([pattern], [line])
    guard case .matched = ok else { return XCTFail("20,000 numbers match 20,000 {{:int}}") }
    let (bad, _) = try run([pattern], [line + " x"])
    guard case .mismatch = bad else { return XCTFail("the x is extra") }
  }

  func testCapturedTextsReferredToLaterStayCorrectAndBounded() throws {
    // A capture that a later part of the line refers to cannot share failure memory: it must still match.
    var c = Captures()
    let e = try expected(["{{A:text}}-{{B:text}}-{{A}}"])
    XCTAssertNil(e.match(["ab-cd-ab"], captures: &c))
    XCTAssertEqual(c["A"], "ab")
    XCTAssertEqual(c["B"], "cd")
    let (result, budget) = try run(
      ["{{A:text}}{{B:text}}{{C:text}}{{A}}{{B}}{{C}}!"], [String(repeating: "ab", count: 30)],
      steps: 200_000)
    guard case .mismatch(let m) = result else { return XCTFail("no ! in the line") }
    XCTAssertLessThanOrEqual(budget.spent, 200_001)
    XCTAssertFalse(m.report.isEmpty)
  }

  func testTheBudgetGivesUpAndSaysSo() throws {
    let (result, budget) = try run(
      ["{{A:text}}{{B:text}}{{C:text}}{{A}}{{B}}{{C}}!"], [String(repeating: "ab", count: 200)], steps: 5_000)
    guard case .mismatch(let m) = result else { return XCTFail("must not match") }
    XCTAssertEqual(budget.stop, .exhausted(steps: 5_000))
    XCTAssertTrue(m.report.contains("gave up after 5000 matching steps"), m.report)
  }

  func testCtrlCStopsAMatchAtOnce() throws {
    Interrupt.request()
    defer { Interrupt.clear() }
    let (result, budget) = try run(
      ["{{A:text}}{{B:text}}{{C:text}}{{A}}{{B}}{{C}}!"], [String(repeating: "ab", count: 400)])
    guard case .mismatch(let m) = result else { return XCTFail("must not match") }
    XCTAssertEqual(budget.stop, .interrupted)
    XCTAssertLessThanOrEqual(budget.spent, 1024, "the flag is looked at every 1024 steps")
    XCTAssertTrue(m.report.contains("interrupted"), m.report)
  }

  func testManySkipsAndAnUnorderedBlockStayBounded() throws {
    let actual = (0..<300).map { "line \($0)" }
    let pattern =
      Array(repeating: ["...", "line {{:int}}"], count: 40).flatMap { $0 } + ["nothing like this"]
    let (result, budget) = try run(pattern, actual)
    guard case .mismatch = result else { return XCTFail("the last line is not there") }
    XCTAssertNil(budget.stop, "skips remember where they failed")
    // Twelve lines that each match eleven patterns, and one that matches none: no 12! search.
    let block = ["~~~ any order"] + (0..<12).map { _ in "row {{:int}}" } + ["~~~"]
    let rows = (0..<11).map { "row \($0)" } + ["other"]
    let (unordered, b2) = try run(block, rows)
    guard case .mismatch(let m) = unordered else { return XCTFail("'other' fits no row") }
    XCTAssertTrue(m.report.contains("unordered block"), m.report)
    XCTAssertLessThan(b2.spent, 200_000)
  }

  func testChoicesAcceptTheirValuesOnly() throws {
    var c = Captures()
    XCTAssertNil(try expected(["state now {{:word S|R}}"]).match(["state now R"], captures: &c))
    XCTAssertNil(
      try expected(["  {{:text Z zombie|S sleeping}}  3 ms"]).match(["  S sleeping  3 ms"], captures: &c))
    let m = try expected(["state now {{:word S|R}}"]).match(["state now D"], captures: &c)
    XCTAssertTrue(m?.report.contains("expected one of S, R, found \"D\"") == true, m?.report ?? "")
    XCTAssertNotNil(try expected(["({{:word S|R}})"]).match(["(Sx)"], captures: &c), "a choice ends the word")
  }

  func testGrammarMessages() throws {
    func error(_ line: String) -> String {
      do {
        _ = try expected([line])
        return ""
      } catch { return "\(error)" }
    }
    XCTAssertTrue(
      error("{{n:int>0}}").contains(
        "a space is missing between the kind and its constraint; write {{n:int >0}}"),
      error("{{n:int>0}}"))
    XCTAssertEqual(error("cpu {{p:float <50%}}"), "")
    var c = Captures()
    XCTAssertNil(try expected(["cpu {{p:float <50%}}"]).match(["cpu 31.4%"], captures: &c))
    XCTAssertNotNil(try expected(["cpu {{p:float <50%}}"]).match(["cpu 71.4%"], captures: &c))
    let twice = error2(["pid {{A:pid}}", "pid {{A:pid}}"])
    XCTAssertTrue(
      twice.contains("t.txt:2:5: {{A:pid}} captures A again; it is already captured on line 1"), twice)
    XCTAssertTrue(error("{{:word}}x {{:pid 1..3}}").contains("a list of choices"), error("{{:pid 1..3}}"))
    XCTAssertTrue(error("{{:word a b|c}}").contains("has a space"))
  }

  func error2(_ lines: [String]) -> String {
    do {
      _ = try expected(lines)
      return ""
    } catch { return "\(error)" }
  }

  func testAnExtraOrMissingLineIsNamedAsSuch() throws {
    var c = Captures()
    let extra = try expected(["spawned 2 processes", "done"]).match(
      ["spawned 2 processes", "spawned", "done"], captures: &c)
    XCTAssertTrue(extra?.report.contains("an extra output line") == true, extra?.report ?? "")
    XCTAssertFalse(extra?.report.contains("expected a space") == true, extra?.report ?? "")
    let missing = try expected(["a", "b", "c"]).match(["a", "c"], captures: &c)
    XCTAssertTrue(
      missing?.report.contains("the expected line 2 is missing from the output") == true,
      missing?.report ?? "")
  }

  func testEveryCaptureIsListedInAMismatch() throws {
    var c = Captures()
    XCTAssertNil(try expected(["{{P1:pid}} {{P2:pid}}"]).match(["10 20"], captures: &c))
    let m = try expected(["{{Q:pid}} x"]).match(["30 y"], captures: &c)
    XCTAssertTrue(m?.report.contains("captured so far: P1 = 10, P2 = 20") == true, m?.report ?? "")
  }

  func testFailureMarkerParses() throws {
    let e = try expected(["...", "[error]"])
    XCTAssertTrue(e.expectsFailure)
    XCTAssertEqual(e.failureMarkerLine, 2)
    XCTAssertFalse(try expected(["\\[error]"]).expectsFailure, "\\[error] is an output line")
  }
}
