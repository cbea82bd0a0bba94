/// Prose wrapped at word boundaries to a width in columns.
///
/// - A line keeps its own spacing where it is not broken; at a break the
///   spaces go and the next line starts at the continuation indent.
/// - A code span (`` `spawn 2 --hold 60` ``) is one unbreakable word, so a
///   command the learner should type is never split across two lines; nor is a
///   number split from its unit (`264 ms`, `16.0 MiB`) or from what it counts
///   (`2 voluntary switches`), nor `pid`/`fd` from its number.
/// - A line laid out as a term and its text (`  --hold SECONDS   children sleep…`,
///   `  cause       the store…`) goes on under the text, in its column.
/// - Colour escapes take no columns; a word longer than a whole line (a path,
///   a long number list) is the only thing ever cut mid-word, after a `/` or `,` where it can.
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
    let hanging = continuation ?? hangingIndent(of: line, width: width)
    let indentWidth = min(Style.width(hanging), width / 2)
    let pieces = tokens(line)
    var out: [String] = []
    var current = ""
    var currentWidth = 0
    var startsLine = true
    for piece in pieces {
      let wordWidth = Style.width(piece.word)
      let gapWidth = startsLine ? 0 : piece.gap.count
      // A word that will be cut anyway (wider than a whole line) starts here if some room is left.
      let cutAnyway = wordWidth > width - indentWidth && width - currentWidth - gapWidth >= 8
      if !startsLine && currentWidth + gapWidth + wordWidth > width && !cutAnyway {
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
        let (head, tail) = split(word, columns: room, anySeparator: currentWidth > indentWidth)
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

  /// The indentation that continues a line: leading spaces, then a list marker's width,
  /// or the column of a term's text (`termColumn`).
  static func hangingIndent(of line: String, width: Int = .max) -> String {
    let plain = Style.stripped(line)
    let lead = plain.prefix { $0 == " " }
    let rest = plain.dropFirst(lead.count)
    if let column = termColumn(plain), column <= width / 2 {
      return String(repeating: " ", count: column)
    }
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

  /// Where the text of an indented `term  text` line starts: the line begins with spaces, a
  /// term of a few words (single spaces), then two or more spaces and the text. Nil otherwise.
  static func termColumn(_ plain: String) -> Int? {
    let chars = Array(plain)
    var i = 0
    while i < chars.count && chars[i] == " " { i += 1 }
    guard i > 0, i < chars.count else { return nil }
    var column = i
    while i < chars.count {
      if chars[i] == " " && i + 1 < chars.count && chars[i + 1] == " " {
        var j = i
        while j < chars.count && chars[j] == " " { j += 1 }
        guard j < chars.count else { return nil }
        return column + (j - i)
      }
      column += DisplayWidth.columns(String(chars[i]))
      i += 1
    }
    return nil
  }

  /// The words of a line, each with the spaces before it; a code span is one word, a
  /// number keeps its unit (`264 ms` is one word) and the word it counts, `pid`/`fd`
  /// keep their number, and `name = value` stays whole.
  static func tokens(_ line: String) -> [(gap: String, word: String)] {
    var out: [(gap: String, word: String)] = []
    for piece in bracketGroups(rawTokens(line)) {
      if let last = out.last, piece.gap == " ",
        (isUnit(piece.word) && endsWithDigit(last.word))
          || (namesNumber(last.word) && startsWithDigit(piece.word))
          || (isCount(last.word) && startsWithLetter(piece.word))
          // `name = value` (a lesson's captured numbers) reads as one item.
          || piece.word == "=" || last.word == "=" || last.word.hasSuffix(" =")
      {
        out[out.count - 1].word = last.word + piece.gap + piece.word
      } else {
        out.append(piece)
      }
    }
    // A short number ending the line stays with the word before it (`exited 0`, `holds 0`).
    if out.count > 1, let last = out.last, last.gap == " ", Style.width(last.word) <= 3,
      Style.stripped(last.word).allSatisfy({ $0.isNumber || ".,;)".contains($0) })
    {
      out.removeLast()
      out[out.count - 1].word += last.gap + last.word
    }
    return out
  }

  /// A short bracketed group of a usage line (`[--impl KIND]`, `[--exec PROGRAM ARGS...]`)
  /// is one word: an option stays with its value.
  static func bracketGroups(_ raw: [(gap: String, word: String)]) -> [(gap: String, word: String)] {
    var out: [(gap: String, word: String)] = []
    var i = 0
    while i < raw.count {
      var piece = raw[i]
      if Style.stripped(piece.word).hasPrefix("["), !piece.word.contains("]") {
        var j = i + 1
        var group = piece.word
        while j < raw.count, raw[j].gap == " ", Style.width(group) < maxGroup {
          group += raw[j].gap + raw[j].word
          if raw[j].word.contains("]") { break }
          j += 1
        }
        if j < raw.count, group.contains("]"), Style.width(group) <= maxGroup {
          piece.word = group
          i = j
        }
      }
      out.append(piece)
      i += 1
    }
    return out
  }
  static let maxGroup = 32

  /// Units that follow a number in proclab's output (`Units`), with any punctuation after them.
  static let units: Set<String> = [
    "ns", "µs", "us", "ms", "s", "min", "h", "B", "KiB", "MiB", "GiB", "TiB", "kB", "KB", "MB", "GB",
    "%", "B/s", "KiB/s", "MiB/s", "GiB/s", "M/s", "ops/s", "bytes", "cores", "core", "×",
  ]

  static func isUnit(_ word: String) -> Bool {
    let plain = Style.stripped(word)
    let core = plain.prefix { !",;:.)]}".contains($0) }
    return units.contains(String(core))
  }

  /// Words a number belongs to (`pid 4711`, `fd 3`, `default 20`), kept on one line with it.
  static func namesNumber(_ word: String) -> Bool {
    let plain = Style.stripped(word).drop { $0 == "(" || $0 == "[" }
    return ["pid", "PID", "tid", "TID", "fd", "default"].contains(String(plain))
  }

  /// A bare number (`2`, `20,000`, `(3`) counts the word after it (`2 voluntary switches`,
  /// `sent 6 messages`): a line never ends on it when the text goes on.
  static func isCount(_ word: String) -> Bool {
    let plain = Style.stripped(word).drop { $0 == "(" }
    guard let first = plain.first, first.isNumber, let last = plain.last, last.isNumber else { return false }
    return plain.count <= 12 && plain.allSatisfy { $0.isNumber || $0 == "," || $0 == "." }
  }

  static func startsWithLetter(_ word: String) -> Bool {
    Style.stripped(word).first?.isLetter ?? false
  }

  static func startsWithDigit(_ word: String) -> Bool {
    Style.stripped(word).first?.isNumber ?? false
  }

  static func endsWithDigit(_ word: String) -> Bool {
    Style.stripped(word).last?.isNumber ?? false
  }

  /// The words of a line as written, each with the spaces before it; a code span is one word.
  static func rawTokens(_ line: String) -> [(gap: String, word: String)] {
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

  /// At most `columns` visible columns of a word and the rest (escapes stay with their text).
  /// The cut comes after the last `/`, `,` or `|` that leaves at least a quarter of the room
  /// used (any one, with `anySeparator`: the word began after other text on its line), so a
  /// path breaks between its parts where it can.
  static func split(_ word: String, columns: Int, anySeparator: Bool = false) -> (String, String) {
    var count = 0
    var inEscape = false
    var index = word.startIndex
    var lastSeparator: String.Index?
    while index < word.endIndex {
      let ch = word[index]
      if inEscape {
        if ch.isLetter { inEscape = false }
      } else if ch == "\u{1B}" {
        inEscape = true
      } else {
        let w = DisplayWidth.columns(String(ch))
        if count + w > columns && count > 0 { break }
        count += w
        if "/,|".contains(ch) && (anySeparator ? count >= 2 : count * 4 >= columns) {
          lastSeparator = word.index(after: index)
        }
      }
      index = word.index(after: index)
    }
    if index < word.endIndex, let cut = lastSeparator { index = cut }
    return (String(word[..<index]), String(word[index...]))
  }
}
