/// Matches one line against a `LinePattern`: a depth-first search over
/// (segment, column) with an explicit stack, so a line of 100,000 words needs
/// no deeper call stack than a short one.
///
/// Why it stays fast on hostile patterns: the first success is what counts (its
/// captures), so a state that failed once fails again, and whether it fails
/// depends only on the segment, the column and the values captured earlier in
/// this line that later segments refer to (`LinePattern.live`). Each such state
/// is explored once. A `{{:text}}` whose capture nothing later refers to tries
/// every end from its column on; once it failed from column i, it fails from
/// any later column too (its ends are a subset), so five of them in a row cost
/// a few passes over the line rather than line⁵ tries. The budget bounds the rest.
final class LineMatcher {
  let pattern: LinePattern
  let s: [Character]
  let budget: MatchBudget

  private var failedPlain = Set<Int>()
  private var failedKeyed = Set<Key>()
  private var textFloor: [Int: Int] = [:]
  private var best: Problem?

  /// A state whose outcome depends on values captured earlier in the line: those values are
  /// pieces of the line, so their columns (start, end) stand for them, cheap to hash.
  struct Key: Hashable {
    var k: Int
    var i: Int
    var spans: [Int]
  }

  /// Why the match stopped at a column; turned into words only for the furthest one.
  enum Reason {
    case lineGoesOn
    case expectedLiteral(segment: Int)
    case expectedSpace(segment: Int)
    case neverCaptured(Placeholder)
    case notEqual(Placeholder, name: String, value: String)
    case notKind(Placeholder, Variable.Kind)
    case notChoice(Placeholder, [String])
    case constraint(Placeholder, value: String, Constraint)
  }

  struct Problem {
    var column: Int
    var reason: Reason
    var isValueProblem: Bool
  }

  private struct Frame {
    var k: Int
    var i: Int
    var captures: Captures
    /// Where each capturing segment of this line matched (segment → start, end).
    var spans: [Int: (Int, Int)]
    var ends: Candidates
    var next = 0
    var key: Key?
    var plainKey: Int
    var floorable: Bool
  }

  /// The line as text, and where each of its characters starts in it (built on first use):
  /// a captured value is cut from the text, not rebuilt a character at a time.
  let text: String
  private lazy var starts: [String.Index] = Array(text.indices) + [text.endIndex]

  init(pattern: LinePattern, text: String, budget: MatchBudget) {
    self.pattern = pattern
    self.text = text
    self.s = Array(text)
    self.budget = budget
  }

  private func value(_ start: Int, _ end: Int) -> String { String(text[starts[start]..<starts[end]]) }

  /// The captures of the first way the line matches (in preference order), or nil.
  func run(_ captures: Captures) -> Captures? {
    var stack: [Frame] = []
    if let done = enter(0, 0, captures, [:], &stack) { return done }
    while !stack.isEmpty {
      let f = stack.count - 1
      guard budget.spend() else { return nil }
      if stack[f].next >= stack[f].ends.count {
        let done = stack.removeLast()
        remember(failed: done)
        continue
      }
      let start = stack[f].i
      let end = stack[f].ends[stack[f].next]
      stack[f].next += 1
      let k = stack[f].k
      if splitsUnit(k, from: start, to: end) { continue }
      var next = stack[f].captures
      var spans = stack[f].spans
      if case .placeholder(let p) = pattern.segments[k], let kind = p.kind,
        p.constraint != nil || p.name != nil
      {
        // (Only a bound or a capture needs the value as text: an anonymous {{:text}} tries
        // every end of a long line, and copying each would make it quadratic.)
        let text = value(start, end)
        if let c = p.constraint {
          guard let x = ValueScanner.numericValue(text, kind: kind), c.accepts(x) else {
            note(start, .constraint(p, value: text, c), value: true)
            continue
          }
        }
        if case .capture(let name) = p.role {
          next.set(name, text, kind: kind)
          if pattern.captureIsLive[k] { spans[k] = (start, end) }
        }
      }
      if let done = enter(k + 1, end, next, spans, &stack) { return done }
    }
    return nil
  }

  /// A text value never ends between a number and its unit (`8.7` of `8.7 MiB`, `4.25` of
  /// `4.25 ms`), so a capture before a table's next column holds the whole value; unless the
  /// pattern writes that unit itself next (`{{:text}} ms`).
  private func splitsUnit(_ k: Int, from start: Int, to end: Int) -> Bool {
    guard case .placeholder(let p) = pattern.segments[k], p.kind == .text, p.choices == nil,
      end > start, end + 1 < s.count, s[end] == " ", s[end - 1].isASCII, s[end - 1].isNumber,
      let unit = ValueScanner.unit(in: s, at: end + 1)
    else { return false }
    let segments = pattern.segments
    if k + 2 < segments.count, case .spaces = segments[k + 1], case .literal(let text) = segments[k + 2],
      text.starts(with: unit)
    {
      return false
    }
    return true
  }

  private func remember(failed frame: Frame) {
    if let key = frame.key { failedKeyed.insert(key) } else { failedPlain.insert(frame.plainKey) }
    if frame.floorable { textFloor[frame.k] = min(textFloor[frame.k] ?? Int.max, frame.i) }
  }

  /// Starts segment k at column i: the captures when the whole line matched, else nil
  /// (a frame was pushed, or the state is known to fail).
  private func enter(
    _ k: Int, _ i: Int, _ captures: Captures, _ spans: [Int: (Int, Int)], _ stack: inout [Frame]
  ) -> Captures? {
    let segments = pattern.segments
    if k == segments.count {
      if i == s.count { return captures }
      note(i, .lineGoesOn)
      return nil
    }
    let liveSegments = pattern.liveSegments[k]
    let plainKey = k &* (s.count + 1) &+ i
    var key: Key?
    if liveSegments.isEmpty {
      if failedPlain.contains(plainKey) { return nil }
    } else {
      let keyed = Key(
        k: k, i: i, spans: liveSegments.flatMap { j in spans[j].map { [$0.0, $0.1] } ?? [-1, -1] })
      if failedKeyed.contains(keyed) { return nil }
      key = keyed
    }
    var floorable = false
    if case .placeholder(let p) = segments[k], p.kind == .text, p.choices == nil, pattern.live[k + 1].isEmpty
    {
      floorable = true
      if let floor = textFloor[k], i >= floor { return nil }
    }
    let ends = candidates(k, i, captures)
    if ends.count == 0 {
      if let key { failedKeyed.insert(key) } else { failedPlain.insert(plainKey) }
      return nil
    }
    stack.append(
      Frame(
        k: k, i: i, captures: captures, spans: spans, ends: ends, key: key, plainKey: plainKey,
        floorable: floorable))
    return nil
  }

  private func candidates(_ k: Int, _ i: Int, _ captures: Captures) -> Candidates {
    switch pattern.segments[k] {
    case .literal(let text):
      if i + text.count <= s.count && s[i..<(i + text.count)].elementsEqual(text) {
        return .list([i + text.count])
      }
      var same = 0
      while same < text.count && i + same < s.count && s[i + same] == text[same] { same += 1 }
      note(i + same, .expectedLiteral(segment: k))
      return .none
    case .spaces:
      var j = i
      while j < s.count && (s[j] == " " || s[j] == "\t") { j += 1 }
      if j > i { return .list([j]) }
      note(i, .expectedSpace(segment: k))
      return .none
    case .placeholder(let p):
      if case .reference(let name) = p.role {
        guard let value = captures[name] else {
          note(i, .neverCaptured(p), value: true)
          return .none
        }
        let v = Array(value)
        if i + v.count <= s.count && s[i..<(i + v.count)].elementsEqual(v) { return .list([i + v.count]) }
        note(i, .notEqual(p, name: name, value: value), value: true)
        return .none
      }
      let kind = p.kind!
      if let choices = p.choices {
        let ends = ValueScanner.choiceEnds(choices, kind: kind, in: s, from: i)
        if ends.count == 0 { note(i, .notChoice(p, choices), value: true) }
        return ends
      }
      let ends = ValueScanner.candidates(kind, in: s, from: i)
      if ends.count == 0 { note(i, .notKind(p, kind)) }
      return ends
    }
  }

  private func note(_ column: Int, _ reason: Reason, value: Bool = false) {
    if let b = best, !(column > b.column || (column == b.column && value && !b.isValueProblem)) { return }
    best = Problem(column: column, reason: reason, isValueProblem: value)
  }

  /// The furthest problem, in words (or the budget's reason for giving up).
  func failure() -> LinePattern.Failure {
    if let message = budget.message {
      return LinePattern.Failure(column: best?.column ?? 0, message: message, isValueProblem: false)
    }
    guard let best else {
      return LinePattern.Failure(column: 0, message: "no way to match this line", isValueProblem: false)
    }
    // The message quotes the file's line and the output: shown escaped, like the lines themselves.
    return LinePattern.Failure(
      column: best.column, message: Printable.line(words(best)), isValueProblem: best.isValueProblem)
  }

  private func shown(from i: Int, count: Int) -> String {
    let end = min(s.count, i + count)
    let text = String(s[min(i, end)..<end])
    return "\"" + text + (end < s.count ? "…" : "") + "\""
  }

  private func words(_ p: Problem) -> String {
    let i = p.column
    switch p.reason {
    case .lineGoesOn:
      return "the line goes on: \(shown(from: i, count: 40)) where the expected line ends"
    case .expectedLiteral(let k):
      if i >= s.count { return "the line ends here; expected \"\(pattern.rest(from: k))\"" }
      return "expected \"\(pattern.rest(from: k))\""
    case .expectedSpace(let k):
      if i >= s.count { return "the line ends here; expected \"\(pattern.rest(from: k))\"" }
      return "expected a space, found \(shown(from: i, count: 12))"
    case .neverCaptured(let ph):
      return "\(ph.source) refers to a value that was never captured"
    case .notEqual(let ph, let name, let value):
      return
        "\(ph.source) must equal the captured \(name) = \(value), found \(shown(from: i, count: max(value.count, 1)))"
    case .notKind(let ph, let kind):
      let found = i < s.count ? shown(from: i, count: 12) : "the end of the line"
      return "\(ph.source) expected \(LinePattern.article(kind)), found \(found)"
    case .notChoice(let ph, let choices):
      let found = i < s.count ? shown(from: i, count: 12) : "the end of the line"
      return "\(ph.source) expected one of \(choices.joined(separator: ", ")), found \(found)"
    case .constraint(let ph, let value, let c):
      return "\(ph.source): \(value) is not \(c.source)"
    }
  }
}
