/// The expected lines below one command: line patterns, `...` (skip any number
/// of lines), unordered blocks (lines between `~~~ any order` and `~~~` that
/// may come in any order; lines tagged with the same capture keep their order),
/// and `[error]` (the command is expected to fail, whatever its error says).
public struct ExpectedOutput: Sendable {
  enum Element: Sendable {
    case line(LinePattern)
    case skip(line: Int)
    case unordered([LinePattern], line: Int)

    var fileLine: Int {
      switch self {
      case .line(let p): p.line
      case .skip(let l): l
      case .unordered(_, let l): l
      }
    }
    var patterns: [LinePattern] {
      switch self {
      case .line(let p): [p]
      case .skip: []
      case .unordered(let ps, _): ps
      }
    }
  }

  static let skipMarker = "..."
  static let unorderedOpen = "~~~ any order"
  static let blockClose = "~~~"
  /// A line of its own saying the command fails (like cram's `[1]`): its error line may then
  /// be covered by `...`. Without it, a failing command matches only an error line written out.
  public static let failureMarker = "[error]"

  var elements: [Element]
  /// The lines as written (for `--update` and reports).
  public let lines: [String]
  public let firstLine: Int
  let file: String
  /// `[error]` is written: the command must fail.
  public private(set) var expectsFailure = false
  /// The file line of `[error]`, if written.
  public private(set) var failureMarkerLine: Int?

  /// Parses the expected lines; `firstLine` is the file line of `lines[0]`.
  public init(lines: [String], file: String, firstLine: Int) throws {
    self.lines = lines
    self.firstLine = firstLine
    self.file = file
    var elements: [Element] = []
    var block: [LinePattern]?
    var blockLine = 0
    var capturedAt: [String: Int] = [:]
    for (offset, raw) in lines.enumerated() {
      let lineNumber = firstLine + offset
      let trimmed = LinePattern.trimTrailing(raw)
      let bare = trimmed.trimmed()
      if bare.hasPrefix("~~~") {
        if block == nil {
          guard bare.lowercased().replacing(" ", with: "") == "~~~anyorder" else {
            throw TranscriptError(
              file: file, line: lineNumber, column: 1,
              message:
                "expected '\(ExpectedOutput.unorderedOpen)' to open an unordered block, found '\(Printable.word(bare))'"
            )
          }
          block = []
          blockLine = lineNumber
        } else {
          guard bare == ExpectedOutput.blockClose else {
            throw TranscriptError(
              file: file, line: lineNumber, column: 1,
              message:
                "expected '~~~' to close the unordered block opened on line \(blockLine), found '\(Printable.word(bare))'"
            )
          }
          if block!.isEmpty {
            throw TranscriptError(
              file: file, line: blockLine, column: 1,
              message: "the unordered block is empty; give it lines or remove it")
          }
          elements.append(.unordered(block!, line: blockLine))
          block = nil
        }
        continue
      }
      if bare == ExpectedOutput.skipMarker && trimmed == bare {
        if block != nil {
          throw TranscriptError(
            file: file, line: lineNumber, column: 1,
            message:
              "'...' cannot be inside an unordered block (opened on line \(blockLine)); close the block first"
          )
        }
        if case .skip = elements.last {} else { elements.append(.skip(line: lineNumber)) }
        continue
      }
      if trimmed == ExpectedOutput.failureMarker {
        if block != nil {
          throw TranscriptError(
            file: file, line: lineNumber, column: 1,
            message:
              "'[error]' cannot be inside an unordered block; put it on a line of its own after the block")
        }
        if let earlier = failureMarkerLine {
          throw TranscriptError(
            file: file, line: lineNumber, column: 1,
            message: "'[error]' is already written on line \(earlier); once per command is enough")
        }
        expectsFailure = true
        failureMarkerLine = lineNumber
        continue
      }
      // `\...`, `\~~~`, `\#`, `\proclab> `, `\[error]`: output lines that would otherwise be markup.
      var text = trimmed
      if text.hasPrefix("\\"),
        ["...", "~~~", "#", "proclab>", ExpectedOutput.failureMarker].contains(where: {
          text.dropFirst().hasPrefix($0)
        })
      {
        text.removeFirst()
      }
      let pattern = try LinePattern(text, file: file, line: lineNumber)
      for p in pattern.placeholders {
        guard case .capture(let name) = p.role else { continue }
        if let earlier = capturedAt[name] {
          let column =
            1
            + (trimmed.firstRange(of: p.source).map {
              trimmed.distance(from: trimmed.startIndex, to: $0.lowerBound)
            } ?? 0)
          throw TranscriptError(
            file: file, line: lineNumber, column: column,
            message:
              "\(p.source) captures \(name) again; it is already captured on line \(earlier) of this command's output: write {{\(name)}} to refer to that value, or use another name"
          )
        }
        capturedAt[name] = lineNumber
      }
      if block != nil { block!.append(pattern) } else { elements.append(.line(pattern)) }
    }
    if block != nil {
      throw TranscriptError(
        file: file, line: blockLine, column: 1,
        message: "the unordered block opened here is not closed; expected a line '~~~'")
    }
    self.elements = elements
  }

  /// Every placeholder, in order (for checking references against captures).
  var placeholders: [Placeholder] { elements.flatMap { $0.patterns.flatMap(\.placeholders) } }

  /// Matches the actual output lines. Nil when they match (and `captures` has
  /// gained the new values); otherwise a mismatch that says where they part.
  public func match(_ actual: [String], captures: inout Captures) -> Mismatch? {
    switch match(actual, captures: captures) {
    case .matched(let c, _):
      captures = c
      return nil
    case .mismatch(let m): return m
    }
  }

  /// How each output line was matched: by a line written out, or inside a `...`.
  public enum Coverage: Sendable, Equatable { case written, skipped }

  public enum MatchResult: Sendable {
    case matched(Captures, coverage: [Coverage])
    case mismatch(Mismatch)
  }

  /// Matches, saying for each actual line how it was covered (a failing command's error line
  /// must be written out); bounded by `budget` (default: proportional to the output).
  public func match(_ actual: [String], captures: Captures, budget: MatchBudget? = nil) -> MatchResult {
    let actual = actual.map { LinePattern.trimTrailing(Style.stripped($0)) }
    let budget = budget ?? MatchBudget.forOutput(characters: actual.reduce(0) { $0 + $1.count })
    let matcher = OutputMatcher(output: self, actual: actual, budget: budget)
    if let (result, coverage) = matcher.run(captures) { return .matched(result, coverage: coverage) }
    return .mismatch(report(matcher.furthest(), actual: actual, budget: budget))
  }

  /// After a mismatch: the captures of every expected line that matches some actual line, in order.
  func salvage(_ actual: [String], captures: Captures) -> Captures {
    var c = captures
    var next = 0
    let budget = MatchBudget()
    for p in elements.flatMap(\.patterns) where p.hasPlaceholders {
      var i = next
      while i < actual.count {
        if case .success(let more) = p.match(actual[i], captures: c, budget: budget) {
          c = more
          next = i + 1
          break
        }
        if budget.stop != nil { return c }
        i += 1
      }
    }
    return c
  }

  /// The names this output would capture.
  var capturedNames: [String] {
    placeholders.compactMap { if case .capture(let n) = $0.role { n } else { nil } }
  }

  /// The furthest point a match attempt reached before failing.
  struct Attempt {
    var element: Int
    var actualIndex: Int
    var column: Int
    var message: String
    var pattern: LinePattern?
    var captures: Captures
    var afterSkip = false
    var isValueProblem = false
  }

  /// A readable report: the expected line and the actual one, a caret where they
  /// part, why (one cause: a missing or an extra line is named as such), every
  /// capture so far, then both outputs (long ones cut, with a note).
  func report(_ a: Attempt, actual: [String], budget: MatchBudget) -> Mismatch {
    var out: [String] = []
    let fileLine: Int
    var message = a.message
    if let p = a.pattern, a.actualIndex < actual.count, !a.isValueProblem, budget.stop == nil {
      message = diagnose(a, pattern: p, actual: actual, budget: budget) ?? message
    }
    if let p = a.pattern {
      fileLine = p.line
      if a.actualIndex < actual.count {
        let prefix = "  actual:   "
        let shownActual = ExpectedOutput.cut(actual[a.actualIndex])
        out.append("  expected: \(ExpectedOutput.cut(p.source))   (line \(p.line))")
        out.append(prefix + shownActual + "   (output line \(a.actualIndex + 1))")
        if a.column >= 0 && a.column <= ExpectedOutput.lineLimit {
          var pad = String(repeating: " ", count: prefix.count)
          // Under the character where they part, as the line is shown (escapes are wider).
          pad += String(
            repeating: " ", count: Printable.line(String(actual[a.actualIndex].prefix(a.column))).count)
          out.append(pad + "^ " + message)
        } else {
          out.append("  at column \(a.column + 1): " + message)
        }
        if a.afterSkip {
          out.append("  (after '...': no later output line matched this expected line either)")
        }
      } else {
        out.append("  expected: \(ExpectedOutput.cut(p.source))   (line \(p.line))")
        out.append("  actual:   (no more output) — \(message)")
      }
    } else {
      fileLine = elements.last.map(\.fileLine) ?? firstLine
      if a.actualIndex < actual.count {
        out.append(
          "  \(message) from output line \(a.actualIndex + 1): \(ExpectedOutput.cut(actual[a.actualIndex]))")
        if actual.count - a.actualIndex > 1 {
          out.append(
            "  (\(actual.count - a.actualIndex) lines in all; end the expected output with '...' to allow them)"
          )
        }
      } else {
        out.append("  \(message)")
      }
    }
    let known = a.captures.values.keys.sorted().map { "\($0) = \(a.captures.values[$0]!)" }
    if !known.isEmpty {
      let shown = known.prefix(40).joined(separator: ", ")
      out.append(
        "  captured so far: " + shown + (known.count > 40 ? ", … (\(known.count) in all)" : ""))
    }
    out.append("  expected output:")
    if lines.isEmpty { out.append("    (none)") }
    for (n, l) in ExpectedOutput.window(lines.count, around: fileLine - firstLine) {
      out.append(n < 0 ? "    " + l : "    \(firstLine + n)| \(ExpectedOutput.cut(lines[n]))")
    }
    out.append("  actual output:")
    if actual.isEmpty { out.append("    (none)") }
    for (n, l) in ExpectedOutput.window(actual.count, around: a.actualIndex) {
      if n < 0 {
        out.append("    " + l)
        continue
      }
      let mark: String = n == a.actualIndex ? "  > " : "    "
      out.append(mark + "| " + ExpectedOutput.cut(actual[n]))
    }
    return Mismatch(
      report: out.joined(separator: "\n"), line: fileLine, expectedLine: a.pattern?.shown(with: a.captures),
      actualLine: a.actualIndex < actual.count ? actual[a.actualIndex] : nil)
  }

  /// One cause for a text mismatch: an output line the transcript does not have, or an
  /// expected line the output does not have (rather than "expected a space" on the wrong pair).
  private func diagnose(_ a: Attempt, pattern p: LinePattern, actual: [String], budget main: MatchBudget)
    -> String?
  {
    // A diagnosis may cost a tenth of what the match itself was allowed.
    let budget = MatchBudget(steps: max(1_000, main.limit / 10))
    if a.actualIndex + 1 < actual.count,
      case .success = p.match(actual[a.actualIndex + 1], captures: a.captures, budget: budget)
    {
      return "an extra output line: the expected line matches the next output line, so this one is new"
    }
    if a.element + 1 < elements.count, case .line(let next) = elements[a.element + 1],
      case .success = next.match(actual[a.actualIndex], captures: a.captures, budget: budget)
    {
      return
        "this output line matches the next expected line (line \(next.line)): the expected line \(p.line) is missing from the output"
    }
    return nil
  }

  /// Lines longer than this are cut in reports (a step can print megabytes).
  static let lineLimit = 300
  /// Output listings longer than this show the start and the part around the mismatch.
  static let listingLimit = 40

  /// A line as a report shows it: cut after `lineLimit` characters, control characters
  /// escaped (a transcript's line must not clear the screen or set the title).
  public static func cut(_ line: String) -> String {
    guard line.count > lineLimit else { return Printable.line(line) }
    return Printable.line(String(line.prefix(lineLimit))) + "… (\(line.count - lineLimit) more characters)"
  }

  /// Which lines of a listing to show: all when short, else the first few and those
  /// around `center`; a negative index stands for a note about lines left out.
  static func window(_ count: Int, around center: Int) -> [(Int, String)] {
    if count <= listingLimit { return (0..<count).map { ($0, "") } }
    let center = min(max(center, 0), count - 1)
    let head = 0..<5
    let lo = max(5, center - 10)
    let hi = min(count, max(lo, center) + 11)
    var out: [(Int, String)] = head.map { ($0, "") }
    if lo > 5 { out.append((-1, "… (\(lo - 5) lines not shown)")) }
    out += (lo..<hi).map { ($0, "") }
    if hi < count { out.append((-1, "… (\(count - hi) more lines not shown)")) }
    return out
  }
}

/// Why an expected output did not match: a readable diff and the file line where it failed.
public struct Mismatch: Sendable, Error {
  public let report: String
  public let line: Int
  /// For a learner, who never sees the file: the expected line where the match stopped, with
  /// the values known then filled in and other placeholders as `…` (nil: no line was expected).
  public var expectedLine: String?
  /// The output line found there (nil: the output had ended).
  public var actualLine: String?
  public init(report: String, line: Int, expectedLine: String? = nil, actualLine: String? = nil) {
    self.report = report
    self.line = line
    self.expectedLine = expectedLine
    self.actualLine = actualLine
  }
}
