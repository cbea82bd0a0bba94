/// `check --update` for one step whose output no longer matches: new expected
/// lines that keep everything a person wrote where it still holds.
///
/// - A written line that still matches an output line is kept as written
///   (placeholders, bounds, choices and all).
/// - A `...` is kept: the new output lines it covers are not written out (unless
///   one is the error line of a failing command, which must be visible).
/// - An unordered block that still matches its lines is kept as written.
/// - A line with a bound, a list of choices or a named capture that no longer
///   matches is left as written, and reported: the file still fails there. An
///   update never turns a violated constraint into a pass.
/// - Every other output line is written as the recorder would write it.
enum TranscriptUpdater {
  struct StepUpdate {
    var lines: [String]
    /// The captures the new lines give, when they match the output.
    var captures: Captures?
    /// Lines left as written, and why: the step still fails.
    var problems: [String]
  }

  static func update(step: Transcript.Step, result: TranscriptPlayer.StepResult, settings: Settings)
    -> StepUpdate
  {
    let expected = step.expected
    let budget = MatchBudget(steps: 20 * MatchBudget.defaultSteps)
    guard let found = locate(expected, in: result.actual, captures: result.capturesBefore, budget: budget)
    else {
      return StepUpdate(
        lines: expected.lines, captures: nil,
        problems: ["line \(step.line): \(budget.message ?? "too large to update"); left as written"])
    }
    let newLines = NewLines(result: result, settings: settings, expected: expected)
    let (out, problems) = rewrite(
      expected, actual: result.actual, found: found, before: result.capturesBefore, newLines: newLines,
      budget: budget)
    return verify(out, problems: problems, step: step, result: result)
  }

  /// Where each written line or block still matches (earliest first, in order), and the
  /// captures after it; nil when the match budget ran out.
  static func locate(
    _ expected: ExpectedOutput, in actual: [String], captures before: Captures, budget: MatchBudget
  )
    -> (positions: [Int?], capturesAfter: [Captures])?
  {
    var positions = [Int?](repeating: nil, count: expected.elements.count)
    var capturesAfter = [Captures](repeating: before, count: expected.elements.count)
    var captures = before
    var cursor = 0
    for (e, element) in expected.elements.enumerated() {
      switch element {
      case .skip: break
      case .line(let p):
        var j = cursor
        while j < actual.count {
          if case .success(let c) = p.match(actual[j], captures: captures, budget: budget) {
            positions[e] = j
            captures = c
            cursor = j + 1
            break
          }
          j += 1
        }
      case .unordered(let patterns, let line):
        guard let block = blockOutput(expected, opening: line, patterns: patterns) else { break }
        var j = cursor
        while j + patterns.count <= actual.count {
          if case .matched(let c, _) = block.match(
            Array(actual[j..<(j + patterns.count)]), captures: captures, budget: budget)
          {
            positions[e] = j
            captures = c
            cursor = j + patterns.count
            break
          }
          j += 1
        }
      }
      capturesAfter[e] = captures
      if budget.stop != nil { return nil }
    }

    return (positions, capturesAfter)
  }

  /// The new lines: kept lines in place, new lines in the gaps between them; and the lines
  /// left as written, with why.
  static func rewrite(
    _ expected: ExpectedOutput, actual: [String], found: (positions: [Int?], capturesAfter: [Captures]),
    before: Captures, newLines: NewLines, budget: MatchBudget
  ) -> (lines: [String], problems: [String]) {
    let (positions, capturesAfter) = found
    var out: [String] = []
    var problems: [String] = []
    var gapLines: [GeneralizedLine] = []
    var pendingSkip = false
    var cursor = 0
    var captures = before
    func gap(upTo end: Int) {
      let rows = cursor..<max(cursor, end)
      let showsError = rows.contains { newLines.errorLines.contains(actual[$0]) }
      if pendingSkip { out.append(ExpectedOutput.skipMarker) }
      if !rows.isEmpty && (!pendingSkip || showsError) {
        gapLines = rows.map { newLines.line($0, captures) }
        out += GeneralizedLine.written(gapLines)
      }
      cursor = max(cursor, end)
      pendingSkip = false
    }
    func nextPosition(after e: Int) -> Int {
      positions[(e + 1)...].compactMap { $0 }.first ?? actual.count
    }
    for (e, element) in expected.elements.enumerated() {
      switch element {
      case .skip: pendingSkip = true
      case .line(let p):
        let written = expected.lines[p.line - expected.firstLine]
        if let j = positions[e] {
          gap(upTo: j)
          out.append(written)
          cursor = j + 1
          captures = capturesAfter[e]
          continue
        }
        let knowledge =
          p.hasConstraints || p.placeholders.contains { if case .capture = $0.role { true } else { false } }
        guard knowledge else { continue }  // plain text that changed: the new line replaces it
        let loose = p.loosened()
        let limit = nextPosition(after: e)
        var found: Int?
        var j = cursor
        while j < limit {
          if case .success = loose.match(actual[j], captures: captures, budget: budget) {
            found = j
            break
          }
          j += 1
        }
        if let j = found {
          gap(upTo: j)
          out.append(written)
          cursor = j + 1
          var why = "no longer matches"
          if case .failure(let box) = p.match(actual[j], captures: captures, budget: budget) {
            why = box.failure.message
          }
          problems.append("line \(p.line) left as written: \(why) (output: \(ExpectedOutput.cut(actual[j])))")
        } else {
          // Left in its place: a `...` before it stays before it (and covers what follows too).
          if pendingSkip && out.last != ExpectedOutput.skipMarker { out.append(ExpectedOutput.skipMarker) }
          out.append(written)
          problems.append(
            "line \(p.line) left as written: no output line has its shape any more, and it holds a \(p.hasConstraints ? "bound or choice" : "named capture") an update must not drop: \(ExpectedOutput.cut(p.source))"
          )
        }
      case .unordered(let patterns, let line):
        let last = (patterns.last?.line ?? line) + 1
        let written = Array(
          expected.lines[
            (line - expected.firstLine)...min(expected.lines.count - 1, last - expected.firstLine)])
        if let j = positions[e] {
          gap(upTo: j)
          out += written
          cursor = j + patterns.count
          captures = capturesAfter[e]
        } else {
          out += written
          problems.append(
            "the unordered block on line \(line) no longer matches its output lines; left as written")
        }
      }
    }
    gap(upTo: actual.count)
    if let marker = expected.failureMarkerLine {
      out.append(expected.lines[marker - expected.firstLine])
    }

    return (out, problems)
  }

  /// The new lines must parse and (unless a line was left) match the output.
  static func verify(
    _ out: [String], problems: [String], step: Transcript.Step, result: TranscriptPlayer.StepResult
  )
    -> StepUpdate
  {
    let expected = step.expected
    let actual = result.actual
    let before = result.capturesBefore
    let keepAll = StepUpdate(lines: expected.lines, captures: nil, problems: [])
    guard let parsed = try? ExpectedOutput(lines: out, file: expected.file, firstLine: expected.firstLine)
    else {
      return StepUpdate(
        lines: keepAll.lines, captures: nil,
        problems: problems + [
          "line \(step.line): the output could not be rewritten without losing a capture; left as written"
        ])
    }
    if !problems.isEmpty { return StepUpdate(lines: out, captures: nil, problems: problems) }
    guard case .matched(let c, let coverage) = parsed.match(actual, captures: before) else {
      return StepUpdate(
        lines: keepAll.lines, captures: nil,
        problems: ["line \(step.line): the rewritten output would not match; left as written"])
    }
    var check = step
    check.expected = parsed
    if let problem = TranscriptPlayer.failureProblem(
      check, outcomes: result.outcomes, actual: actual, coverage: coverage)
    {
      return StepUpdate(lines: out, captures: nil, problems: [problem.report])
    }
    return StepUpdate(lines: out, captures: c, problems: [])
  }

  /// How each output line would be written new, as the recorder writes it.
  struct NewLines {
    let actual: [String]
    let names = RecordedNames()
    let generalizer: OutputGeneralizer
    var plans: [OutputGeneralizer.Plan] = []
    var mapping: [(plan: Int, line: Int)] = []
    /// Whether the plans' shown lines are the output lines one for one (else each is written plain).
    var mapped = false
    /// The first line of each failing command's error: shown even where a `...` covers it.
    let errorLines: Set<String>

    init(result: TranscriptPlayer.StepResult, settings: Settings, expected: ExpectedOutput) {
      actual = result.actual
      names.know(result.capturesBefore)
      names.reserve(expected.capturedNames)
      generalizer = OutputGeneralizer(names: names, historyBeforeStart: 0)
      for outcome in result.outcomes {
        let plan = generalizer.plan(outcome, shown: Recorder.rendered(outcome, settings: settings))
        for k in plan.shown.indices { mapping.append((plans.count, k)) }
        plans.append(plan)
      }
      let (plans, mapping, actual) = (plans, mapping, actual)
      mapped =
        mapping.count >= actual.count
        && actual.indices.allSatisfy { j in
          let (p, k) = mapping[j]
          return LinePattern.trimTrailing(Style.stripped(plans[p].shown[k])) == actual[j]
        }
      errorLines = Set(
        result.outcomes.compactMap { o -> String? in
          guard !o.succeeded, let e = o.error else { return nil }
          return LinePattern.trimTrailing(
            Style.stripped(e).split(separator: "\n").first.map(String.init) ?? "")
        })
    }

    func line(_ j: Int, _ captures: Captures) -> GeneralizedLine {
      guard mapped else { return GeneralizedLine(text: plain(actual[j]), block: nil) }
      names.know(captures)
      let (p, k) = mapping[j]
      return GeneralizedLine(
        text: generalizer.write(plans[p], line: k), block: plans[p].blocks[k].map { p * 10_000 + $0 })
    }
  }

  /// An unordered block on its own, to find where it still matches.
  static func blockOutput(_ expected: ExpectedOutput, opening line: Int, patterns: [LinePattern])
    -> ExpectedOutput?
  {
    let lines =
      [ExpectedOutput.unorderedOpen] + patterns.map { expected.lines[$0.line - expected.firstLine] } + [
        ExpectedOutput.blockClose
      ]
    return try? ExpectedOutput(lines: lines, file: expected.file, firstLine: line)
  }

  /// An output line as a literal expected line.
  static func plain(_ line: String) -> String {
    let escaped = Recorder.escape(line)
    return OutputGeneralizer.markup.contains(where: { escaped.hasPrefix($0) }) ? "\\" + escaped : escaped
  }
}
