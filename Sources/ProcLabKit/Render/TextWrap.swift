/// Prose wrapped at word boundaries to a width in columns.
///
/// - A line keeps its own spacing where it is not broken; at a break the
///   spaces go and the next line starts at the continuation indent.
/// - A code span (`` `spawn 2 --hold 60` ``) is one unbreakable word, so a
///   command the learner should type is never split across two lines.
/// - Colour escapes take no columns; a word longer than a whole line (a path,
///   a long number list) is the only thing ever cut mid-word.
public enum TextWrap {
  /// Wraps each line; lines that fit are returned as they are.
  public static func wrap(_ lines: [String], width: Int?) -> [String] {
    guard let width else { return lines }
    return lines.flatMap { wrap($0, width: width) }
  }

  /// Wraps one line. `continuation` is put before every line after the first;
  /// by default it is the line's own indentation plus its list marker
  /// (`- `, `→ `, `A) `), so a bullet's text stays aligned.
  public static func wrap(_ line: String, width: Int?, continuation: String? = nil) -> [String] {
    guard let width, Style.width(line) > width else { return [line] }
    let hanging = continuation ?? hangingIndent(of: line)
    let indentWidth = min(Style.width(hanging), width / 2)
    let pieces = tokens(line)
    var out: [String] = []
    var current = ""
    var currentWidth = 0
    var startsLine = true
    for piece in pieces {
      let wordWidth = Style.width(piece.word)
      let gapWidth = startsLine ? 0 : piece.gap.count
      if !startsLine && currentWidth + gapWidth + wordWidth > width {
        out.append(current)
        current = String(hanging.prefix(indentWidth))
        currentWidth = indentWidth
        startsLine = true
      }
      if startsLine && out.isEmpty && current.isEmpty {
        // The line's own leading spaces belong to the first word.
        current = piece.gap
        currentWidth = piece.gap.count
      } else if !startsLine {
        current += piece.gap
        currentWidth += piece.gap.count
      }
      // A word wider than a whole line is cut into line-sized parts.
      var word = piece.word
      while currentWidth + Style.width(word) > width && Style.width(word) > width - indentWidth {
        let room = max(1, width - currentWidth)
        let (head, tail) = split(word, columns: room)
        out.append(current + head)
        current = String(hanging.prefix(indentWidth))
        currentWidth = indentWidth
        word = tail
      }
      current += word
      currentWidth += Style.width(word)
      startsLine = false
    }
    if !current.trimmingTrailingSpaces().isEmpty || out.isEmpty { out.append(current) }
    return out.map { $0.trimmingTrailingSpaces() }
  }

  /// The indentation that continues a line: leading spaces, then a list marker's width.
  static func hangingIndent(of line: String) -> String {
    let plain = Style.stripped(line)
    let lead = plain.prefix { $0 == " " }
    let rest = plain.dropFirst(lead.count)
    for marker in ["- ", "* ", "• ", "→ ", "· ", "✓ ", "✗ ", "> "] where rest.hasPrefix(marker) {
      return String(lead) + String(repeating: " ", count: marker.count)
    }
    // `A) choice`
    let chars = Array(rest.prefix(3))
    if chars.count == 3, chars[0].isUppercase, chars[1] == ")", chars[2] == " " {
      return String(lead) + "   "
    }
    return String(lead)
  }

  /// The words of a line, each with the spaces before it; a code span is one word.
  static func tokens(_ line: String) -> [(gap: String, word: String)] {
    var out: [(gap: String, word: String)] = []
    var gap = ""
    var word = ""
    var inCode = false
    var inEscape = false
    for ch in line {
      if inEscape {
        word.append(ch)
        if ch.isLetter { inEscape = false }
        continue
      }
      if ch == "\u{1B}" {
        inEscape = true
        word.append(ch)
        continue
      }
      if ch == "`" { inCode.toggle() }
      if ch == " " && !inCode {
        if !word.isEmpty {
          out.append((gap, word))
          gap = ""
          word = ""
        }
        gap.append(ch)
      } else {
        word.append(ch)
      }
    }
    if !word.isEmpty { out.append((gap, word)) }
    return out
  }

  /// The first `columns` visible characters of a word and the rest (escapes stay with their text).
  static func split(_ word: String, columns: Int) -> (String, String) {
    var head = ""
    var count = 0
    var inEscape = false
    var index = word.startIndex
    while index < word.endIndex {
      let ch = word[index]
      if inEscape {
        if ch.isLetter { inEscape = false }
      } else if ch == "\u{1B}" {
        inEscape = true
      } else {
        if count == columns { break }
        count += 1
      }
      head.append(ch)
      index = word.index(after: index)
    }
    return (head, String(word[index...]))
  }
}
