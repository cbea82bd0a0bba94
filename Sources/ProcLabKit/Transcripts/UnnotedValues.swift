/// Where a line holds a measured value the command did not note (`14.9 ms CPU in all,
/// 26.1% of it in the kernel`), which the recorder turns into an anonymous placeholder;
/// and the `{{…}}` and `\\{{` already in it, which it keeps.
///
/// The same matches as one regular expression with look-behinds,
/// `\\\{\{|\{\{.*?\}\}|(?<![\w.{])-?\d+(?:\.\d+)? ?(?:ns|µs|us|ms|s)(?![\w])|…`
/// (what `NSRegularExpression` ran; the tests compare the two): Swift's `Regex` has no
/// look-behind, so each alternative is tried at each position in order, the first that
/// matches wins (as in an alternation), and the character before it is checked here.
public enum UnnotedValues {
  /// The alternatives, in order, each with what may not stand just before it besides a
  /// word character (nil: anything may).
  // why: a Regex is a value never changed after it is built here, but it is not declared Sendable.
  nonisolated(unsafe) static let alternatives: [(regex: Regex<Substring>, notAfter: String?)] = [
    (#/\\\{\{/#, nil),  // an escaped `\{{`, kept
    (#/\{\{.*?\}\}/#, nil),  // a placeholder, kept
    (#/-?\d+(?:\.\d+)? ?(?:ns|µs|us|ms|s)(?!\w)/#, ".{"),  // a duration
    (#/-?\d+\.\d+(?!\w|\.\d)/#, ".{"),  // a decimal number (not a version 1.2.3)
    (#/\d+(?:\.\d+)?(?=×)/#, ".{"),  // a ratio
    (#/\d{7,}(?![\w.,])/#, ".{,"),  // seven digits or more
  ]

  /// The matches, left to right, not overlapping.
  public static func ranges(in line: String) -> [Range<String.Index>] {
    var found: [Range<String.Index>] = []
    var i = line.startIndex
    while i < line.endIndex {
      if let m = match(in: line, at: i), !m.isEmpty {
        found.append(m)
        i = m.upperBound
      } else {
        i = line.index(after: i)
      }
    }
    return found
  }

  /// The first alternative that matches at `i`, given what stands before `i`.
  static func match(in line: String, at i: String.Index) -> Range<String.Index>? {
    let first = line[i]
    // Every alternative begins with a digit, `-`, `{` or `\`.
    guard first.isNumber || first == "-" || first == "{" || first == "\\" else { return nil }
    let before = i > line.startIndex ? line[line.index(before: i)] : nil
    for (regex, notAfter) in alternatives {
      if let notAfter, let before, isWord(before) || notAfter.contains(before) { continue }
      if let m = line[i...].prefixMatch(of: regex) { return m.range }
    }
    return nil
  }

  /// `\w`: a letter, a digit or `_`.
  static func isWord(_ c: Character) -> Bool { c.isLetter || c.isNumber || c == "_" }
}
