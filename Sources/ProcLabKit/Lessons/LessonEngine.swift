import Foundation

/// The lesson state machine: which lesson and step the learner is on, what
/// they captured, which hints they saw; checks every command against the
/// current step and saves progress after every change.
public final class LessonEngine {
  public private(set) var course: Course
  public let store: ProgressStore
  let registry: Registry

  /// The lesson being taken.
  public struct Active {
    public var lesson: Lesson
    public var progress: LessonProgress
    public var captures: Captures
    public var hintsShown = 0
    public var step: LessonStep { lesson.steps[progress.step] }
    public var passed: Bool { progress.passed.contains(progress.step) }
    public var answer: String? { progress.answers[String(progress.step)] }
  }
  public private(set) var active: Active?
  /// True while `skip` runs a step's command (its own check decides, not the observer).
  var skipping = false

  public init(course: Course, store: ProgressStore, registry: Registry) {
    self.course = course
    self.store = store
    self.registry = registry
  }

  public func reload(directory: String) {
    course = LessonLibrary.load(directory: directory)
    active = nil
  }

  /// `proclab [race 3/7]> `, with `ok` once the step has passed.
  public var prompt: String? {
    guard let a = active else { return nil }
    // ASCII only: readline (without a UTF-8 locale) counts bytes to place the cursor.
    return "proclab [\(a.lesson.id) \(a.progress.step + 1)/\(a.lesson.steps.count)\(a.passed ? " ok" : "")]> "
  }

  /// The warning of the progress file, once.
  func warnings() -> [String] {
    guard let w = store.warning else { return [] }
    store.warning = nil
    return [Style.yellow("warning: " + w)]
  }

  // MARK: lessons and progress

  public enum Status: Equatable {
    case notStarted
    case inProgress(step: Int, of: Int)
    case done
  }

  public func status(_ lesson: Lesson) -> Status {
    guard let p = store[lesson.id] else { return .notStarted }
    if p.done && (p.passed.isEmpty || active?.lesson.id != lesson.id) { return .done }
    return .inProgress(step: p.step + 1, of: lesson.steps.count)
  }

  static func bar(_ fraction: Double, width: Int = 20) -> String {
    let filled = Int((max(0, min(1, fraction)) * Double(width)).rounded())
    return "[" + String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled) + "]"
  }

  /// The table `lessons` prints.
  public func listing() -> [String] {
    var out = warnings()
    if course.lessons.isEmpty && course.errors.isEmpty {
      out.append(
        course.directory == nil
          ? "No lessons found: run proclab from its repository, set PROCLAB_LESSONS, or use --lessons DIR."
          : "No lessons in \(course.directory!).")
      return out
    }
    var t = Table([])
    var done = 0
    for (i, lesson) in course.lessons.enumerated() {
      let missing = course.missingCommands(lesson, registry: registry)
      let passed = Double(store[lesson.id]?.passed.count ?? 0) / Double(max(1, lesson.steps.count))
      var label: String
      var fraction = passed
      switch status(lesson) {
      case .notStarted: label = "not started"
      case .inProgress(let k, let n): label = "in progress, step \(k) of \(n)"
      case .done:
        label = "done"
        fraction = 1
        done += 1
      }
      if !missing.isEmpty { label = "needs \(missing.joined(separator: ", ")) (not in this build)" }
      t.add([String(i + 1), lesson.id, lesson.title, LessonEngine.bar(fraction, width: 10), label])
    }
    out += t.lines
    for e in course.errors { out.append(Style.red("could not load \(e)")) }
    out.append(
      "course: \(done) of \(course.lessons.count) done \(LessonEngine.bar(Double(done) / Double(max(1, course.lessons.count))))"
    )
    out.append("Type 'lesson NUMBER' or 'lesson NAME' to start or resume one.")
    return out
  }

  /// `progress`: the steps of the current lesson with marks, and the values captured so far.
  public func progressLines() -> [String] {
    guard let a = active else {
      return ["You are not in a lesson."] + listing()
    }
    var out = [Style.bold("\(a.lesson.title)") + " — step \(a.progress.step + 1) of \(a.lesson.steps.count)"]
    for (i, s) in a.lesson.steps.enumerated() {
      let mark = a.progress.passed.contains(i) ? "✓" : (i == a.progress.step ? "→" : "·")
      out.append("  \(mark) \(i + 1). \(s.title)")
    }
    out.append(
      "  " + LessonEngine.bar(Double(a.progress.passed.count) / Double(a.lesson.steps.count))
        + " \(a.progress.passed.count) of \(a.lesson.steps.count) steps passed")
    if !a.progress.captures.isEmpty {
      out.append(
        "  your numbers: "
          + a.progress.captures.sorted { $0.key < $1.key }.map { "\($0.key) = \($0.value)" }.joined(
            separator: ", "))
    }
    return out
  }

  // MARK: moving through a lesson

  /// `lesson NAME|NUMBER`: starts, resumes or (when done) retakes a lesson.
  /// Without a name: resumes the last lesson, or the first one not done.
  public func start(_ name: String?) throws -> [String] {
    var out = warnings()
    let lesson: Lesson
    if let name {
      guard let found = course.find(name) else {
        let names = course.lessons.enumerated().map { "\($0.offset + 1) \($0.element.id)" }.joined(
          separator: ", ")
        throw UsageError(
          "lesson: no lesson '\(Printable.word(name))'; \(names.isEmpty ? "no lessons are loaded (see 'lessons')" : "lessons: " + names)"
        )
      }
      lesson = found
    } else if let current = store.current.flatMap({ course.find($0) }), store[current.id]?.done != true {
      lesson = current
    } else if let first = course.lessons.first(where: { store[$0.id]?.done != true }) ?? course.lessons.first
    {
      lesson = first
    } else {
      throw UsageError("lesson: no lessons are loaded; see 'lessons'")
    }
    let missing = course.missingCommands(lesson, registry: registry)
    if !missing.isEmpty {
      throw UsageError(
        "lesson: '\(lesson.id)' needs \(missing.joined(separator: ", ")), which this build of proclab does not have"
      )
    }
    var progress = store[lesson.id] ?? LessonProgress()
    // The file may have changed since: forget steps that no longer exist.
    progress.passed = progress.passed.filter { $0 < lesson.steps.count }
    let resuming = store[lesson.id] != nil && !(progress.done && progress.passed.count == lesson.steps.count)
    if progress.done && progress.passed.count == lesson.steps.count {
      // Retaking a finished lesson: from the top, keeping 'done'.
      progress = LessonProgress()
      progress.done = true
    }
    progress.step = min(progress.step, lesson.steps.count - 1)
    var captures = Captures()
    for (k, v) in progress.captures { captures[k] = v }
    active = Active(lesson: lesson, progress: progress, captures: captures)
    store.current = lesson.id
    save()
    if resuming && (progress.step > 0 || !progress.passed.isEmpty) {
      out.append(
        Style.bold("Resuming '\(lesson.title)' at step \(progress.step + 1) of \(lesson.steps.count)."))
      if !progress.captures.isEmpty {
        out.append(
          Style.dim(
            "(Your numbers from last time are kept. A process from an earlier session is gone: if a step names one, go 'back' and run that step again.)"
          ))
      }
    } else {
      out.append(
        Style.bold(
          "Lesson \(course.lessons.firstIndex { $0.id == lesson.id }.map { $0 + 1 } ?? 0): \(lesson.title)"))
      out += lesson.introduction.map(render)
      out.append(
        Style.dim(
          "Commands: 'hint', 'skip' (runs the step for you), 'back', 'next', 'progress', 'restart', 'leave'. Every other command works as usual."
        ))
    }
    out += presentStep()
    return out
  }

  /// The current step: heading, narration, prediction, what to run.
  func presentStep() -> [String] {
    guard let a = active else { return [] }
    let step = a.step
    var out = ["", Style.bold("Step \(a.progress.step + 1)/\(a.lesson.steps.count) · \(step.title)")]
    out += step.narration.map { render(LessonText.fill($0, a.captures)) }
    if let p = step.prediction {
      out.append("")
      out.append(Style.cyan("Predict: ") + render(LessonText.fill(p.question, a.captures)))
      for (i, c) in p.choices.enumerated() {
        out.append("  \(p.letter(i))) " + render(LessonText.fill(c, a.captures)))
      }
      if let answer = a.answer {
        out.append(Style.dim("  (you answered \(answer))"))
      } else {
        out.append(
          Style.dim(
            "  Type the letter (A–\(p.letter(p.choices.count - 1))) or 'answer B' first, then run the command."
          ))
      }
    }
    out.append(Style.cyan("▶ run: ") + step.displayCommand(a.captures))
    if a.passed { out.append(Style.green("✓ passed already") + " — 'next' to continue") }
    return out
  }

  /// Markdown made terminal-friendly: `**bold**` as bold, everything else as written.
  func render(_ line: String) -> String {
    let parts = line.components(separatedBy: "**")
    guard parts.count >= 3, parts.count % 2 == 1 else { return line }
    return parts.enumerated().map { $0.offset % 2 == 1 ? Style.bold($0.element) : $0.element }.joined()
  }

  func requireActive(_ verb: String) throws -> Active {
    guard let a = active else {
      throw UsageError("\(verb): you are not in a lesson; type 'lessons' to see them, 'lesson 1' to start")
    }
    return a
  }

  func save() {
    if let a = active { store[a.lesson.id] = a.progress }
    store.save()
  }

  public func next() throws -> [String] {
    let a = try requireActive("next")
    guard a.passed else {
      throw UsageError(
        "next: step \(a.progress.step + 1) is not passed yet; run '\(a.step.displayCommand(a.captures))', or type 'hint', or 'skip' to have it run for you"
      )
    }
    if a.progress.step + 1 < a.lesson.steps.count {
      active!.progress.step += 1
      active!.hintsShown = 0
      save()
      return presentStep()
    }
    return finish()
  }

  /// The last step passed: the summary in the learner's own numbers.
  func finish() -> [String] {
    guard let a = active else { return [] }
    var out = [Style.bold("Summary · \(a.lesson.title)")]
    out += a.lesson.closing.map { render(LessonText.fill($0, a.captures) { _ in "(not measured)" }) }
    active!.progress.done = true
    save()
    active = nil
    let index = course.lessons.firstIndex { $0.id == a.lesson.id } ?? 0
    out.append("")
    out.append(Style.green("✓ Lesson \(index + 1) done") + " (\(a.lesson.steps.count) steps).")
    if index + 1 < course.lessons.count {
      let next = course.lessons[index + 1]
      out.append("Next: lesson \(index + 2), '\(next.title)' — type 'lesson \(index + 2)'.")
    } else {
      out.append("That was the last lesson of the course. 'lessons' shows them all.")
    }
    return out
  }

  public func back() throws -> [String] {
    let a = try requireActive("back")
    guard a.progress.step > 0 else { throw UsageError("back: this is the first step") }
    active!.progress.step -= 1
    active!.hintsShown = 0
    save()
    return presentStep()
  }

  public func hint() throws -> [String] {
    let a = try requireActive("hint")
    let hints = a.step.hints
    if a.hintsShown < hints.count {
      active!.hintsShown += 1
      let text = LessonText.fill(hints[a.hintsShown], a.captures).split(separator: "\n").map(String.init)
      var out = [Style.cyan("Hint \(a.hintsShown + 1) of \(hints.count): ") + render(text.first ?? "")]
      out += text.dropFirst().map { "  " + render($0) }
      return out
    }
    let run = a.step.concreteCommand(a.captures) ?? a.step.displayCommand(a.captures)
    return [
      (hints.isEmpty ? "This step has no hints." : "No more hints.")
        + " Type exactly: \(run)   (or 'skip' to have it run for you)"
    ]
  }

  public func restart(_ name: String?) throws -> [String] {
    let id: String
    if let name {
      guard let lesson = course.find(name) else {
        throw UsageError("restart: no lesson '\(Printable.word(name))'")
      }
      id = lesson.id
    } else {
      id = try requireActive("restart").lesson.id
    }
    let wasDone = store[id]?.done ?? false
    var fresh = LessonProgress()
    fresh.done = wasDone
    store[id] = fresh
    active = nil
    store.save()
    return try start(id)
  }

  public func leave() throws -> [String] {
    let a = try requireActive("leave")
    save()
    active = nil
    return [
      "Left '\(a.lesson.title)' at step \(a.progress.step + 1) of \(a.lesson.steps.count); your progress is saved. 'lesson \(a.lesson.id)' resumes it."
    ]
  }

  public func answer(_ letter: String) throws -> [String] {
    let a = try requireActive("answer")
    guard let p = a.step.prediction else { throw UsageError("answer: this step asks no prediction") }
    let up = letter.uppercased()
    guard let i = Prediction.letters.firstIndex(of: up), i < p.choices.count else {
      throw UsageError(
        "answer: choose one of \(p.choices.indices.map { p.letter($0) }.joined(separator: ", ")), got '\(Printable.word(letter))'"
      )
    }
    if a.passed {
      return ["You already ran this step; the answer was \(p.answerText)."]
    }
    active!.progress.answers[String(a.progress.step)] = up
    save()
    return [
      "Your prediction: \(up)) " + render(LessonText.fill(p.choices[i], a.captures))
        + ". Now run it and see: \(a.step.displayCommand(a.captures))"
    ]
  }

  // MARK: checking commands

  /// Lesson verbs and reading aids never count as attempts at a step.
  static let neutral: Set<String> = ["help", "explain", "history", "trace", "set", "quit", "exit"]

  /// Called after every command the learner runs (the session's "lesson" observer).
  public func observe(_ outcome: Outcome) -> [String] {
    guard let a = active, !skipping else { return [] }
    if registry.command(named: outcome.command)?.area == .lessons { return [] }
    if outcome.command.isEmpty { return [] }
    let result = StepCheck.check(a.step, outcome: outcome, captures: a.captures)
    let n = "\(a.progress.step + 1)/\(a.lesson.steps.count)"
    let wanted = a.step.displayCommand(a.captures)
    switch result {
    case .passed(let captures):
      return passed(captures, ranBy: nil)
    case .otherCommand:
      if LessonEngine.neutral.contains(outcome.command) || a.passed { return [] }
      return [Style.dim("· step \(n) still waits for: \(wanted)")]
    case .otherArguments:
      if a.passed { return [] }
      return [
        Style.yellow("✗ step \(n): ") + "this step asks for '\(wanted)'; '\(outcome.input)' does not fit it."
      ]
    case .failed(let error):
      return [
        Style.yellow("✗ step \(n): ") + "that is the step's command, but it failed: \(error)",
        "  Fix what the error says and run it again, or type 'hint'.",
      ]
    case .mismatch(let m):
      var out = [
        Style.yellow("✗ step \(n): ")
          + "that is the step's command, but its output is not what the lesson expects:"
      ]
      out += m.report.split(separator: "\n").map { "  " + $0 }
      out.append("  Run it again (results vary between runs), or type 'hint' or 'skip'.")
      return out
    }
  }

  /// Records a passed step: captures saved, prediction revealed.
  func passed(_ captures: Captures, ranBy skip: String?) -> [String] {
    guard let a = active else { return [] }
    active!.captures = captures
    for name in a.step.captureNames {
      if let v = captures[name] { active!.progress.captures[name] = v }
    }
    if !a.progress.passed.contains(a.progress.step) { active!.progress.passed.append(a.progress.step) }
    save()
    let n = "\(a.progress.step + 1)/\(a.lesson.steps.count)"
    var out = [
      Style.green("✓ step \(n) passed")
        + (skip == nil ? ": the output matched the lesson." : " (skipped: proclab ran it for you).")
    ]
    let values = a.step.captureNames.compactMap { name in captures[name].map { "\(name) = \($0)" } }
    if !values.isEmpty { out.append("  your numbers: " + values.joined(separator: ", ")) }
    if let p = a.step.prediction {
      let right = a.answer.flatMap { Prediction.letters.firstIndex(of: $0) }.map { p.correct.contains($0) }
      switch (a.answer, right) {
      case (let answer?, true?): out.append(Style.cyan("Prediction: ") + "you said \(answer) — right.")
      case (let answer?, _):
        out.append(Style.cyan("Prediction: ") + "you said \(answer); the answer is \(p.answerText).")
      default:
        out.append(
          Style.cyan("Prediction: ") + "you ran it before predicting; the answer is \(p.answerText).")
      }
      out += p.why.map { "  " + render(LessonText.fill($0, captures)) }
    }
    out.append(
      a.progress.step + 1 < a.lesson.steps.count
        ? "Type 'next' for step \(a.progress.step + 2)." : "Type 'next' for the summary.")
    return out
  }

  /// `skip`: runs the step's command for the learner (so later steps have its values) and passes it.
  public func skip(session: Session) throws -> [String] {
    let a = try requireActive("skip")
    guard let command = a.step.concreteCommand(a.captures) else {
      throw UsageError("skip: this step's command needs a value from an earlier step; go 'back' and run it")
    }
    session.write(Style.dim("skip: running '\(command)' for you"))
    skipping = true
    // The command comes from the lesson file, not from the person: it may not run external
    // programs (spawn --exec); typed by the person, the same command may.
    // Nor may it start a recording (record FILE --force would overwrite any file).
    let allowed = session.allowExec
    let playing = session.isPlayingFile
    session.allowExec = false
    session.isPlayingFile = true
    defer {
      skipping = false
      session.allowExec = allowed
      session.isPlayingFile = playing
    }
    var captures = a.captures
    var lastOutcome: Outcome?
    for words in (try? WordSplitter.split(command)) ?? [] {
      let o = session.run(words: words)
      session.present(o)
      lastOutcome = o
      // Ctrl-C during the command stops the skip too: the step stays as it was.
      if !o.succeeded && (o.error ?? "").contains("interrupted (Ctrl-C)") { throw Interrupted() }
    }
    var out: [String] = []
    if let o = lastOutcome {
      switch StepCheck.check(a.step, outcome: o, captures: captures) {
      case .passed(let c): captures = c
      case .mismatch(let m):
        out.append(
          Style.yellow("note: ")
            + "the output differed from the lesson's (\(m.report.split(separator: "\n").first ?? ""))")
      case .failed(let e): out.append(Style.yellow("note: ") + "the command failed: \(e)")
      default: break
      }
    }
    return out + passed(captures, ranBy: command)
  }
}
