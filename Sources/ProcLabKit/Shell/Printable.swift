/// Text from outside the program (a typed word, a file's line) made safe to
/// print: control characters and bidirectional overrides are shown escaped, so a
/// file cannot move the cursor, set the title, write the clipboard or reorder a line.
public enum Printable {
  /// One word echoed in an error: escaped, and cut after 40 characters.
  public static func word(_ text: String) -> String { escape(text, limit: 40) }

  /// A whole line from a file (narration, a lesson's title): escaped, not cut.
  public static func line(_ text: String) -> String { escape(text, limit: nil) }

  /// Whether a scalar must be escaped: C0 and C1 controls, DEL, and the bidi overrides and isolates.
  public static func isUnsafe(_ scalar: Unicode.Scalar) -> Bool {
    let v = scalar.value
    return v < 0x20 || v == 0x7f || (0x80...0x9f).contains(v) || (0x202a...0x202e).contains(v)
      || (0x2066...0x2069).contains(v)
  }

  static func escape(_ text: String, limit: Int?) -> String {
    var out = ""
    var count = 0
    for scalar in text.unicodeScalars {
      if scalar.value < 0x20 || scalar.value == 0x7f {
        out += "\\x" + String(scalar.value, radix: 16)
      } else if isUnsafe(scalar) {
        // C1 controls (a terminal may read U+009B as an escape) and bidi overrides that reorder the line.
        out += "\\u{" + String(scalar.value, radix: 16) + "}"
      } else {
        out.unicodeScalars.append(scalar)
      }
      count += 1
      if let limit, count > limit { return out + "…" }
    }
    return out
  }
}
