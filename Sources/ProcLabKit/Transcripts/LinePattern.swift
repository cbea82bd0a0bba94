/// One expected line (or a command line): literal text, runs of spaces, and placeholders.
///
/// A run of spaces matches a run of one or more spaces of any length, so a
/// table whose columns widen when a PID has one digit more still matches.
struct LinePattern: Sendable, Equatable {
  enum Segment: Sendable, Equatable {
    case literal([Character])
    /// A run of spaces (as written, so a command replays as it was typed).
    case spaces(String)
    case placeholder(Placeholder)
  }
  var segments: [Segment]
  /// For each segment, the names captured earlier in this line that it or a later segment
  /// refers to: the only captures a failed state's outcome depends on (see `LineMatcher`).
  private(set) var live: [[String]] = []
  /// For each segment, the capturing segments before it whose value a segment at or after it
  /// refers to (the last capture of each such name): their columns key a failed state.
  private(set) var liveSegments: [[Int]] = []
  /// Whether a capturing segment's value is referred to later in the line.
  private(set) var captureIsLive: [Bool] = []
  /// The line as written (trailing spaces trimmed).
  var source: String
  var line: Int

  var placeholders: [Placeholder] {
    segments.compactMap { if case .placeholder(let p) = $0 { p } else { nil } }
  }
  var hasPlaceholders: Bool { !placeholders.isEmpty }

  /// A bound or a list of choices written on this line: knowledge `--update` must not drop.
  var hasConstraints: Bool { placeholders.contains { $0.constraint != nil || $0.choices != nil } }

  /// The line with its bounds and choices removed: what it would match if only its
  /// constraints were wrong (`--update` finds the line a violated constraint is about).
  func loosened() -> LinePattern {
    var copy = self
    copy.segments = segments.map { segment in
      guard case .placeholder(var p) = segment else { return segment }
      p.constraint = nil
      p.choices = nil
      return .placeholder(p)
    }
    return copy
  }

  /// The name of the first placeholder, if it is a capture or a reference: the
  /// "thread" a line belongs to in an unordered block (`[{{T1}}] …`).
  var tag: String? {
    for s in segments { if case .placeholder(let p) = s { return p.name } }
    return nil
  }

  /// Parses a line; `column` is the column of its first character in the file.
  init(_ text: String, file: String, line: Int, column: Int = 1) throws {
    self.source = LinePattern.trimTrailing(LinePattern.withoutColour(text))
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
        let from = i
        while i < chars.count && (chars[i] == " " || chars[i] == "\t") { i += 1 }
        segments.append(.spaces(String(chars[from..<i])))
        continue
      }
      literal.append(c)
      i += 1
    }
    flush()
    self.segments = segments
    guard let live = LinePattern.liveCaptures(segments) else {
      throw TranscriptError(
        file: file, line: line, column: column,
        message:
          "this line refers back to more than \(LinePattern.maxLiveCaptures) values captured on the same line; split it or use {{:KIND}}"
      )
    }
    (self.live, self.liveSegments, self.captureIsLive) = live
  }

  /// A line may hold any number of placeholders, but at most this many values captured on it
  /// that it refers to again later on it (each is part of every failed state's key).
  static let maxLiveCaptures = 64

  /// One sweep over the segments: for each segment, the names captured before it on this line
  /// that it or a later segment refers to, and where they were captured. Nil when too many.
  static func liveCaptures(_ segments: [Segment]) -> ([[String]], [[Int]], [Bool])? {
    var lastReference: [String: Int] = [:]
    for (k, segment) in segments.enumerated() {
      if case .placeholder(let p) = segment, case .reference(let name) = p.role { lastReference[name] = k }
    }
    var open: [String: Int] = [:]
    var names: [[String]] = []
    var slots: [[Int]] = []
    var isLive = Array(repeating: false, count: segments.count)
    for k in 0...segments.count {
      if !open.isEmpty { open = open.filter { (lastReference[$0.key] ?? -1) >= k } }
      if open.count > maxLiveCaptures { return nil }
      let sorted = open.keys.sorted()
      names.append(sorted)
      slots.append(sorted.map { open[$0]! })
      if k < segments.count, case .placeholder(let p) = segments[k], case .capture(let name) = p.role,
        (lastReference[name] ?? -1) > k
      {
        open[name] = k
        isLive[k] = true
      }
    }
    return (names, slots, isLive)
  }

  /// The line without SGR colour sequences (`ESC [ 2 m` … `ESC [ 0 m`): output is compared
  /// without them, so an expected line recorded with colour (an older recorder's) still
  /// matches. Any other control character stays, to be matched and shown escaped.
  static func withoutColour(_ s: String) -> String {
    guard s.contains("\u{1B}[") else { return s }
    let scalars = Array(s.unicodeScalars)
    var out = String.UnicodeScalarView()
    var i = 0
    while i < scalars.count {
      if scalars[i] == "\u{1B}", i + 1 < scalars.count, scalars[i + 1] == "[" {
        var j = i + 2
        while j < scalars.count, ("0"..."9").contains(scalars[j]) || scalars[j] == ";" { j += 1 }
        if j < scalars.count, scalars[j] == "m" {
          i = j + 1
          continue
        }
      }
      out.append(scalars[i])
      i += 1
    }
    return String(out)
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

  /// Matches a whole actual line (ANSI escapes stripped, trailing spaces trimmed),
  /// without recursion and within `budget` (see `LineMatcher`).
  func match(_ actual: String, captures: Captures, budget: MatchBudget = MatchBudget())
    -> Result<Captures, FailureBox>
  {
    let text = LinePattern.trimTrailing(Style.stripped(actual))
    let matcher = LineMatcher(pattern: self, text: text, budget: budget)
    if let result = matcher.run(captures) { return .success(result) }
    return .failure(FailureBox(matcher.failure()))
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

  /// The line as a reader should see it: known values filled in, every other placeholder as
  /// `…`, runs of spaces as written (for a learner, who never sees `{{…}}`).
  func shown(with captures: Captures) -> String {
    var out = ""
    for segment in segments {
      switch segment {
      case .literal(let chars): out += String(chars)
      case .spaces(let run): out += run
      case .placeholder(let p):
        if case .reference(let name) = p.role, let value = captures[name] {
          out += value
        } else if let choices = p.choices, choices.count == 1 {
          out += choices[0]
        } else if !out.hasSuffix("…") {
          out += "…"
        }
      }
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
