/// Text operations the shell needs, on the standard library alone: what
/// `trimmingCharacters(in:)` did from Foundation, which proclab no longer links
/// (its international part, ICU and its data, was most of the binary's size; see
/// "Size" in PACKAGING.md).
///
/// The rest of Foundation's string API has a standard-library spelling already:
/// `replacingOccurrences(of:with:)` is `replacing(_:with:)`, `range(of:)` is
/// `firstRange(of:)`, `components(separatedBy:)` is
/// `split(separator:omittingEmptySubsequences: false)`; `NSRegularExpression` is `Regex`
/// where no look-behind is needed (`UnnotedValues` shows how without one).
extension StringProtocol {
  /// Without blanks at either end: spaces, tabs and the other Unicode spaces
  /// (Foundation's `.whitespaces`); with `newlines: true`, line breaks too
  /// (`.whitespacesAndNewlines`); with `blanks: false, newlines: true`, line breaks
  /// only (`.newlines`: a diff's indentation stays). Inner blanks stay.
  public func trimmed(blanks: Bool = true, newlines: Bool = false) -> String {
    let scalars = unicodeScalars
    let isBlank = { (s: Unicode.Scalar) in
      (blanks && TextCharacters.isBlank(s)) || (newlines && TextCharacters.isLineBreak(s))
    }
    guard let first = scalars.firstIndex(where: { !isBlank($0) }) else { return "" }
    let last = scalars.lastIndex(where: { !isBlank($0) })!
    var kept = String.UnicodeScalarView()
    kept.append(contentsOf: scalars[first...last])
    return String(kept)
  }
}

/// Which characters count as blanks and line breaks: exactly Foundation's sets (checked
/// against it over the Basic Multilingual Plane by the tests).
public enum TextCharacters {
  /// Tab, space, and the Unicode space separators (U+00A0, U+1680, U+2000–U+200A, U+202F,
  /// U+205F, U+3000), plus U+200B ZERO WIDTH SPACE, which Foundation's `.whitespaces` also holds.
  public static func isBlank(_ s: Unicode.Scalar) -> Bool {
    switch s.value {
    case 0x09, 0x20, 0xA0, 0x1680, 0x2000...0x200B, 0x202F, 0x205F, 0x3000: true
    default: false
    }
  }

  /// U+000A–U+000D, U+0085, U+2028 and U+2029: Foundation's `.newlines`.
  public static func isLineBreak(_ s: Unicode.Scalar) -> Bool {
    switch s.value {
    case 0x0A...0x0D, 0x85, 0x2028, 0x2029: true
    default: false
    }
  }
}
