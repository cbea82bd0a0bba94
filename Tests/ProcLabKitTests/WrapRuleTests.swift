import ProcLabKit
import XCTest

/// The rules the word-wrapper follows beyond "break at a space", each tried at every width
/// where it matters, and tables fitted to 80 and to 60 columns.
final class WrapRuleTests: XCTestCase {
  override func setUp() { Style.enabled = false }

  /// Pairs of consecutive lines where the first ends on a word `ends` accepts and the next
  /// starts with a word `starts` accepts (the continuation indent aside).
  func broken(_ lines: [String], ends: (String) -> Bool, starts: (String) -> Bool) -> [String] {
    zip(lines, lines.dropFirst()).compactMap { a, b in
      let last = a.split(separator: " ").last.map(String.init) ?? ""
      let first = b.split(separator: " ").first.map(String.init) ?? ""
      return ends(last) && starts(first) ? "\(a) | \(b)" : nil
    }
  }

  static let units: Set<String> = ["ns", "µs", "ms", "s", "B", "KiB", "MiB", "GiB", "%", "M/s", "bytes"]

  func isNumber(_ word: String) -> Bool {
    let w = word.drop { $0 == "(" }
    return w.first?.isNumber == true && w.last?.isNumber == true
  }

  func testANumberKeepsItsUnitAtEveryWidth() {
    let text =
      "the round trip took 264 ms, the copy 2.33 µs per page; 16.0 MiB resident, 95 % of it shared, 705.1 M/s in all"
    for width in 12...60 {
      let lines = TextWrap.wrap(text, width: width)
      XCTAssertTrue(lines.allSatisfy { Style.width($0) <= width }, "width \(width): \(lines)")
      let apart = broken(
        lines, ends: isNumber,
        starts: { WrapRuleTests.units.contains(String($0.prefix { !",;.)".contains($0) })) })
      XCTAssertEqual(apart, [], "width \(width)")
      XCTAssertEqual(lines.joined(separator: " "), text, "only spaces at the breaks were replaced")
    }
    // Where a plain word-wrapper would leave the unit alone on the next line.
    XCTAssertEqual(TextWrap.wrap("aaaa bbbb 264 ms", width: 13), ["aaaa bbbb", "264 ms"])
  }

  func testANumberStaysWithWhatItCounts() {
    let text =
      "highest MAX RSS 3.9 MiB (this shell's VmHWM: 18.0 MiB), 2 voluntary switches; child 12800 sent 6 messages"
    for width in 14...60 {
      let lines = TextWrap.wrap(text, width: width)
      XCTAssertTrue(lines.allSatisfy { Style.width($0) <= width }, "width \(width): \(lines)")
      XCTAssertEqual(
        broken(lines, ends: isNumber, starts: { $0.first?.isLetter == true }), [], "width \(width)")
    }
    XCTAssertEqual(
      TextWrap.wrap("MiB (VmHWM: 18.0 MiB), 2 voluntary switches", width: 26),
      ["MiB (VmHWM: 18.0 MiB),", "2 voluntary switches"])
    // A number ending a sentence or a list item is not a count.
    XCTAssertEqual(
      TextWrap.wrap("it exited 0, then 1. Next one", width: 18), ["it exited 0, then", "1. Next one"])
  }

  /// A lesson's "your numbers" line: `cores = 2` never ends one line and starts the next.
  func testANameStaysWithItsValue() {
    let text = "  your numbers: SHELL = 15192, PARENT = 15188, pname = bash, threads = 1, cores = 2"
    for width in 20...80 {
      let lines = TextWrap.wrap(text, width: width)
      XCTAssertTrue(lines.allSatisfy { Style.width($0) <= width }, "width \(width): \(lines)")
      XCTAssertEqual(
        broken(lines, ends: { _ in true }, starts: { $0 == "=" })
          + broken(lines, ends: { $0 == "=" }, starts: { _ in true }),
        [], "width \(width)")
    }
  }

  func testPidAndFdKeepTheirNumber() {
    let text = "the reader is pid 4711 and it writes to fd 3 while TID 4712 waits on (fd 5) for it"
    for width in 12...50 {
      let lines = TextWrap.wrap(text, width: width)
      XCTAssertTrue(lines.allSatisfy { Style.width($0) <= width }, "width \(width): \(lines)")
      let apart = broken(
        lines, ends: { ["pid", "fd", "TID", "(fd"].contains($0) }, starts: { $0.first?.isNumber == true })
      XCTAssertEqual(apart, [], "width \(width)")
    }
  }

  func testATermAndItsTextContinueUnderTheText() {
    let line =
      "  --hold SECONDS          children sleep this long; the shell returns and keeps them (ps, kill, wait)"
    let column = 26
    let lines = TextWrap.wrap(line, width: 60)
    XCTAssertEqual(lines[0], "  --hold SECONDS          children sleep this long; the")
    XCTAssertGreaterThan(lines.count, 1)
    for more in lines.dropFirst() {
      XCTAssertTrue(more.hasPrefix(String(repeating: " ", count: column)), "under the text: '\(more)'")
      XCTAssertFalse(more.dropFirst(column).hasPrefix(" "), "exactly under it: '\(more)'")
    }
    // `help AREA` rows: a command name and what it does.
    let area = TextWrap.wrap(
      "  signal  send a signal to a child that handles, ignores or blocks it", width: 40)
    XCTAssertEqual(
      area, ["  signal  send a signal to a child that", "          handles, ignores or blocks it"])
    // A term wider than half the line continues at the line's own indentation instead.
    let wide = TextWrap.wrap(
      "  a very long term of several words  text after it goes on and on", width: 40)
    XCTAssertTrue(wide.dropFirst().allSatisfy { $0.hasPrefix("  ") && !$0.hasPrefix("   ") }, "\(wide)")
    // An explanation hangs under its text, past the arrow.
    let arrow = TextWrap.wrap("→ The kernel gave each of the threads its own task ID", width: 24)
    XCTAssertTrue(arrow.dropFirst().allSatisfy { $0.hasPrefix("  ") && !$0.hasPrefix("   ") }, "\(arrow)")
  }

  func testAnOptionStaysWithItsValueInAUsageLine() {
    let usage =
      "usage: lock [--threads N] [--hold MS] [--rounds R] [--try] [--processes] [--impl KIND] [--no-fence]"
    for width in 30...90 {
      let lines = TextWrap.wrap(usage, width: width, continuation: "            ")
      XCTAssertTrue(lines.allSatisfy { Style.width($0) <= width }, "width \(width): \(lines)")
      for line in lines {
        let opens = line.filter { $0 == "[" }.count
        XCTAssertEqual(opens, line.filter { $0 == "]" }.count, "a group broken at width \(width): \(lines)")
      }
    }
    XCTAssertEqual(
      TextWrap.wrap("  --turns T    turns to hand out in all (100…10000000, default 200000)", width: 60),
      ["  --turns T    turns to hand out in all (100…10000000,", "               default 200000)"])
  }

  func testALongPathBreaksAfterASlash() {
    let path = "/tmp/proclab-test-state/proclab/lessons/progress-of-lesson-01.json"
    let lines = TextWrap.wrap("saved in " + path, width: 30)
    XCTAssertTrue(lines.allSatisfy { Style.width($0) <= 30 }, "\(lines)")
    XCTAssertEqual(lines.joined(), "saved in " + path, "cut, nothing added or lost: \(lines)")
    for line in lines.dropLast() { XCTAssertTrue(line.hasSuffix("/"), "breaks after a '/': \(lines)") }
  }

  func testWideCharactersTakeTwoColumns() {
    let text = "進程 執行緒 訊號 管道 共享記憶體 互斥鎖 死結"
    for width in 10...20 {
      let lines = TextWrap.wrap(text, width: width)
      XCTAssertTrue(lines.allSatisfy { DisplayWidth.columns($0) <= width }, "width \(width): \(lines)")
      XCTAssertEqual(lines.joined(separator: " "), text)
    }
    XCTAssertEqual(TextWrap.wrap("進程 執行緒 訊號", width: 11), ["進程 執行緒", "訊號"], "4 + 1 + 6 = 11")
    // A wide word longer than a line is cut between characters, never past the edge.
    let cut = TextWrap.wrap("共享記憶體共享記憶體", width: 7)
    XCTAssertTrue(cut.allSatisfy { DisplayWidth.columns($0) <= 7 }, "\(cut)")
    XCTAssertEqual(cut.joined(), "共享記憶體共享記憶體")
    // Combining accents take no column of their own.
    XCTAssertEqual(TextWrap.wrap("cafe\u{301} cafe\u{301}", width: 9), ["cafe\u{301} cafe\u{301}"])
  }

  /// A `spawn`-like table: numbers, then a state that is text.
  func processTable() -> Table {
    var t = Table(["PID", "PARENT", "CREATED", "RSS", "SHARED", "STATE"], rightAligned: [0, 1, 2, 3, 4])
    t.add(["11073", "11072", "6.20 ms", "12.5 MiB", "11.1 MiB", "S sleeping (waiting for an event)"])
    t.add([
      "11074", "11072", "5.90 ms", "12.4 MiB", "11.1 MiB", "Z zombie (ended, not yet reaped by its parent)",
    ])
    return t
  }

  /// A `cost`-like table: a long description and several numeric columns.
  func costTable() -> Table {
    var t = Table(
      ["what", "how one sample is made", "median per op", "p10 – p90", "fastest"], rightAligned: [2, 4])
    t.add(["thread", "pthread_create + pthread_join", "37.6 µs", "31.1 µs – 94.3 µs", "29.9 µs"])
    t.add(["fork", "fork + _exit + waitpid, small C parent", "165 µs", "148 µs – 248 µs", "145 µs"])
    t.short = [1: "", 2: "median", 4: "min"]
    return t
  }

  func testTablesFitEightyAndSixtyColumns() {
    for t in [processTable(), costTable()] {
      XCTAssertGreaterThan(Table.widestLine(t.lines), 80, "the natural table is wider than 80")
      for width in [80, 60] {
        let fitted = t.lines(fitting: width)
        XCTAssertTrue(
          fitted.allSatisfy { Style.width($0) <= width }, "at \(width):\n" + fitted.joined(separator: "\n"))
        // Every cell is still there, whole (a state may wrap in its column, at a space).
        let text = fitted.joined(separator: " ").split(separator: " ").joined(separator: " ")
        for row in t.rows {
          for cell in row {
            XCTAssertTrue(
              text.contains(cell.split(separator: " ").joined(separator: " ")), "\(cell) at \(width)")
          }
        }
      }
    }
  }

  func testATextColumnWrapsInItsColumnAndNumbersStayInTheirs() {
    let fitted = processTable().lines(fitting: 80)
    XCTAssertEqual(fitted[0], "    PID  PARENT  CREATED       RSS    SHARED  STATE")
    XCTAssertEqual(
      fitted[1], "  11073   11072  6.20 ms  12.5 MiB  11.1 MiB  S sleeping (waiting for an event)")
    XCTAssertEqual(
      fitted[2], "  11074   11072  5.90 ms  12.4 MiB  11.1 MiB  Z zombie (ended, not yet reaped by")
    XCTAssertEqual(fitted[3], String(repeating: " ", count: 46) + "its parent)")
    XCTAssertEqual(fitted.count, 4)
  }

  func testAWideTableShortensItsHeadingsThenMovesAColumnUnderItsRow() {
    let t = costTable()
    let at80 = t.lines(fitting: 80)
    XCTAssertTrue(
      at80[0].contains("median") && !at80[0].contains("median per op"), at80.joined(separator: "\n"))
    let at60 = t.lines(fitting: 60)
    XCTAssertFalse(at60[0].contains("how one sample"), at60.joined(separator: "\n"))
    XCTAssertTrue(
      at60.contains { $0.hasPrefix("    ") && $0.contains("fork + _exit + waitpid") },
      "the description moved under its row:\n" + at60.joined(separator: "\n"))
    XCTAssertTrue(
      at60.contains { $0.hasPrefix("  thread") && $0.contains("37.6 µs") }, at60.joined(separator: "\n"))
  }
}

extension Table {
  static func widestLine(_ lines: [String]) -> Int { lines.map(Style.width).max() ?? 0 }
}
