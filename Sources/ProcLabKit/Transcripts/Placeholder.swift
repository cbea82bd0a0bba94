/// One `{{…}}` in a transcript: a capture (`{{A:pid}}`), a back-reference
/// (`{{A}}`), or an anonymous value (`{{:duration <50ms}}`), with an optional
/// numeric constraint.
struct Placeholder: Sendable, Equatable {
  enum Role: Sendable, Equatable {
    /// `{{NAME:KIND}}`: matches a value of the kind and remembers it.
    case capture(String)
    /// `{{NAME}}`: must equal the value captured earlier.
    case reference(String)
    /// `{{:KIND}}`: matches a value of the kind without remembering it.
    case anonymous
  }
  var role: Role
  var kind: Variable.Kind?
  var constraint: Constraint?
  /// `{{:word S|R|D}}`, `{{:text Z zombie|S sleeping}}`: the value must be one of these.
  var choices: [String]?
  /// As written, for reports.
  var source: String

  var name: String? {
    switch role {
    case .capture(let n), .reference(let n): n
    case .anonymous: nil
    }
  }

  /// Parses the inside of `{{…}}`; `column` is where the `{{` starts (for errors).
  static func parse(_ inner: String, file: String, line: Int, column: Int) throws -> Placeholder {
    func fail(_ message: String) -> TranscriptError {
      TranscriptError(file: file, line: line, column: column, message: message)
    }
    let source = "{{" + inner + "}}"
    let trimmed = inner.trimmed()
    guard let colon = trimmed.firstIndex(of: ":") else {
      guard isName(trimmed) else {
        throw fail(
          "expected a placeholder like {{NAME:KIND}}, {{NAME}} or {{:KIND}}, found \(Printable.word(source)); write \\{{ for a literal {{"
        )
      }
      return Placeholder(role: .reference(trimmed), kind: nil, constraint: nil, source: source)
    }
    let name = String(trimmed[..<colon])
    let spec = trimmed[trimmed.index(after: colon)...].trimmed()
    if !name.isEmpty && !isName(name) {
      throw fail(
        "placeholder name '\(Printable.word(name))' must be letters, digits or _ (starting with a letter or _)"
      )
    }
    let kindWord = String(spec.prefix { !$0.isWhitespace })
    guard let kind = Variable.Kind(rawValue: kindWord) else {
      // `{{n:int>0}}`: a kind run together with its constraint.
      if let known = Variable.Kind.allCases.first(where: {
        kindWord.hasPrefix($0.rawValue) && kindWord.count > $0.rawValue.count
          && "<>=.0123456789-".contains(kindWord.dropFirst($0.rawValue.count).first!)
      }) {
        let rest = spec.dropFirst(known.rawValue.count)
        throw fail(
          "unknown placeholder kind '\(Printable.word(kindWord))' in \(Printable.word(source)): a space is missing between the kind and its constraint; write {{\(name):\(known.rawValue) \(rest)}}"
        )
      }
      throw fail(
        "unknown placeholder kind '\(Printable.word(kindWord))' in \(Printable.word(source)); kinds: "
          + Variable.Kind.allCases.map(\.rawValue).joined(separator: ", "))
    }
    let constraintText = spec.dropFirst(kindWord.count).trimmed()
    var placeholder = Placeholder(
      role: name.isEmpty ? .anonymous : .capture(name), kind: kind, constraint: nil, source: source)
    if constraintText.isEmpty { return placeholder }
    switch kind {
    case .int, .float, .duration:
      do { placeholder.constraint = try Constraint.parse(constraintText, kind: kind) } catch let message
        as ConstraintSyntax
      {
        throw fail("\(message.text) in \(Printable.word(source))")
      }
    case .word, .text:
      let choices = constraintText.split(separator: "|", omittingEmptySubsequences: false).map {
        $0.trimmed()
      }
      if choices.contains(where: \.isEmpty) {
        throw fail(
          "an empty choice in \(Printable.word(source)); list the values it may take: {{:word S|R|D}}")
      }
      if kind == .word, let spaced = choices.first(where: { $0.contains(where: \.isWhitespace) }) {
        throw fail(
          "the choice '\(Printable.word(spaced))' in \(Printable.word(source)) has a space, which a word cannot; use {{:text …}}"
        )
      }
      placeholder.choices = choices
    case .pid, .tid, .addr:
      throw fail(
        "only int, float and duration placeholders take a range, and word and text a list of choices (S|R); \(Printable.word(source)) has '\(Printable.word(constraintText))'"
      )
    }
    return placeholder
  }

  static func isName(_ s: String) -> Bool {
    guard let first = s.first, first.isLetter || first == "_" else { return false }
    return s.allSatisfy { ($0.isLetter || $0.isNumber || $0 == "_") && $0.isASCII }
  }
}

struct ConstraintSyntax: Error { let text: String }

/// A bound on a number: `1..4`, `<50ms`, `>=2`, `1ms..2s`.
struct Constraint: Sendable, Equatable {
  var lower: Double?
  var lowerInclusive = true
  var upper: Double?
  var upperInclusive = true
  var source: String

  func accepts(_ x: Double) -> Bool {
    if let lower, lowerInclusive ? x < lower : x <= lower { return false }
    if let upper, upperInclusive ? x > upper : x >= upper { return false }
    return true
  }

  static func parse(_ text: String, kind: Variable.Kind) throws -> Constraint {
    func number(_ s: Substring) throws -> Double {
      let s = s.trimmed()
      if kind == .duration {
        guard let d = ValueScanner.durationSeconds(s, requireUnit: true) else {
          throw ConstraintSyntax(text: "expected a duration with a unit (50ms, 1.5 s, 12 µs), found '\(s)'")
        }
        return d
      }
      // `{{p:float <50%}}`: a percentage bound, as a float matches `31.4%`.
      let digits = kind == .float && s.hasSuffix("%") ? String(s.dropLast()) : s
      guard let x = Double(digits), x.isFinite else {
        throw ConstraintSyntax(text: "expected a number, found '\(s)'")
      }
      if kind == .int && x != x.rounded() {
        throw ConstraintSyntax(text: "expected a whole number, found '\(s)'")
      }
      return x
    }
    var c = Constraint(source: text)
    if let range = text.firstRange(of: "..") {
      let lo = text[..<range.lowerBound]
      let hi = text[range.upperBound...]
      if !lo.trimmed().isEmpty { c.lower = try number(lo) }
      if !hi.trimmed().isEmpty { c.upper = try number(hi) }
      if c.lower == nil && c.upper == nil { throw ConstraintSyntax(text: "a range needs a bound: 1..4") }
      if let l = c.lower, let u = c.upper, l > u {
        throw ConstraintSyntax(text: "the range \(text) is empty (lower bound above upper)")
      }
      return c
    }
    for (op, lower, inclusive) in [
      ("<=", false, true), (">=", true, true), ("<", false, false), (">", true, false),
    ] {
      if text.hasPrefix(op) {
        let x = try number(text.dropFirst(op.count))
        if lower {
          c.lower = x
          c.lowerInclusive = inclusive
        } else {
          c.upper = x
          c.upperInclusive = inclusive
        }
        return c
      }
    }
    throw ConstraintSyntax(text: "expected a constraint like 1..4, <50ms, >2, <=10, found '\(text)'")
  }
}

/// The possible ends of a value at one position, most preferred first; lazy,
/// so that `{{:text}}` on a long line does not build an array per position.
enum Candidates {
  case none
  case list([Int])
  /// `from`, `from - 1`, … down to `to` (a word, longest first).
  case descending(from: Int, to: Int)
  /// `from`, `from + 1`, … up to `to` (text, shortest first).
  case ascending(from: Int, to: Int)

  var count: Int {
    switch self {
    case .none: 0
    case .list(let l): l.count
    case .descending(let a, let b): a - b + 1
    case .ascending(let a, let b): b - a + 1
    }
  }

  subscript(index: Int) -> Int {
    switch self {
    case .none: fatalError("no candidates")
    case .list(let l): l[index]
    case .descending(let a, _): a - index
    case .ascending(let a, _): a + index
    }
  }
}

/// Finds values of each kind at a position in a line.
enum ValueScanner {
  /// The ends of the candidate values of `kind` starting at `start`, most preferred first.
  static func candidates(_ kind: Variable.Kind, in s: [Character], from start: Int) -> Candidates {
    let n = s.count
    func digits(from i: Int) -> Int {
      var j = i
      while j < n, s[j].isASCII, s[j].isNumber { j += 1 }
      return j
    }
    switch kind {
    case .pid, .tid:
      let end = digits(from: start)
      return end > start ? .list([end]) : .none
    case .int:
      var i = start
      if i < n && s[i] == "-" { i += 1 }
      let end = digits(from: i)
      guard end > i else { return .none }
      // `20,000,000` as the shell prints large counts; the plain digits as a fallback.
      var grouped = end
      if end - i <= 3 {
        while grouped + 3 < n, s[grouped] == ",", digits(from: grouped + 1) == grouped + 4 { grouped += 4 }
      }
      return grouped > end ? .list([grouped, end]) : .list([end])
    case .float:
      guard let end = decimal(s, start) else { return .none }
      // A percentage (`31.4%`, as Units.percent prints it) is a float too.
      return end < n && s[end] == "%" ? .list([end + 1, end]) : .list([end])
    case .duration:
      guard let numberEnd = decimal(s, start) else { return .none }
      var i = numberEnd
      if i < n && s[i] == " " { i += 1 }
      for unit in durationUnits {
        if i + unit.count <= n && s[i..<(i + unit.count)].elementsEqual(unit) {
          let end = i + unit.count
          // `12 ms` must not match the start of `12 msgs`.
          if end < n && s[end].isLetter { continue }
          return .list([end])
        }
      }
      return .none
    case .addr:
      guard start + 2 < n, s[start] == "0", s[start + 1] == "x" || s[start + 1] == "X" else { return .none }
      var j = start + 2
      while j < n, s[j].isHexDigit { j += 1 }
      return j > start + 2 ? .list([j]) : .none
    case .word:
      var j = start
      while j < n, !s[j].isWhitespace { j += 1 }
      // Longest first; shorter words let the text after the placeholder match (`({{w:word}})`).
      return j > start ? .descending(from: j, to: start + 1) : .none
    case .text:
      // Lazily: the shortest text that lets the rest of the line match.
      return .ascending(from: start, to: n)
    }
  }

  static let durationUnits: [[Character]] = ["ns", "µs", "us", "ms", "s", "min"].map(Array.init)
  static let sizeUnits: [[Character]] = ["B", "KiB", "MiB", "GiB", "TiB"].map(Array.init)

  /// The unit (of a duration or a size) that starts at `start` and ends a word there, if any.
  static func unit(in s: [Character], at start: Int) -> [Character]? {
    for unit in durationUnits + sizeUnits where start + unit.count <= s.count {
      let end = start + unit.count
      if s[start..<end].elementsEqual(unit) && (end == s.count || !(s[end].isLetter || s[end].isNumber)) {
        return unit
      }
    }
    return nil
  }

  /// The ends of `choices` found at `start`, longest first (a word's choice must end the word).
  static func choiceEnds(_ choices: [String], kind: Variable.Kind, in s: [Character], from start: Int)
    -> Candidates
  {
    var ends: [Int] = []
    for choice in choices {
      let c = Array(choice)
      let end = start + c.count
      guard end <= s.count, s[start..<end].elementsEqual(c) else { continue }
      if kind == .word && end < s.count && !s[end].isWhitespace && end > start {
        // A word may stop before punctuation (`(S)`), not inside letters or digits (`Sx`).
        if s[end].isLetter || s[end].isNumber { continue }
      }
      if !ends.contains(end) { ends.append(end) }
    }
    return ends.isEmpty ? .none : .list(ends.sorted(by: >))
  }

  /// `-12`, `3.5`, `0.25`: the end of a decimal number at `start`.
  static func decimal(_ s: [Character], _ start: Int) -> Int? {
    let n = s.count
    var i = start
    if i < n && s[i] == "-" { i += 1 }
    let intStart = i
    while i < n, s[i].isASCII, s[i].isNumber { i += 1 }
    guard i > intStart else { return nil }
    if i + 1 < n, s[i] == ".", s[i + 1].isASCII, s[i + 1].isNumber {
      i += 1
      while i < n, s[i].isASCII, s[i].isNumber { i += 1 }
    }
    return i
  }

  /// The numeric value of a matched value, for constraints (durations in seconds).
  static func numericValue(_ text: String, kind: Variable.Kind) -> Double? {
    kind == .duration
      ? durationSeconds(text, requireUnit: true)
      : Double(text.replacing(",", with: "").replacing("%", with: ""))
  }

  /// `12.4 µs`, `50ms`, `1.5 s`, `412 ns` in seconds.
  static func durationSeconds(_ text: String, requireUnit: Bool) -> Double? {
    let t = text.trimmed()
    let numberPart = t.prefix { $0.isNumber || $0 == "." || $0 == "-" }
    guard let x = Double(numberPart) else { return nil }
    let unit = t.dropFirst(numberPart.count).trimmed()
    switch unit {
    case "ns": return x / 1e9
    case "µs", "us": return x / 1e6
    case "ms": return x / 1e3
    case "s": return x
    case "min": return x * 60
    case "": return requireUnit ? nil : x
    default: return nil
    }
  }
}
