/// Aligned columns: a header and rows, numbers right-aligned.
///
/// A table too wide for the terminal adapts instead of wrapping (`lines(fitting:)`):
/// first its headings shorten (`short`); then its columns close up to one space apart
/// (when that is enough to fit); then a last column of text (a state, a
/// command line) wraps within its own column, if that leaves it room; then columns
/// move under their row, one at a time (`stackable`, or the widest first), each moved
/// cell labelled with its short heading. Only if that is still too wide are lines wrapped.
/// A command opts in with one line: `report.table(t)` instead of `report.lines(t.lines)`.
public struct Table: Sendable {
  public var headers: [String]
  public var rows: [[String]] = []
  /// Columns to right-align (numbers).
  public var rightAligned: Set<Int> = []
  public var indent = "  "
  /// Shorter headings for a narrow terminal, by column (`"switches"` for
  /// `"switches counted (voluntary + involuntary)"`); "" labels a moved cell with nothing.
  public var short: [Int: String] = [:]
  /// Columns that may move under their row, in the order they should; nil: the widest first.
  public var stackable: [Int]?
  /// Whether a last column of text may wrap within its column before any column moves.
  public var wrapsLastColumn = true

  public init(_ headers: [String], rightAligned: Set<Int> = []) {
    self.headers = headers
    self.rightAligned = rightAligned
  }

  public mutating func add(_ row: [String]) { rows.append(row) }

  var columnCount: Int { max(headers.count, rows.map(\.count).max() ?? 0) }

  /// The table at its natural width (what lessons and transcripts match).
  public var lines: [String] { render(headers: headers, columns: Array(0..<columnCount), stacked: []) }

  /// The table as it fits `width` columns (nil: its natural width).
  public func lines(fitting width: Int?) -> [String] {
    let natural = lines
    guard let width, Table.widest(natural) > width else { return natural }
    let shortHeaders = headers.indices.map { i in
      guard let s = short[i], !s.isEmpty else { return headers[i] }
      return s
    }
    let all = Array(0..<columnCount)
    let shortened = render(headers: shortHeaders, columns: all, stacked: [])
    if Table.widest(shortened) <= width { return shortened }
    let tight = render(headers: shortHeaders, columns: all, stacked: [], gap: " ")
    if Table.widest(tight) <= width { return tight }
    if let wrapped = wrappingLastColumn(headers: shortHeaders, width: width) { return wrapped }
    var moved: [Int] = []
    var best = shortened
    for column in stackOrder() {
      moved.append(column)
      best = render(
        headers: shortHeaders, columns: all.filter { !moved.contains($0) }, stacked: moved, width: width)
      if Table.widest(best) <= width { return best }
    }
    return TextWrap.wrap(best, width: width)
  }

  /// The table with its last column (left-aligned text) wrapped within that column, when the
  /// other columns fit and leave it at least 20 columns.
  func wrappingLastColumn(headers: [String], width: Int) -> [String]? {
    let last = columnCount - 1
    guard last > 0, !rightAligned.contains(last), wrapsLastColumn else { return nil }
    let all = Array(0..<columnCount)
    let widths = columnWidths(all, headers: headers)
    let before = Style.width(indent) + (0..<last).reduce(0) { $0 + widths[$1]! + 2 }
    let room = width - before
    guard room >= min(20, widths[last]!) else { return nil }
    var narrowed = self
    narrowed.headers = headers
    var continuations: [[String]] = []
    func cut(_ row: [String]) -> [String] {
      guard last < row.count else {
        continuations.append([])
        return row
      }
      let pieces = TextWrap.wrap(row[last], width: room, continuation: "")
      continuations.append(Array(pieces.dropFirst()))
      var r = row
      r[last] = pieces.first ?? ""
      return r
    }
    if !headers.isEmpty { narrowed.headers = cut(headers) }
    narrowed.rows = rows.map(cut)
    let drawn = narrowed.render(headers: narrowed.headers, columns: all, stacked: [])
    let pad = String(repeating: " ", count: before)
    var out: [String] = []
    for (line, more) in zip(drawn, continuations) {
      out.append(line)
      out += more.map { pad + $0 }
    }
    return out
  }

  /// Which columns move first: as declared, or the widest (never the first, which names the row).
  func stackOrder() -> [Int] {
    if let stackable { return stackable.filter { $0 > 0 && $0 < columnCount } }
    let widths = columnWidths(Array(0..<columnCount), headers: headers)
    let byWidth = (1..<max(1, columnCount)).sorted { a, b in
      (widths[a] ?? 0, b) > (widths[b] ?? 0, a)
    }
    // Keep at least one column beside the first.
    return Array(byWidth.dropLast(columnCount > 2 ? 1 : 0))
  }

  static func widest(_ lines: [String]) -> Int { lines.map(Style.width).max() ?? 0 }

  func columnWidths(_ columns: [Int], headers: [String]) -> [Int: Int] {
    var widths: [Int: Int] = [:]
    for c in columns {
      var w = c < headers.count ? Style.width(headers[c]) : 0
      for row in rows where c < row.count { w = max(w, Style.width(row[c])) }
      widths[c] = w
    }
    return widths
  }

  /// The rows with `columns` side by side, and the `stacked` cells of each row on a line beneath it.
  /// The moved cells share one line when it fits `width`, else each has its own.
  func render(headers: [String], columns: [Int], stacked: [Int], width: Int? = nil, gap: String = "  ")
    -> [String]
  {
    let widths = columnWidths(columns, headers: headers)
    func line(_ row: [String], header: Bool) -> String {
      var cells: [String] = []
      for (k, i) in columns.enumerated() {
        let cell = i < row.count ? row[i] : ""
        let last = k == columns.count - 1
        let padded =
          rightAligned.contains(i)
          ? Style.pad(cell, widths[i]!, right: true) : (last ? cell : Style.pad(cell, widths[i]!))
        cells.append(header ? Style.dim(padded) : padded)
      }
      return indent + cells.joined(separator: gap).trimmingTrailingSpaces()
    }
    var out: [String] = []
    if !headers.isEmpty { out.append(line(headers, header: true)) }
    for row in rows {
      out.append(line(row, header: false))
      let under = stacked.sorted().compactMap { i -> String? in
        guard i < row.count, !row[i].isEmpty else { return nil }
        let label = short[i] ?? (i < headers.count ? headers[i] : "")
        return label.isEmpty ? row[i] : Style.dim(label) + " " + row[i]
      }
      let joined = indent + "  " + under.joined(separator: "  ")
      if under.isEmpty { continue }
      if width.map({ Style.width(joined) <= $0 }) ?? true {
        out.append(joined)
      } else {
        out += under.map { indent + "  " + $0 }
      }
    }
    return out
  }
}

/// A table, bar chart or timeline inside a command's output lines, so the output can be
/// laid out again for a narrower terminal while the lines themselves (what lessons,
/// transcripts and `--json` read) stay at their natural width.
public struct TableBlock: Sendable {
  /// What the block draws, each able to fit a width.
  public enum Content: Sendable {
    case table(Table)
    case bars(BarChart)
    case timeline(Timeline)
    /// One line of prose whose wrapped lines go on under a column of its own
    /// (`usage: lock [--threads N] …` continues under the first option).
    case prose(String, continuation: String)
  }
  /// Index of the block's first line in the output lines.
  public var start: Int
  public var count: Int
  public var content: Content
  public init(start: Int, count: Int, table: Table) {
    self.init(start: start, count: count, content: .table(table))
  }
  public init(start: Int, count: Int, content: Content) {
    self.start = start
    self.count = count
    self.content = content
  }

  /// The table, if the block is one.
  public var table: Table? {
    if case .table(let t) = content { return t }
    return nil
  }

  /// The block as it fits `width` columns (nil: its natural width).
  public func lines(fitting width: Int?) -> [String] {
    switch content {
    case .table(let t): return t.lines(fitting: width)
    case .bars(let c): return c.lines(fitting: width)
    case .timeline(let t): return t.lines(fitting: width)
    case .prose(let line, let continuation):
      return TextWrap.wrap(line, width: width, continuation: continuation)
    }
  }
}
