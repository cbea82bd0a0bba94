import ProcLabKit
import XCTest

final class RenderTests: XCTestCase {
  override func setUp() { Style.enabled = false }

  func testDurationsCarryUnitsAndThreeSignificantDigits() {
    XCTAssertEqual(Units.duration(.nanoseconds(412)), "412 ns")
    XCTAssertEqual(Units.duration(.nanoseconds(12_400)), "12.4 µs")
    XCTAssertEqual(Units.duration(.microseconds(3_210)), "3.21 ms")
    XCTAssertEqual(Units.duration(.milliseconds(1_500)), "1.50 s")
    XCTAssertEqual(Units.bytes(65536), "64.0 KiB")
    XCTAssertEqual(Units.plural(1, "child", "children"), "1 child")
    XCTAssertEqual(Units.plural(3, "child", "children"), "3 children")
  }

  func testTablesAlignColumnsAndRightAlignNumbers() {
    var t = Table(["pid", "state"], rightAligned: [0])
    t.add(["7", "S"])
    t.add(["4312", "Z"])
    XCTAssertEqual(t.lines, ["   pid  state", "     7  S", "  4312  Z"])
  }

  func testTreesDrawBranches() {
    let tree = Tree("100 proclab", [Tree("101 child", [Tree("103 grandchild")]), Tree("102 child")])
    XCTAssertEqual(tree.lines, ["100 proclab", "├─ 101 child", "│  └─ 103 grandchild", "└─ 102 child"])
  }

  func testBarChartsScaleToTheLargestValue() {
    var chart = BarChart(width: 10)
    chart.add("thread", 1, "1 µs")
    chart.add("fork", 10, "10 µs")
    let lines = chart.lines
    XCTAssertEqual(lines[1], "  fork   ██████████ 10 µs")
    XCTAssertTrue(lines[0].hasPrefix("  thread █ "))
  }

  func testTimelinesPlaceIntervalsInTime() {
    var timeline = Timeline(width: 10)
    timeline.add("t1", [.init(start: 0, end: 5_000_000, mark: "█")])
    timeline.add("t2", [.init(start: 5_000_000, end: 10_000_000, mark: "█")])
    let lines = timeline.lines
    XCTAssertEqual(lines[0], "  t1 █████·····")
    XCTAssertEqual(lines[1], "  t2 ·····█████")
    XCTAssertTrue(lines[2].hasSuffix("10.0 ms"))
  }

  func testAnIntervalSweepCountsConcurrencyAndOverlapTime() {
    let sweep = IntervalSweep([(0, 10), (5, 15), (15, 20), (6, 8)])
    XCTAssertEqual(sweep.maxConcurrent, 3, "5–10 has three open; 15 is an end then a start")
    XCTAssertEqual(sweep.overlapTime, 5, "two or more were open from 5 to 10")
    XCTAssertEqual(IntervalSweep([(0, 5), (5, 9)]).maxConcurrent, 1, "touching is not overlapping")
  }

  func testColourIsOnlyAddedWhenEnabledAndStrippedForMatching() {
    XCTAssertEqual(Style.bold("x"), "x")
    Style.enabled = true
    defer { Style.enabled = false }
    XCTAssertEqual(Style.bold("x"), "\u{1B}[1mx\u{1B}[0m")
    XCTAssertEqual(Style.stripped(Style.red("lost")), "lost")
  }

  func testJSONKeepsKeyOrderAndRoundTrips() {
    let value: JSON = ["b": 1, "a": [true, .null, 2.5, "x\"y\n"], "c": ["n": -3]]
    XCTAssertEqual(value.serialized, #"{"b":1,"a":[true,null,2.5,"x\"y\n"],"c":{"n":-3}}"#)
    XCTAssertEqual(JSON.parse(value.serialized), value)
    XCTAssertNil(JSON.parse("{broken"))
    XCTAssertEqual(JSON.parse(#""\u00e9\ud83d\ude00""#), .string("é😀"))
  }
}
