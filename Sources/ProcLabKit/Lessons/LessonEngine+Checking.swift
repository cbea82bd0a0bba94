/// Checking the learner's commands against the current step, and `skip`.
extension LessonEngine {
  /// Lesson verbs and reading aids never count as attempts at a step.
  static let neutral: Set<String> = ["help", "explain", "history", "trace", "set", "quit", "exit", "clear"]

  /// The step's expected output, with values from an earlier shell taken afresh from
  /// this run (`{{SHELL}}` read as `{{SHELL:pid}}`) instead of compared with a dead PID.
  func expectedOutput(_ a: Active) -> ExpectedOutput {
    var recapture: [String: Variable.Kind] = [:]
    for name in a.step.outputReferences where a.captures[name] == nil {
      if let kind = a.lesson.kind(of: name) { recapture[name] = kind }
    }
    return StepBlock.recapturing(a.step.expected, recapture)
  }

  func check(_ outcome: Outcome, _ a: Active) -> StepCheck {
    StepCheck.check(
      a.step, outcome: outcome, captures: a.captures, registry: registry, expected: expectedOutput(a))
  }

  /// Called after every command the learner runs (the session's "lesson" observer).
  public func observe(_ outcome: Outcome) -> [String] {
    guard let a = active, !skipping else { return [] }
    if outcome.command.isEmpty || registry.command(named: outcome.command)?.area == .lessons { return [] }
    let n = "\(a.progress.step + 1)/\(a.lesson.steps.count)"
    let wanted = Printable.line(a.step.displayCommand(a.captures))
    switch check(outcome, a) {
    case .passed(let captures):
      return passed(captures, ranBy: nil) + warnings()
    case .otherCommand:
      if LessonEngine.neutral.contains(outcome.command) || a.passed { return [] }
      return [Style.dim("· step \(n) still waits for: \(wanted)")]
    case .otherArguments(let why):
      if a.passed { return [] }
      let reason = why.map { " (\(Printable.line($0)))" } ?? ""
      return [
        Style.yellow("✗ step \(n): ")
          + "this step asks for `\(wanted)`; `\(Printable.line(outcome.input))` does not fit it\(reason)."
      ] + (redoAdvice(for: a.step.commandReferences).map { ["  First: " + $0] } ?? freedomLine(a))
    case .failed(let error):
      if a.passed { return alreadyPassed(a) }
      return [
        Style.yellow("✗ step \(n): ") + "that is the step's command, but it failed: \(Printable.line(error))",
        "  "
          + (redoAdvice(for: referencedNames(a))
            ?? "Fix what the error says and run it again, or type 'hint'."),
      ]
    case .mismatch(let m):
      if a.passed { return alreadyPassed(a) }
      var out = [
        Style.yellow("✗ step \(n): ")
          + "that is the step's command, but its output is not what the lesson expects."
      ]
      out += LessonEngine.difference(m)
      out.append(
        "  "
          + (redoAdvice(for: referencedNames(a), endedCounts: false)
            ?? "Run it again (results vary between runs), or type 'hint' or 'skip'."))
      return out
    }
  }

  /// A step that passed already and is run again with another result: nothing is lost.
  func alreadyPassed(_ a: Active) -> [String] {
    let n = a.progress.step + 1
    let then =
      n < a.lesson.steps.count ? "type 'next' for step \(n + 1)" : "type 'next' for the summary"
    return [
      Style.dim(
        "· step \(n)/\(a.lesson.steps.count) passed already (this run's output differs, which changes nothing): \(then)."
      )
    ]
  }

  /// Where the output parted from the lesson's, in the learner's terms: the expected line with
  /// the values known filled in (`…` for the rest) and the line found instead. Never the
  /// lesson file's placeholders, line numbers or captures.
  static func difference(_ m: Mismatch) -> [String] {
    var out: [String] = []
    if let expected = m.expectedLine {
      out.append("  The lesson expects a line like:")
      out.append("    " + Printable.line(expected))
      if let actual = m.actualLine {
        out.append("  Your output has there:")
        out.append("    " + Printable.line(actual))
      } else {
        out.append("  Your output ended before it.")
      }
    } else if let actual = m.actualLine {
      out.append("  Your output goes on where the lesson's ends:")
      out.append("    " + Printable.line(actual))
    }
    return out
  }

  func referencedNames(_ a: Active) -> [String] { a.step.commandReferences + a.step.outputReferences }

  func freedomLine(_ a: Active) -> [String] {
    let freedom = a.step.freedom
    return freedom.isEmpty ? [] : ["  It accepts \(freedom.joined(separator: "; "))."]
  }

  /// Records a passed step: captures saved (and what they contradict marked stale), prediction revealed.
  func passed(_ captures: Captures, ranBy skip: String?) -> [String] {
    guard let a = active else { return [] }
    var progress = a.progress
    CaptureFreshness.record(
      captures, passing: a.progress.step, in: a.lesson, progress: &progress, previous: a.captures)
    active!.progress = progress
    active!.captures = CaptureFreshness.fresh(progress)
    save()
    let n = "\(a.progress.step + 1)/\(a.lesson.steps.count)"
    var out = [
      Style.green("✓ step \(n) passed")
        + (skip == nil ? ": the output matched the lesson." : " (skipped: proclab ran it for you).")
    ]
    let values = a.step.captureNames.compactMap { name in
      active!.captures[name].map { "\(name) = \(Printable.line($0))" }
    }
    if !values.isEmpty { out.append("  your numbers: " + values.joined(separator: ", ")) }
    let undone = a.progress.passed.filter { !progress.passed.contains($0) }
    if !undone.isEmpty {
      out.append(
        Style.dim(
          "  (this run changed values that step\(undone.count == 1 ? "" : "s") "
            + undone.map { String($0 + 1) }.joined(separator: ", ") + " used: run "
            + (undone.count == 1 ? "it" : "them") + " again to see them with these)"))
    }
    out += predictionLines(a, captures: active!.captures, skipped: skip != nil)
    out += LessonText.paragraphs(a.step.afterword).map { render(fill($0)) }
    out.append(
      a.progress.step + 1 < a.lesson.steps.count
        ? "Type 'next' for step \(a.progress.step + 2)." : "Type 'next' for the summary.")
    return out
  }

  func predictionLines(_ a: Active, captures: Captures, skipped: Bool = false) -> [String] {
    guard let p = a.step.prediction else { return [] }
    var out: [String] = []
    let right = a.answer.flatMap { Prediction.letters.firstIndex(of: $0) }.map { p.correct.contains($0) }
    switch (a.answer, right) {
    case (let answer?, true?): out.append(Style.cyan("Prediction: ") + "you said \(answer) — right.")
    case (let answer?, _):
      out.append(Style.cyan("Prediction: ") + "you said \(answer); the answer is \(p.answerText).")
    default:
      out.append(
        Style.cyan("Prediction: ")
          + "\(skipped ? "skipped before a prediction" : "you ran it before predicting"); the answer is \(p.answerText)."
      )
    }
    out += LessonText.paragraphs(p.why).map { "  " + render(fill($0)) }
    return out
  }

  /// `skip`: runs the step's command for the learner (so later steps have its values) and passes it.
  /// The command comes from the lesson file, so it runs as a file's command would: no external
  /// programs, no recording, and never a lesson command (which could skip again, forever).
  public func skip(session: Session) throws -> [String] {
    let a = try requireActive("skip")
    guard !skipping else { throw UsageError("skip: a step's command cannot skip a step") }
    // A passed step has nothing left to skip: running its command again would only
    // replace its values. The learner wants to get past it, which is `next`.
    if a.passed {
      let onward =
        a.progress.step + 1 < a.lesson.steps.count ? "on to step \(a.progress.step + 2)" : "the lesson ends"
      return [Style.dim("skip: step \(a.progress.step + 1) passed already; \(onward)")] + (try next())
    }
    if let redo = redoAdvice(for: a.step.commandReferences) { throw UsageError("skip: " + redo) }
    guard let command = a.step.concreteCommand(a.captures),
      let lines = try? WordSplitter.split(command), !lines.isEmpty
    else {
      throw UsageError("skip: this step's command cannot be run for you; type it yourself ('hint' shows it)")
    }
    if let verb = lines.compactMap(\.first).first(where: { registry.command(named: $0)?.area == .lessons }) {
      throw UsageError(
        "skip: this step's command runs the lesson command '\(Printable.word(verb))', which skip never runs; type it yourself"
      )
    }
    session.write(Style.dim("skip: running '\(Printable.line(command))' for you"))
    skipping = true
    let allowed = session.allowExec
    let playing = session.isPlayingFile
    session.allowExec = false
    session.isPlayingFile = true
    defer {
      skipping = false
      session.allowExec = allowed
      session.isPlayingFile = playing
    }
    var lastOutcome: Outcome?
    for words in lines {
      let o = session.run(words: words)
      session.present(o)
      lastOutcome = o
      // Ctrl-C during the command stops the skip too: the step stays as it was.
      if !o.succeeded && (o.error ?? "").contains("interrupted (Ctrl-C)") { throw Interrupted() }
    }
    // What it did not capture is not kept from an earlier run: a later step that needs it says so.
    var captures = a.captures
    for name in a.step.captureNames { captures[name] = nil }
    var out: [String] = []
    if let o = lastOutcome {
      switch check(o, a) {
      case .passed(let c): captures = c
      case .mismatch(let m):
        out.append(Style.yellow("note: ") + "the output differed from the lesson's:")
        out += LessonEngine.difference(m)
      case .failed(let e): out.append(Style.yellow("note: ") + "the command failed: \(Printable.line(e))")
      default: break
      }
    }
    let missed = a.step.captureNames.filter { captures[$0] == nil }
    let result = passed(captures, ranBy: command)
    if !missed.isEmpty {
      active!.progress.stale = Array(Set(active!.progress.stale).union(missed)).sorted()
      active!.captures = CaptureFreshness.fresh(active!.progress)
      save()
      out.append(Style.dim("  (\(missed.joined(separator: ", ")) could not be read from this run)"))
    }
    return out + result + warnings()
  }
}
