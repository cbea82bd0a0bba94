/// One expected line (or a command line): literal text, runs of spaces, and placeholders.
///
/// A run of spaces matches a run of one or more spaces of any length, so a
/// table whose columns widen when a PID has one digit more still matches.
struct LinePattern: Sendable, Equatable {
  enum Segment: Sendable, Equatable {
    case literal([Character])
    case spaces
    case placeholder(Placeholder)
  }
  var segments: [Segment]
  /// The line as written (trailing spaces trimmed).
  var source: String
  var line: Int

  var placeholders: [Placeholder] {
    segments.compactMap { if case .placeholder(let p) = $0 { p } else { nil } }
  }
  var hasPlaceholders: Bool { !placeholders.isEmpty }

  /// The name of the first placeholder, if it is a capture or a reference: the
  /// "thread" a line belongs to in an unordered block (`[{{T1}}] …`).
  var tag: String? {
    for s in segments { if case .placeholder(let p) = s { return p.name } }
    return nil
  }

  /// Parses a line; `column` is the column of its first character in the file.
  init(_ text: String, file: String, line: Int, column: Int = 1) throws {
    self.source = LinePattern.trimTrailing(text)
    self.line = line
    var segments: [Segment] = []
    let chars = Array(source)
    var literal: [Character] = []
    func flush() {
      if !literal.isEmpty { segments.append(.literal(literal)) }
      literal = []
    }
    var i = 0
    while i < chars.count {
      let c = chars[i]
      if c == "\\" && i + 2 < chars.count && chars[i + 1] == "{" && chars[i + 2] == "{" {
        literal += ["{", "{"]
        i += 3
        continue
      }
      if c == "{" && i + 1 < chars.count && chars[i + 1] == "{" {
        var j = i + 2
        var close: Int?
        while j + 1 < chars.count {
          if chars[j] == "}" && chars[j + 1] == "}" {
            close = j
            break
          }
          j += 1
        }
        guard let close else {
          throw TranscriptError(
            file: file, line: line, column: column + i,
            message: "'{{' is not closed by '}}'; write \\{{ for a literal {{")
        }
        flush()
        let inner = String(chars[(i + 2)..<close])
        segments.append(
          .placeholder(try Placeholder.parse(inner, file: file, line: line, column: column + i)))
        i = close + 2
        continue
      }
      if c == " " || c == "\t" {
        flush()
        while i < chars.count && (chars[i] == " " || chars[i] == "\t") { i += 1 }
        segments.append(.spaces)
        continue
      }
      literal.append(c)
      i += 1
    }
    flush()
    self.segments = segments
  }

  static func trimTrailing(_ s: String) -> String {
    var s = Substring(s)
    while let last = s.last, last == " " || last == "\t" || last == "\r" { s = s.dropLast() }
    return String(s)
  }

  /// How far a failed match got, and what was expected there.
  struct Failure: Sendable {
    var column: Int
    var message: String
    /// A constraint or a reference failed (rather than plain text differing).
    var isValueProblem: Bool
  }

  /// Matches a whole actual line (ANSI escapes stripped, trailing spaces trimmed).
  func match(_ actual: String, captures: Captures) -> Result<Captures, FailureBox> {
    let chars = Array(LinePattern.trimTrailing(Style.stripped(actual)))
    var best = Failure(column: 0, message: "", isValueProblem: false)
    if let result = matchFrom(0, chars, 0, captures, &best) { return .success(result) }
    return .failure(FailureBox(best))
  }

  private func note(_ best: inout Failure, _ column: Int, _ message: String, value: Bool = false) {
    if column > best.column || (column == best.column && value && !best.isValueProblem)
      || best.message.isEmpty
    {
      best = Failure(column: column, message: message, isValueProblem: value)
    }
  }

  private func matchFrom(
    _ k: Int, _ s: [Character], _ i: Int, _ captures: Captures, _ best: inout Failure
  ) -> Captures? {
    if k == segments.count {
      if i == s.count { return captures }
      note(&best, i, "the line goes on: \"\(String(s[i...]))\" where the expected line ends")
      return nil
    }
    switch segments[k] {
    case .literal(let text):
      guard i + text.count <= s.count, Array(s[i..<(i + text.count)]) == text else {
        var same = 0
        while same < text.count && i + same < s.count && s[i + same] == text[same] { same += 1 }
        note(&best, i + same, "expected \"\(rest(from: k))\"")
        return nil
      }
      return matchFrom(k + 1, s, i + text.count, captures, &best)
    case .spaces:
      var j = i
      while j < s.count && (s[j] == " " || s[j] == "\t") { j += 1 }
      guard j > i else {
        note(&best, i, "expected a space")
        return nil
      }
      return matchFrom(k + 1, s, j, captures, &best)
    case .placeholder(let p):
      if case .reference(let name) = p.role {
        guard let value = captures[name] else {
          note(&best, i, "\(p.source) refers to a value that was never captured", value: true)
          return nil
        }
        let v = Array(value)
        guard i + v.count <= s.count, Array(s[i..<(i + v.count)]) == v else {
          let found = String(s[i...].prefix(max(v.count, 1)))
          note(
            &best, i, "\(p.source) must equal the captured \(name) = \(value), found \"\(found)\"",
            value: true)
          return nil
        }
        return matchFrom(k + 1, s, i + v.count, captures, &best)
      }
      let kind = p.kind!
      let ends = ValueScanner.candidates(kind, in: s, from: i)
      if ends.isEmpty {
        let found = i < s.count ? "\"\(String(s[i...].prefix(12)))\"" : "the end of the line"
        note(&best, i, "\(p.source) expected \(LinePattern.article(kind)), found \(found)")
        return nil
      }
      for end in ends {
        let text = String(s[i..<end])
        if let c = p.constraint {
          guard let x = ValueScanner.numericValue(text, kind: kind), c.accepts(x) else {
            note(&best, i, "\(p.source): \(text) is not \(c.source)", value: true)
            continue
          }
        }
        var next = captures
        if case .capture(let name) = p.role { next.set(name, text, kind: kind) }
        if let done = matchFrom(k + 1, s, end, next, &best) { return done }
      }
      return nil
    }
  }

  /// The pattern from segment `k` on, as written (for "expected …" messages).
  func rest(from k: Int) -> String {
    var out = ""
    for segment in segments[k...] {
      switch segment {
      case .literal(let chars): out += String(chars)
      case .spaces: out += " "
      case .placeholder(let p): out += p.source
      }
      if out.count > 40 { return String(out.prefix(40)) + "…" }
    }
    return out
  }

  static func article(_ kind: Variable.Kind) -> String {
    switch kind {
    case .int: "a whole number"
    case .float: "a number"
    case .duration: "a duration (like 12.4 µs)"
    case .pid: "a PID"
    case .tid: "a thread ID"
    case .addr: "an address (0x…)"
    case .word: "a word"
    case .text: "some text"
    }
  }
}

/// A line failure, boxed so it can be a Result's error.
struct FailureBox: Error, Sendable {
  var failure: LinePattern.Failure
  init(_ f: LinePattern.Failure) { failure = f }
}
