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
/// - A line with a reference (`{{P1}}`) that no longer matches is left as written too:
///   the update cannot know which value the person meant.
/// - A plain line that changed is rewritten in its place (also before or after a `...`,
///   which would otherwise swallow it); with no output line in its place it is left as
///   written and reported. An update never deletes a written line.
/// - An unordered block that changed is rewritten in place from the output rows the
///   recorder writes as one block (left as written, and reported, when it captures or
///   bounds values); its rows are never written a second time after it.
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
    guard let located = locate(expected, in: result.actual, from: result.capturesBefore, budget: budget)
    else {
      return StepUpdate(
        lines: expected.lines, captures: nil,
        problems: ["line \(step.line): \(budget.message ?? "too large to update"); left as written"])
    }
    var rewrite = Rewrite(
      expected: expected, actual: result.actual, located: located, before: result.capturesBefore,
      newLines: NewLines(result: result, settings: settings, expected: expected), budget: budget)
    for (e, element) in expected.elements.enumerated() {
      switch element {
      case .skip: rewrite.pendingSkip = true
      case .line(let p): rewrite.line(e, p)
      case .unordered(let patterns, let line): rewrite.unordered(e, patterns, opening: line)
      }
    }
    rewrite.gap(upTo: result.actual.count)
    if let marker = expected.failureMarkerLine {
      rewrite.out.append(expected.lines[marker - expected.firstLine])
    }
    return verify(rewrite.out, problems: rewrite.problems, step: step, result: result)
  }

  /// Where each written line or block still matches the output (earliest first, in order), and
  /// the captures after each; nil when matching ran out of its budget.
  struct Located {
    var positions: [Int?]
    var capturesAfter: [Captures]
  }

  static func locate(
    _ expected: ExpectedOutput, in actual: [String], from before: Captures, budget: MatchBudget
  )
    -> Located?
  {
    var located = Located(
      positions: [Int?](repeating: nil, count: expected.elements.count),
      capturesAfter: [Captures](repeating: before, count: expected.elements.count))
    var captures = before
    var cursor = 0
    for (e, element) in expected.elements.enumerated() {
      switch element {
      case .skip: break
      case .line(let p):
        var j = cursor
        while j < actual.count {
          if case .success(let c) = p.match(actual[j], captures: captures, budget: budget) {
            located.positions[e] = j
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
            located.positions[e] = j
            captures = c
            cursor = j + patterns.count
            break
          }
          j += 1
        }
      }
      located.capturesAfter[e] = captures
      if budget.stop != nil { return nil }
    }
    return located
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

    /// Output line j written where a person wrote a line that changed (an explanation too).
    func rewritten(_ j: Int, _ captures: Captures) -> String {
      guard mapped else { return plain(actual[j]) }
      names.know(captures)
      let (p, k) = mapping[j]
      return generalizer.writeAsShown(plans[p], line: k)
    }

    /// The first run of output rows in `range` the recorder writes as one unordered block.
    func blockRun(in range: Range<Int>) -> Range<Int>? {
      guard mapped, !range.isEmpty else { return nil }
      func block(_ j: Int) -> (Int, Int)? {
        let (p, k) = mapping[j]
        return plans[p].blocks[k].map { (p, $0) }
      }
      guard let start = range.first(where: { block($0) != nil }), let id = block(start) else { return nil }
      var end = start + 1
      while end < range.upperBound, let next = block(end), next == id { end += 1 }
      return start..<end
    }

    /// Output line j as the recorder writes it in a gap between kept lines.
    func newLine(_ j: Int, _ captures: Captures) -> GeneralizedLine {
      guard mapped else { return GeneralizedLine(text: plain(actual[j]), block: nil) }
      names.know(captures)
      let (p, k) = mapping[j]
      return GeneralizedLine(
        text: generalizer.write(plans[p], line: k), block: plans[p].blocks[k].map { p * 10_000 + $0 })
    }
  }

  /// The new lines, built element by element: kept lines in place, new lines in the gaps
  /// between them, and every line that cannot be rewritten safely left as written (a problem).
  struct Rewrite {
    let expected: ExpectedOutput
    let actual: [String]
    let located: Located
    let newLines: NewLines
    let budget: MatchBudget
    var out: [String] = []
    var problems: [String] = []
    var pendingSkip = false
    var cursor = 0
    var captures: Captures

    init(
      expected: ExpectedOutput, actual: [String], located: Located, before: Captures, newLines: NewLines,
      budget: MatchBudget
    ) {
      self.expected = expected
      self.actual = actual
      self.located = located
      self.newLines = newLines
      self.budget = budget
      captures = before
    }

    /// The output lines before `end` not yet written: covered by a pending `...` (unless one is
    /// a failing command's error line), else written as the recorder writes them.
    mutating func gap(upTo end: Int) {
      let rows = cursor..<max(cursor, end)
      let showsError = rows.contains { newLines.errorLines.contains(actual[$0]) }
      if pendingSkip { out.append(ExpectedOutput.skipMarker) }
      if !rows.isEmpty && (!pendingSkip || showsError) {
        let captures = captures
        out += GeneralizedLine.written(rows.map { newLines.newLine($0, captures) })
      }
      cursor = max(cursor, end)
      pendingSkip = false
    }

    func nextPosition(after e: Int) -> Int {
      located.positions[(e + 1)...].compactMap { $0 }.first ?? actual.count
    }

    /// The output line in a written line's place: after a `...` the most alike before the next
    /// kept line, else the next one.
    func place(of p: LinePattern, before limit: Int) -> Int? {
      pendingSkip ? mostAlike(p.source, in: actual, cursor..<limit) : cursor < limit ? cursor : nil
    }

    mutating func keep(_ written: [String], at j: Int, through end: Int) {
      gap(upTo: j)
      out += written
      cursor = end
    }

    /// A written line left where it was although nothing replaces it: a `...` before it stays
    /// before it, and with `coveringWhatFollows` it covers the output after it too.
    mutating func leaveAlone(_ written: String, _ problem: String, coveringWhatFollows: Bool = false) {
      if pendingSkip && out.last != ExpectedOutput.skipMarker { out.append(ExpectedOutput.skipMarker) }
      if !coveringWhatFollows { pendingSkip = false }
      out.append(written)
      problems.append(problem)
    }

    mutating func line(_ e: Int, _ p: LinePattern) {
      let written = expected.lines[p.line - expected.firstLine]
      if let j = located.positions[e] {
        keep([written], at: j, through: j + 1)
        captures = located.capturesAfter[e]
        return
      }
      let knowledge =
        p.hasConstraints || p.placeholders.contains { if case .anonymous = $0.role { false } else { true } }
      if knowledge {
        constrainedLine(e, p, written)
      } else {
        changedText(e, p, written)
      }
    }

    /// Plain text that changed. Between two kept lines the gap's new lines replace it; next to a
    /// `...` (which covers a gap) it is rewritten from the output line in its place.
    mutating func changedText(_ e: Int, _ p: LinePattern, _ written: String) {
      let followedBySkip =
        e + 1 < expected.elements.count
        && { if case .skip = expected.elements[e + 1] { true } else { false } }()
      guard pendingSkip || followedBySkip else { return }
      if let j = place(of: p, before: nextPosition(after: e)) {
        // The gap first: the recorder names values in the order it writes the lines.
        gap(upTo: j)
        out.append(newLines.rewritten(j, captures))
        cursor = j + 1
      } else {
        leaveAlone(
          written,
          "line \(p.line) left as written: no output line is in its place any more: \(ExpectedOutput.cut(p.source))"
        )
      }
    }

    /// A line with a bound, a choice or a named value that no longer matches: always left as
    /// written (an update never turns a violated constraint into a pass), in the place of the
    /// output line it stands for, and reported.
    mutating func constrainedLine(_ e: Int, _ p: LinePattern, _ written: String) {
      let loose = p.loosened()
      let limit = nextPosition(after: e)
      let found = (cursor..<max(cursor, limit)).first {
        if case .success = loose.match(actual[$0], captures: captures, budget: budget) { true } else { false }
      }
      if let j = found {
        keep([written], at: j, through: j + 1)
        var why = "no longer matches"
        if case .failure(let box) = p.match(actual[j], captures: captures, budget: budget) {
          why = box.failure.message
        }
        problems.append("line \(p.line) left as written: \(why) (output: \(ExpectedOutput.cut(actual[j])))")
      } else if let j = place(of: p, before: limit) {
        // Left in its place, in place of the output line there (not written a second time).
        keep([written], at: j, through: j + 1)
        problems.append(
          "line \(p.line) left as written: it no longer matches, and it holds a \(p.hasConstraints ? "bound or choice" : "named value") an update must not drop: \(ExpectedOutput.cut(p.source)) (output: \(ExpectedOutput.cut(actual[j])))"
        )
      } else {
        leaveAlone(
          written,
          "line \(p.line) left as written: no output line has its shape any more, and it holds a \(p.hasConstraints ? "bound or choice" : "named capture") an update must not drop: \(ExpectedOutput.cut(p.source))",
          coveringWhatFollows: true)
      }
    }

    /// An unordered block: kept where it still matches; else rewritten in place from the rows the
    /// recorder writes as one block (those rows are this block's, never written again after it),
    /// or left as written when it captures, bounds or narrows values.
    mutating func unordered(_ e: Int, _ patterns: [LinePattern], opening line: Int) {
      let last = (patterns.last?.line ?? line) + 1
      let written = Array(
        expected.lines[(line - expected.firstLine)...min(expected.lines.count - 1, last - expected.firstLine)]
      )
      if let j = located.positions[e] {
        keep(written, at: j, through: j + patterns.count)
        captures = located.capturesAfter[e]
        return
      }
      let limit = nextPosition(after: e)
      let run = newLines.blockRun(in: cursor..<limit)
      let knowledge = patterns.contains {
        $0.placeholders.contains {
          if case .capture = $0.role { true } else { $0.constraint != nil }
        }
      }
      // Lists of choices the rows had (the recorder writes the command's own) must come back as
      // they were: a narrowed list is a person's, and is not loosened.
      let choices = Set(patterns.flatMap { $0.placeholders.filter { $0.choices != nil }.map(\.source) })
      let captures = captures
      let rows = run.map { GeneralizedLine.written($0.map { newLines.newLine($0, captures) }) } ?? []
      let keepsChoices = choices.allSatisfy { c in rows.contains { $0.contains(c) } }
      if let run, !knowledge, keepsChoices {
        keep(rows, at: run.lowerBound, through: run.upperBound)
      } else {
        keep(
          written, at: run?.lowerBound ?? cursor,
          through: run?.upperBound ?? min(limit, cursor + patterns.count))
        problems.append(
          "the unordered block on line \(line) no longer matches its output lines; left as written"
            + (knowledge || !keepsChoices
              ? " (it captures, bounds or chooses values an update must not drop)"
              : run == nil
                ? " (the command prints these lines in a fixed order: fix the block by hand, or drop it)"
                : ""))
      }
    }
  }

  /// The new lines must parse and (unless a line was left as written) match the output, with
  /// nothing hidden that a failing command printed.
  static func verify(
    _ out: [String], problems: [String], step: Transcript.Step, result: TranscriptPlayer.StepResult
  ) -> StepUpdate {
    let expected = step.expected
    guard let parsed = try? ExpectedOutput(lines: out, file: expected.file, firstLine: expected.firstLine)
    else {
      return StepUpdate(
        lines: expected.lines, captures: nil,
        problems: problems + [
          "line \(step.line): the output could not be rewritten without losing a capture; left as written"
        ])
    }
    if !problems.isEmpty { return StepUpdate(lines: out, captures: nil, problems: problems) }
    guard case .matched(let c, let coverage) = parsed.match(result.actual, captures: result.capturesBefore)
    else {
      return StepUpdate(
        lines: expected.lines, captures: nil,
        problems: ["line \(step.line): the rewritten output would not match; left as written"])
    }
    var check = step
    check.expected = parsed
    if let problem = TranscriptPlayer.failureProblem(
      check, outcomes: result.outcomes, actual: result.actual, coverage: coverage)
    {
      return StepUpdate(lines: out, captures: nil, problems: [problem.report])
    }
    return StepUpdate(lines: out, captures: c, problems: [])
  }

  /// The output line in `range` most like a written line (the longest common start of their
  /// text, at least a word's worth), or nil.
  static func mostAlike(_ source: String, in actual: [String], _ range: Range<Int>) -> Int? {
    let written = Array(source)
    var best: (index: Int, length: Int)?
    for j in range {
      let length = zip(written, actual[j]).prefix { $0 == $1 }.count
      if length >= 3 && length > (best?.length ?? 0) { best = (j, length) }
    }
    return best?.index
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
