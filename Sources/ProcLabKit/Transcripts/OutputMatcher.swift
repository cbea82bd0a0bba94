/// Matches a step's output lines against its expected elements (lines, `...`,
/// unordered blocks): a depth-first search over (element, output line,
/// captures) with an explicit stack and a memory of failed states, within a
/// `MatchBudget`. A `...` that failed from output line i fails from any later
/// line too (with the same captures), so several `...` cost a pass each, not a
/// product of passes.
final class OutputMatcher {
  let output: ExpectedOutput
  let actual: [String]
  let budget: MatchBudget

  private var best: ExpectedOutput.Attempt?
  private var failed = Set<Key>()
  private var skipFloor: [SkipKey: Int] = [:]

  private struct Key: Hashable {
    var e: Int
    var i: Int
    var captures: Captures
  }
  private struct SkipKey: Hashable {
    var e: Int
    var captures: Captures
  }

  private enum Choices {
    /// A line or an unordered block matched one way: the next output line and the captures.
    case one(next: Int, captures: Captures)
    /// `...`: the next element may start at any output line from `from` to `to`.
    case skip(from: Int, to: Int)

    var count: Int {
      switch self {
      case .one: 1
      case .skip(let from, let to): to - from + 1
      }
    }
  }

  private struct Frame {
    var e: Int
    var i: Int
    var captures: Captures
    var choices: Choices
    var next = 0
  }

  init(output: ExpectedOutput, actual: [String], budget: MatchBudget) {
    self.output = output
    self.actual = actual
    self.budget = budget
  }

  /// The captures of the first way the output matches, and how each line was covered.
  func run(_ captures: Captures) -> (Captures, [ExpectedOutput.Coverage])? {
    var stack: [Frame] = []
    if let done = enter(0, 0, captures, afterSkip: false, &stack) { return (done, coverage(stack)) }
    while !stack.isEmpty {
      let f = stack.count - 1
      guard budget.spend() else { return nil }
      if stack[f].next >= stack[f].choices.count {
        remember(stack.removeLast())
        continue
      }
      let index = stack[f].next
      stack[f].next += 1
      let e = stack[f].e
      let done: Captures?
      switch stack[f].choices {
      case .one(let next, let c): done = enter(e + 1, next, c, afterSkip: false, &stack)
      case .skip(let from, _): done = enter(e + 1, from + index, stack[f].captures, afterSkip: true, &stack)
      }
      if let done { return (done, coverage(stack)) }
    }
    return nil
  }

  /// The furthest attempt, for the report.
  func furthest() -> ExpectedOutput.Attempt {
    var a =
      best
      ?? ExpectedOutput.Attempt(
        element: 0, actualIndex: 0, column: 0, message: "no way to match", pattern: nil, captures: Captures())
    if let message = budget.message {
      a.message = message
      a.isValueProblem = false
    }
    return a
  }

  private func coverage(_ path: [Frame]) -> [ExpectedOutput.Coverage] {
    var out = Array(repeating: ExpectedOutput.Coverage.written, count: actual.count)
    for frame in path {
      if case .skip(let from, _) = frame.choices {
        let chosen = from + frame.next - 1
        for j in frame.i..<max(frame.i, chosen) { out[j] = .skipped }
      }
    }
    return out
  }

  private func remember(_ frame: Frame) {
    failed.insert(Key(e: frame.e, i: frame.i, captures: frame.captures))
    if case .skip = frame.choices {
      let key = SkipKey(e: frame.e, captures: frame.captures)
      skipFloor[key] = min(skipFloor[key] ?? Int.max, frame.i)
    }
  }

  private func fail(_ a: ExpectedOutput.Attempt) {
    if let b = best, !(a.element > b.element || (a.element == b.element && a.column > b.column)) { return }
    best = a
  }

  /// Starts element e at output line i: the captures when everything matched, else nil.
  private func enter(_ e: Int, _ i: Int, _ captures: Captures, afterSkip: Bool, _ stack: inout [Frame])
    -> Captures?
  {
    let elements = output.elements
    if e == elements.count {
      if i == actual.count { return captures }
      fail(
        .init(
          element: e, actualIndex: i, column: 0, message: "unexpected extra output", pattern: nil,
          captures: captures))
      return nil
    }
    let key = Key(e: e, i: i, captures: captures)
    if failed.contains(key) { return nil }
    switch elements[e] {
    case .line(let p):
      guard i < actual.count else {
        fail(
          .init(
            element: e, actualIndex: i, column: 0, message: "the output ended, but a line was expected",
            pattern: p, captures: captures, afterSkip: afterSkip))
        failed.insert(key)
        return nil
      }
      switch p.match(actual[i], captures: captures, budget: budget) {
      case .success(let next):
        stack.append(Frame(e: e, i: i, captures: captures, choices: .one(next: i + 1, captures: next)))
      case .failure(let box):
        fail(
          .init(
            element: e, actualIndex: i, column: box.failure.column, message: box.failure.message, pattern: p,
            captures: captures, afterSkip: afterSkip, isValueProblem: box.failure.isValueProblem))
        failed.insert(key)
      }
      return nil
    case .skip:
      let floorKey = SkipKey(e: e, captures: captures)
      if let floor = skipFloor[floorKey], i >= floor { return nil }
      stack.append(Frame(e: e, i: i, captures: captures, choices: .skip(from: i, to: actual.count)))
      return nil
    case .unordered(let patterns, _):
      guard i + patterns.count <= actual.count else {
        fail(
          .init(
            element: e, actualIndex: i, column: 0,
            message:
              "the unordered block needs \(patterns.count) lines, but only \(actual.count - i) are left",
            pattern: patterns.first, captures: captures, afterSkip: afterSkip))
        failed.insert(key)
        return nil
      }
      switch assign(patterns, start: i, captures: captures) {
      case .success(let next):
        stack.append(
          Frame(e: e, i: i, captures: captures, choices: .one(next: i + patterns.count, captures: next)))
      case .failure(let row, let pattern, let failure):
        fail(
          .init(
            // The caret goes where the closest expected line parts from this one.
            element: e, actualIndex: row, column: failure.column,
            message:
              "in the unordered block, no remaining expected line matches this one (closest: \(failure.message))",
            pattern: pattern, captures: captures, afterSkip: afterSkip))
        failed.insert(key)
      }
      return nil
    }
  }

  private enum Assignment {
    case success(Captures)
    case failure(row: Int, LinePattern, LinePattern.Failure)
  }

  private struct AssignKey: Hashable {
    var k: Int
    var used: [Bool]
    var captures: Captures
  }

  /// Finds an expected line for each output line of an unordered block: untagged
  /// lines in any order, lines of one tag in their written order. Iterative, and a
  /// (row, lines used, captures) state that failed is not tried again.
  private func assign(_ patterns: [LinePattern], start: Int, captures: Captures) -> Assignment {
    let m = patterns.count
    // A tagged line may only be taken once every earlier line of its tag is.
    let earlierSameTag: [[Int]] = patterns.indices.map { index in
      guard let tag = patterns[index].tag else { return [] }
      return (0..<index).filter { patterns[$0].tag == tag }
    }
    struct Step {
      var k: Int
      var captures: Captures
      var nextPattern = 0
      var chosen: Int?
    }
    var used = Array(repeating: false, count: m)
    var failedStates = Set<AssignKey>()
    var stack = [Step(k: 0, captures: captures)]
    var deepest = -1
    var closest: (LinePattern, LinePattern.Failure)?
    while !stack.isEmpty {
      let f = stack.count - 1
      if stack[f].k == m { return .success(stack[f].captures) }
      if let c = stack[f].chosen {
        used[c] = false
        stack[f].chosen = nil
      }
      guard budget.spend() else { break }
      let k = stack[f].k
      let line = actual[start + k]
      var pushed = false
      while stack[f].nextPattern < m {
        let index = stack[f].nextPattern
        stack[f].nextPattern += 1
        if used[index] || earlierSameTag[index].contains(where: { !used[$0] }) { continue }
        switch patterns[index].match(line, captures: stack[f].captures, budget: budget) {
        case .success(let next):
          used[index] = true
          if failedStates.contains(AssignKey(k: k + 1, used: used, captures: next)) {
            used[index] = false
            continue
          }
          stack[f].chosen = index
          stack.append(Step(k: k + 1, captures: next))
          pushed = true
        case .failure(let box):
          if k > deepest || (k == deepest && box.failure.column > (closest?.1.column ?? -1)) {
            deepest = k
            closest = (patterns[index], box.failure)
          }
        }
        if pushed || budget.stop != nil { break }
      }
      if budget.stop != nil { break }
      if !pushed {
        failedStates.insert(AssignKey(k: k, used: used, captures: stack[f].captures))
        stack.removeLast()
      }
    }
    let failure =
      closest?.1
      ?? LinePattern.Failure(
        column: 0, message: budget.message ?? "no line fits", isValueProblem: false)
    return .failure(row: start + max(0, deepest), closest?.0 ?? patterns[0], failure)
  }
}
