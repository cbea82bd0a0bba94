/// Trimming blanks without Foundation: spaces and tabs (not newlines, which
/// never occur inside the lines proclab handles).
extension StringProtocol {
  /// The text without leading and trailing spaces and tabs.
  func trimmingBlanks() -> String {
    let isBlank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
    guard let first = firstIndex(where: { !isBlank($0) }) else { return "" }
    let last = lastIndex(where: { !isBlank($0) })!
    return String(self[first...last])
  }

  var isBlank: Bool { allSatisfy { $0 == " " || $0 == "\t" } }
}

extension String {
  func trimmingTrailingSpaces() -> String {
    var s = self
    while s.last == " " { s.removeLast() }
    return s
  }
}
