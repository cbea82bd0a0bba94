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
    let actual = result.actual
    let before = result.capturesBefore
    let keepAll = StepUpdate(lines: expected.lines, captures: nil, problems: [])
    let budget = MatchBudget(steps: 20 * MatchBudget.defaultSteps)

    // How each output line would be written new.
    let names = RecordedNames()
    names.know(before)
    names.reserve(expected.capturedNames)
    let generalizer = OutputGeneralizer(names: names, historyBeforeStart: 0)
    var plans: [OutputGeneralizer.Plan] = []
    var mapping: [(plan: Int, line: Int)] = []
    for outcome in result.outcomes {
      let plan = generalizer.plan(outcome, shown: Recorder.rendered(outcome, settings: settings))
      for k in plan.shown.indices { mapping.append((plans.count, k)) }
      plans.append(plan)
    }
    let mapped =
      mapping.count >= actual.count
      && actual.indices.allSatisfy { j in
        let (p, k) = mapping[j]
        return LinePattern.trimTrailing(Style.stripped(plans[p].shown[k])) == actual[j]
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
    func newLine(_ j: Int, _ captures: Captures) -> GeneralizedLine {
      guard mapped else { return GeneralizedLine(text: plain(actual[j]), block: nil) }
      names.know(captures)
      let (p, k) = mapping[j]
      return GeneralizedLine(
        text: generalizer.write(plans[p], line: k), block: plans[p].blocks[k].map { p * 10_000 + $0 })
    }
    let errorLines = Set(
      result.outcomes.compactMap { o -> String? in
        guard !o.succeeded, let e = o.error else { return nil }
        return LinePattern.trimTrailing(Style.stripped(e).split(separator: "\n").first.map(String.init) ?? "")
      })

    // Where each written line or block still matches (earliest first, in order).
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
      if budget.stop != nil {
        return StepUpdate(
          lines: expected.lines, captures: nil,
          problems: ["line \(step.line): \(budget.message ?? "too large to update"); left as written"])
      }
    }

    // The new lines: kept lines in place, new lines in the gaps between them.
    var out: [String] = []
    var problems: [String] = []
    var gapLines: [GeneralizedLine] = []
    var pendingSkip = false
    cursor = 0
    captures = before
    func gap(upTo end: Int) {
      let rows = cursor..<max(cursor, end)
      let showsError = rows.contains { errorLines.contains(actual[$0]) }
      if pendingSkip { out.append(ExpectedOutput.skipMarker) }
      if !rows.isEmpty && (!pendingSkip || showsError) {
        gapLines = rows.map { newLine($0, captures) }
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
          p.hasConstraints || p.placeholders.contains { if case .anonymous = $0.role { false } else { true } }
        if !knowledge {
          // Plain text that changed. Between two kept lines the gap's new lines replace it; next
          // to a `...` (which covers a gap) it is rewritten from the output line in its place:
          // right after the line kept before it, or after a `...` the most alike before the next.
          let followedBySkip =
            e + 1 < expected.elements.count
            && { if case .skip = expected.elements[e + 1] { true } else { false } }()
          guard pendingSkip || followedBySkip else { continue }
          let limit = nextPosition(after: e)
          let place =
            pendingSkip ? mostAlike(p.source, in: actual, cursor..<limit) : cursor < limit ? cursor : nil
          if let j = place {
            gap(upTo: j)
            out.append(rewritten(j, captures))
            cursor = j + 1
          } else {
            if pendingSkip && out.last != ExpectedOutput.skipMarker { out.append(ExpectedOutput.skipMarker) }
            pendingSkip = false
            out.append(written)
            problems.append(
              "line \(p.line) left as written: no output line is in its place any more: \(ExpectedOutput.cut(p.source))"
            )
          }
          continue
        }
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
        } else if let j = pendingSkip
          ? mostAlike(p.source, in: actual, cursor..<limit) : cursor < limit ? cursor : nil
        {
          // Left in its place, in place of the output line there (not written a second time).
          gap(upTo: j)
          out.append(written)
          cursor = j + 1
          problems.append(
            "line \(p.line) left as written: it no longer matches, and it holds a \(p.hasConstraints ? "bound or choice" : "named value") an update must not drop: \(ExpectedOutput.cut(p.source)) (output: \(ExpectedOutput.cut(actual[j])))"
          )
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
          // Rewritten in place from the rows the recorder writes as one block; those rows are
          // this block's, never written again after it.
          let limit = nextPosition(after: e)
          let run = blockRun(in: cursor..<limit)
          let knowledge = patterns.contains {
            $0.placeholders.contains {
              if case .capture = $0.role { true } else { $0.constraint != nil }
            }
          }
          // Lists of choices the rows had (the recorder writes the command's own) must come back
          // as they were: a narrowed list is a person's, and is not loosened.
          let choices = Set(patterns.flatMap { $0.placeholders.filter { $0.choices != nil }.map(\.source) })
          let rows = run.map { GeneralizedLine.written($0.map { newLine($0, captures) }) } ?? []
          let keepsChoices = choices.allSatisfy { c in rows.contains { $0.contains(c) } }
          if let run, !knowledge, keepsChoices {
            gap(upTo: run.lowerBound)
            out += rows
            cursor = run.upperBound
          } else {
            gap(upTo: run?.lowerBound ?? cursor)
            out += written
            cursor = run?.upperBound ?? min(limit, cursor + patterns.count)
            problems.append(
              "the unordered block on line \(line) no longer matches its output lines; left as written"
                + (knowledge || !keepsChoices
                  ? " (it captures, bounds or chooses values an update must not drop)" : ""))
          }
        }
      }
    }
    gap(upTo: actual.count)
    if let marker = expected.failureMarkerLine {
      out.append(expected.lines[marker - expected.firstLine])
    }

    // The new lines must parse and (unless a line was left) match the output.
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
