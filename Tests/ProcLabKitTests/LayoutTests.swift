import ProcLabKit
import XCTest

/// Text that fits the learner's terminal: prose wrapped at word boundaries,
/// code spans whole, tables that adapt rather than wrap.
final class LayoutTests: XCTestCase {
  override func setUp() { Style.enabled = false }

  func testProseWrapsAtWordBoundariesWithinTheWidth() {
    let text =
      "Every program you run becomes a process: the kernel gives it a number (its PID), remembers who started it."
    let lines = TextWrap.wrap(text, width: 40)
    XCTAssertGreaterThan(lines.count, 2)
    XCTAssertTrue(lines.allSatisfy { $0.count <= 40 }, "\(lines)")
    XCTAssertEqual(lines.joined(separator: " "), text, "only spaces at the breaks were replaced")
  }

  func testCodeSpansAreNeverBroken() {
    let text = "When the children have ended, type `spawn 2 --hold 60` again and then `ps` to look."
    let lines = TextWrap.wrap(text, width: 40)
    XCTAssertTrue(lines.contains { $0.contains("`spawn 2 --hold 60`") }, "\(lines)")
    XCTAssertTrue(lines.allSatisfy { $0.count <= 40 }, "\(lines)")
  }

  func testBulletsAndExplanationsHangTheirContinuation() {
    let lines = TextWrap.wrap("- one two three four five six seven eight nine ten eleven", width: 20)
    XCTAssertEqual(lines.first?.hasPrefix("- "), true)
    XCTAssertTrue(lines.dropFirst().allSatisfy { $0.hasPrefix("  ") && !$0.hasPrefix("   ") }, "\(lines)")
    let explained = TextWrap.wrap("→ aaa bbb ccc ddd eee fff ggg", width: 12, continuation: "  ")
    XCTAssertEqual(explained, ["→ aaa bbb", "  ccc ddd", "  eee fff", "  ggg"])
  }

  func testColourTakesNoColumnsAndAWordLongerThanALineIsCut() {
    Style.enabled = true
    defer { Style.enabled = false }
    let coloured = Style.bold("word") + " " + Style.red("another") + " end"
    XCTAssertEqual(TextWrap.wrap(coloured, width: 17), [coloured], "17 visible columns fit in 17")
    let long = TextWrap.wrap("/a/very/long/path/that/cannot/break/anywhere/else", width: 20)
    XCTAssertTrue(long.allSatisfy { Style.width($0) <= 20 }, "\(long)")
    XCTAssertEqual(long.joined(), "/a/very/long/path/that/cannot/break/anywhere/else")
  }

  func testNoWidthMeansNoWrapping() {
    let text = String(repeating: "word ", count: 40)
    XCTAssertEqual(TextWrap.wrap(text, width: nil), [text])
    XCTAssertEqual(TextWrap.wrap([text], width: nil), [text])
  }

  func testWideTablesMoveColumnsUnderTheirRowAtEightyColumns() {
    var t = Table(["row", "what one sample does", "median", "p10 – p90", "min"], rightAligned: [2, 4])
    t.add([
      "thread", "pthread_create + pthread_join, with a long description", "37.6 µs", "31.1 µs – 94.3 µs",
      "29.9 µs",
    ])
    t.add([
      "fork_small", "fork + _exit + waitpid, from proclab-forker (small C)", "165 µs", "148 µs – 248 µs",
      "145 µs",
    ])
    t.short = [1: ""]
    t.stackable = [1]
    XCTAssertGreaterThan(t.lines.map(Style.width).max()!, 80, "the natural table is wider than 80")
    XCTAssertEqual(t.lines(fitting: 200), t.lines, "a wide terminal shows it as it is")
    let narrow = t.lines(fitting: 80)
    XCTAssertTrue(narrow.allSatisfy { Style.width($0) <= 80 }, narrow.joined(separator: "\n"))
    XCTAssertEqual(narrow[0], "  row          median  p10 – p90              min")
    XCTAssertEqual(narrow[1], "  thread      37.6 µs  31.1 µs – 94.3 µs  29.9 µs")
    XCTAssertEqual(narrow[2], "    pthread_create + pthread_join, with a long description")
  }

  func testTablesWithoutAHintMoveTheirWidestColumnsAndLabelThem() {
    var t = Table(["name", "state", "a long column heading", "note"])
    t.add(["a", "S", String(repeating: "x", count: 30), "short"])
    t.short = [2: "long"]
    let narrow = t.lines(fitting: 40)
    XCTAssertTrue(narrow.allSatisfy { Style.width($0) <= 40 }, narrow.joined(separator: "\n"))
    XCTAssertTrue(narrow.contains("    long " + String(repeating: "x", count: 30)), "\(narrow)")
  }

  func testOutcomesRenderTablesAdaptedAndProseWrapped() {
    let r = Report()
    r.line("created and finished 20 of each, round-robin, in 55.4 ms, which is a long first line of facts")
    var t = Table(["pair", "per switch", "switches counted (voluntary + involuntary) in both directions"])
    t.add(["threads", "2.71 µs", "1030 (558 + 472) for 505 round trips, counted by the kernel"])
    t.short = [2: "switches"]
    r.table(t)
    r.explain(String(repeating: "An explanation that goes on. ", count: 8))
    let o = Outcome(
      input: "x", command: "x", succeeded: true, lines: r.lines, explanation: r.explanation)
    var withTables = o
    withTables.tables = r.tables
    let text = Render.outcome(withTables, explain: .short, color: false, width: 60)
    let lines = text.split(separator: "\n").map(String.init)
    XCTAssertTrue(lines.allSatisfy { $0.count <= 60 }, text)
    // The last column, text, wraps within its own column rather than moving under the row.
    let row = lines.firstIndex { $0.hasPrefix("  threads  2.71 µs     1030 (558 + 472)") }
    XCTAssertNotNil(row, text)
    if let row {
      XCTAssertEqual(lines[row + 1], String(repeating: " ", count: 23) + "counted by the kernel", text)
    }
    XCTAssertTrue(lines.contains { $0.hasPrefix("→ An explanation") })
    XCTAssertTrue(lines.contains { $0.hasPrefix("  An explanation") || $0.hasPrefix("  goes on") }, text)
    // The lines lessons and transcripts match keep the table's natural width.
    XCTAssertEqual(r.lines[1...], t.lines[...])
  }
}
