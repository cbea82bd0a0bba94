/// Aligned columns: a header and rows, numbers right-aligned.
public struct Table {
  public var headers: [String]
  public var rows: [[String]] = []
  /// Columns to right-align (numbers).
  public var rightAligned: Set<Int> = []
  public var indent = "  "

  public init(_ headers: [String], rightAligned: Set<Int> = []) {
    self.headers = headers
    self.rightAligned = rightAligned
  }

  public mutating func add(_ row: [String]) { rows.append(row) }

  public var lines: [String] {
    let columns = max(headers.count, rows.map(\.count).max() ?? 0)
    var widths = Array(repeating: 0, count: columns)
    for row in [headers] + rows {
      for (i, cell) in row.enumerated() { widths[i] = max(widths[i], Style.width(cell)) }
    }
    func render(_ row: [String], header: Bool) -> String {
      var cells: [String] = []
      for i in 0..<columns {
        let cell = i < row.count ? row[i] : ""
        let last = i == columns - 1
        let padded =
          rightAligned.contains(i)
          ? Style.pad(cell, widths[i], right: true) : (last ? cell : Style.pad(cell, widths[i]))
        cells.append(header ? Style.dim(padded) : padded)
      }
      return indent + cells.joined(separator: "  ").trimmingTrailingSpaces()
    }
    var out: [String] = []
    if !headers.isEmpty { out.append(render(headers, header: true)) }
    out += rows.map { render($0, header: false) }
    return out
  }
}

extension String {
  func trimmingTrailingSpaces() -> String {
    var s = self
    while s.last == " " { s.removeLast() }
    return s
  }
}
