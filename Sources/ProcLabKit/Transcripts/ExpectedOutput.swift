/// The expected lines below one command: line patterns, `...` (skip any number
/// of lines) and unordered blocks (lines between `~~~ any order` and `~~~` that
/// may come in any order; lines tagged with the same capture keep their order).
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
  }

  static let skipMarker = "..."
  static let unorderedOpen = "~~~ any order"
  static let blockClose = "~~~"

  var elements: [Element]
  /// The lines as written (for `--update` and reports).
  public let lines: [String]
  public let firstLine: Int
  let file: String

  /// Parses the expected lines; `firstLine` is the file line of `lines[0]`.
  public init(lines: [String], file: String, firstLine: Int) throws {
    self.lines = lines
    self.firstLine = firstLine
    self.file = file
    var elements: [Element] = []
    var block: [LinePattern]?
    var blockLine = 0
    for (offset, raw) in lines.enumerated() {
      let lineNumber = firstLine + offset
      let trimmed = LinePattern.trimTrailing(raw)
      let bare = trimmed.trimmingCharacters(in: .whitespaces)
      if bare.hasPrefix("~~~") {
        if block == nil {
          guard bare.lowercased().replacingOccurrences(of: " ", with: "") == "~~~anyorder" else {
            throw TranscriptError(
              file: file, line: lineNumber, column: 1,
              message:
                "expected '\(ExpectedOutput.unorderedOpen)' to open an unordered block, found '\(bare)'")
          }
          block = []
          blockLine = lineNumber
        } else {
          guard bare == ExpectedOutput.blockClose else {
            throw TranscriptError(
              file: file, line: lineNumber, column: 1,
              message:
                "expected '~~~' to close the unordered block opened on line \(blockLine), found '\(bare)'")
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
      // `\...`, `\~~~`, `\#`, `\proclab> `: output lines that would otherwise be markup.
      var text = trimmed
      if text.hasPrefix("\\"),
        ["...", "~~~", "#", "proclab>"].contains(where: { text.dropFirst().hasPrefix($0) })
      {
        text.removeFirst()
      }
      let pattern = try LinePattern(text, file: file, line: lineNumber)
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
  var placeholders: [Placeholder] {
    elements.flatMap { e -> [Placeholder] in
      switch e {
      case .line(let p): p.placeholders
      case .skip: []
      case .unordered(let ps, _): ps.flatMap(\.placeholders)
      }
    }
  }

  /// Matches the actual output lines. Nil when they match (and `captures` has
  /// gained the new values); otherwise a mismatch that says where they part.
  public func match(_ actual: [String], captures: inout Captures) -> Mismatch? {
    let actual = actual.map { LinePattern.trimTrailing(Style.stripped($0)) }
    var best: Attempt?
    if let result = matchFrom(0, actual, 0, captures, &best) {
      captures = result
      return nil
    }
    return report(best!, actual: actual, captures: captures)
  }

  /// After a mismatch: the captures of every expected line that matches some actual line, in order.
  func salvage(_ actual: [String], captures: Captures) -> Captures {
    var c = captures
    var next = 0
    let patterns = elements.flatMap { e -> [LinePattern] in
      switch e {
      case .line(let p): [p]
      case .skip: []
      case .unordered(let ps, _): ps
      }
    }
    for p in patterns where p.hasPlaceholders {
      for i in next..<actual.count {
        if case .success(let more) = p.match(actual[i], captures: c) {
          c = more
          next = i + 1
          break
        }
      }
    }
    return c
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

  }

  private func fail(_ best: inout Attempt?, _ a: Attempt) {
    if best == nil || a.element > best!.element || (a.element == best!.element && a.column > best!.column) {
      best = a
    }
  }

  private func matchFrom(
    _ e: Int, _ actual: [String], _ i: Int, _ captures: Captures, _ best: inout Attempt?,
    afterSkip: Bool = false
  ) -> Captures? {
    if e == elements.count {
      if i == actual.count { return captures }
      fail(
        &best,
        Attempt(
          element: e, actualIndex: i, column: 0, message: "unexpected extra output", pattern: nil,
          captures: captures))
      return nil
    }
    switch elements[e] {
    case .line(let p):
      guard i < actual.count else {
        fail(
          &best,
          Attempt(
            element: e, actualIndex: i, column: 0, message: "the output ended, but a line was expected",
            pattern: p,
            captures: captures, afterSkip: afterSkip))
        return nil
      }
      switch p.match(actual[i], captures: captures) {
      case .success(let next): return matchFrom(e + 1, actual, i + 1, next, &best)
      case .failure(let box):
        fail(
          &best,
          Attempt(
            element: e, actualIndex: i, column: box.failure.column, message: box.failure.message, pattern: p,
            captures: captures, afterSkip: afterSkip))
        return nil
      }
    case .skip:
      for j in i...actual.count {
        if let done = matchFrom(e + 1, actual, j, captures, &best, afterSkip: true) { return done }
      }
      return nil
    case .unordered(let patterns, _):
      guard i + patterns.count <= actual.count else {
        fail(
          &best,
          Attempt(
            element: e, actualIndex: i, column: 0,
            message:
              "the unordered block needs \(patterns.count) lines, but only \(actual.count - i) are left",
            pattern: patterns.first, captures: captures, afterSkip: afterSkip))
        return nil
      }
      var used = Array(repeating: false, count: patterns.count)
      var firstFailure: (Int, LinePattern, LinePattern.Failure)?
      if let next = assign(patterns, actual, i, 0, &used, captures, &firstFailure) {
        return matchFrom(e + 1, actual, i + patterns.count, next, &best)
      }
      let (row, pattern, failure) = firstFailure!
      fail(
        &best,
        Attempt(
          element: e, actualIndex: row, column: 0,
          message:
            "in the unordered block, no remaining expected line matches this one (closest: \(failure.message))",
          pattern: pattern, captures: captures, afterSkip: afterSkip))
      return nil
    }
  }

  /// Finds an expected line for each actual line of an unordered block:
  /// untagged lines in any order, lines of one tag in their written order.
  private func assign(
    _ patterns: [LinePattern], _ actual: [String], _ start: Int, _ k: Int, _ used: inout [Bool],
    _ captures: Captures, _ firstFailure: inout (Int, LinePattern, LinePattern.Failure)?
  ) -> Captures? {
    if k == patterns.count { return captures }
    let line = actual[start + k]
    var closest: (LinePattern, LinePattern.Failure)?
    for (index, p) in patterns.enumerated() where !used[index] {
      // A tagged line may only be taken once every earlier line of its tag is.
      if let tag = p.tag,
        patterns[..<index].enumerated().contains(where: { !used[$0.offset] && $0.element.tag == tag })
      {
        continue
      }
      switch p.match(line, captures: captures) {
      case .success(let next):
        used[index] = true
        if let done = assign(patterns, actual, start, k + 1, &used, next, &firstFailure) { return done }
        used[index] = false
      case .failure(let box):
        if closest == nil || box.failure.column > closest!.1.column { closest = (p, box.failure) }
      }
    }
    if let closest, firstFailure == nil || firstFailure!.0 < start + k {
      firstFailure = (start + k, closest.0, closest.1)
    } else if firstFailure == nil {
      firstFailure = (
        start + k, patterns[0], LinePattern.Failure(column: 0, message: "no line fits", isValueProblem: false)
      )
    }
    return nil
  }

  /// A readable report: the expected line and the actual one, a caret where they
  /// part, why, the captures involved, then both outputs side by side.
  func report(_ a: Attempt, actual: [String], captures: Captures) -> Mismatch {
    var out: [String] = []
    let fileLine: Int
    if let p = a.pattern {
      fileLine = p.line
      if a.actualIndex < actual.count {
        let prefix = "  actual:   "
        out.append("  expected: \(p.source)   (line \(p.line))")
        out.append(prefix + actual[a.actualIndex] + "   (output line \(a.actualIndex + 1))")
        if a.column >= 0 {
          var pad = String(repeating: " ", count: prefix.count)
          for ch in actual[a.actualIndex].prefix(a.column) { pad.append(ch == "\t" ? "\t" : " ") }
          out.append(pad + "^ " + a.message)
        }
        if a.afterSkip {
          out.append("  (after '...': no later output line matched this expected line either)")
        }
      } else {
        out.append("  expected: \(p.source)   (line \(p.line))")
        out.append("  actual:   (no more output) — \(a.message)")
      }
    } else {
      fileLine = elements.last.map(\.fileLine) ?? firstLine
      out.append("  \(a.message) from output line \(a.actualIndex + 1): \(actual[a.actualIndex])")
      if actual.count - a.actualIndex > 1 {
        out.append(
          "  (\(actual.count - a.actualIndex) lines in all; end the expected output with '...' to allow them)"
        )
      }
    }
    let names = Set(
      elements.flatMap { e -> [String] in
        switch e {
        case .line(let p): p.placeholders.compactMap(\.name)
        case .skip: []
        case .unordered(let ps, _): ps.flatMap { $0.placeholders.compactMap(\.name) }
        }
      })
    let known = names.sorted().compactMap { n in a.captures[n].map { "\(n) = \($0)" } }
    if !known.isEmpty { out.append("  captured so far: " + known.joined(separator: ", ")) }
    out.append("  expected output:")
    if lines.isEmpty { out.append("    (none)") }
    for (n, l) in lines.enumerated() { out.append("    \(firstLine + n)| \(l)") }
    out.append("  actual output:")
    if actual.isEmpty { out.append("    (none)") }
    for (n, l) in actual.enumerated() {
      let mark: String = n == a.actualIndex ? "  > " : "    "
      out.append(mark + "| " + l)
    }
    return Mismatch(report: out.joined(separator: "\n"), line: fileLine)
  }
}

/// Why an expected output did not match: a readable diff and the file line where it failed.
public struct Mismatch: Sendable, Error {
  public let report: String
  public let line: Int
  public init(report: String, line: Int) {
    self.report = report
    self.line = line
  }
}
