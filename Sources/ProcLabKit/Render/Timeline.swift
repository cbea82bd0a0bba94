/// A per-thread timeline: one row per thread, time running left to right,
/// each interval drawn with its own mark (`█` held, `░` waiting, `▒` running…).
/// ```
/// t1 41235 ████░░░░░░░░
/// t2 41236 ░░░░████░░░░
///          0 ms     12 ms
/// ```
public struct Timeline: Sendable {
  public struct Interval: Sendable {
    public var start: UInt64
    public var end: UInt64
    public var mark: Character
    public init(start: UInt64, end: UInt64, mark: Character) {
      self.start = start
      self.end = end
      self.mark = mark
    }
  }
  public struct Row: Sendable {
    public var label: String
    public var intervals: [Interval]
  }

  public var rows: [Row] = []
  public var width = 48
  public var legend: [(Character, String)] = []

  public init(width: Int = 48) { self.width = width }

  public mutating func add(_ label: String, _ intervals: [Interval]) {
    rows.append(Row(label: label, intervals: intervals))
  }

  /// The timeline at its natural width (what lessons and transcripts match).
  public var lines: [String] { lines(cells: width) }

  /// The timeline as it fits `columns`: fewer cells (never under 16), so each stands for
  /// more time; the labels stay whole. Nil: its natural width.
  public func lines(fitting columns: Int?) -> [String] {
    guard let columns else { return lines }
    let labelWidth = rows.map { Style.width($0.label) }.max() ?? 0
    let fitted = lines(cells: max(16, min(width, columns - 3 - labelWidth)))
    return TextWrap.wrap(fitted, width: columns)
  }

  func lines(cells width: Int) -> [String] {
    let all = rows.flatMap(\.intervals)
    guard let t0 = all.map(\.start).min(), let t1 = all.map(\.end).max(), t1 > t0 else {
      return rows.map { "  \($0.label)" }
    }
    let span = Double(t1 - t0)
    let labelWidth = rows.map { Style.width($0.label) }.max() ?? 0
    var out: [String] = []
    for row in rows {
      var cells = Array(repeating: Character("·"), count: width)
      // Longer intervals first so that short ones stay visible on top.
      for iv in row.intervals.sorted(by: { $0.end - $0.start > $1.end - $1.start }) {
        let a = Int(Double(iv.start - t0) / span * Double(width))
        var b = Int((Double(iv.end - t0) / span * Double(width)).rounded(.up))
        b = max(b, a + 1)
        for i in max(0, a)..<min(width, b) { cells[i] = iv.mark }
      }
      out.append("  " + Style.pad(row.label, labelWidth) + " " + String(cells))
    }
    let endLabel = Units.duration(.nanoseconds(Int64(t1 - t0)))
    let axis = "0" + String(repeating: " ", count: max(1, width - 1 - endLabel.count)) + endLabel
    out.append("  " + String(repeating: " ", count: labelWidth) + " " + Style.dim(axis))
    if !legend.isEmpty {
      out.append(
        "  " + String(repeating: " ", count: labelWidth) + " "
          + Style.dim(legend.map { "\($0.0) \($0.1)" }.joined(separator: "  ")))
    }
    return out
  }
}
