/// What the engine shows: a step, a hint, the summary. Prose comes out as one
/// line per paragraph; the shell wraps it to the terminal (`Render.fit`).
extension LessonEngine {
  /// The current step: heading, narration, prediction, what to run.
  func presentStep() -> [String] {
    guard let a = active else { return [] }
    let step = a.step
    var out = ["", Style.bold("Step \(a.progress.step + 1)/\(a.lesson.steps.count) · \(step.title)")]
    out += LessonText.paragraphs(step.narration).map { render(fill($0)) }
    if let p = step.prediction {
      out.append("")
      out.append(Style.cyan("Predict: ") + render(fill(p.question)))
      for (i, c) in p.choices.enumerated() { out.append("  \(p.letter(i))) " + render(fill(c))) }
      if let answer = a.answer {
        out.append(Style.dim("  (you answered \(answer))"))
      } else {
        out.append(
          Style.dim(
            "  Type the letter (A–\(p.letter(p.choices.count - 1))) or `answer B` first, then run the command."
          ))
      }
    }
    out += runLines()
    if a.passed { out.append(Style.green("✓ passed already") + " — 'next' to continue") }
    return out
  }

  /// `▶ run: COMMAND` with what may vary, or what to redo first when a value it needs is stale.
  func runLines() -> [String] {
    guard let a = active else { return [] }
    if let redo = redoAdvice(for: a.step.commandReferences) { return [Style.cyan("▶ first: ") + redo] }
    let command = Printable.line(a.step.displayCommand(a.captures))
    var out = [Style.cyan("▶ run: ") + command]
    let freedom = a.step.freedom
    if !freedom.isEmpty { out[0] += Style.dim("   (\(freedom.joined(separator: "; ")))") }
    return out
  }

  /// When some of `names` are stale, missing or name processes that have ended: which step to
  /// run again, and how to get there. Nil when every value is there and true.
  func redoAdvice(for names: [String]) -> String? {
    guard let a = active else { return nil }
    let missing = names.filter { a.captures[$0] == nil }
    let ended = CaptureFreshness.ended(
      names.filter { a.captures[$0] != nil }, captures: a.captures, lesson: a.lesson)
    guard let name = (missing + ended).first else { return nil }
    let value = a.progress.captures[name].map { " (\($0))" } ?? ""
    let why =
      ended.contains(name)
      ? "that process has ended"
      : a.progress.captures[name] == nil ? "it was never captured" : "it was captured in an earlier shell"
    guard let source = CaptureFreshness.source(of: name, in: a.lesson) else {
      return "this step needs \(name)\(value), but \(why)."
    }
    let step = source.index + 1
    let how =
      source.index == a.progress.step
      ? "run this step's command again"
      : source.index < a.progress.step ? "type `back \(step)` and run it again" : "go on to it first"
    return "this step needs \(name)\(value) from step \(step) '\(source.title)', but \(why): \(how)."
  }

  /// `{{name}}` filled in with fresh values; a stale or missing one says where it comes from.
  func fill(_ text: String) -> String {
    guard let a = active else { return text }
    return LessonText.fill(text, a.captures) { inner in
      guard !inner.contains(":") else { return "{{" + inner + "}}" }
      let step = CaptureFreshness.source(of: inner, in: a.lesson).map { " from step \($0.index + 1)" } ?? ""
      return "<\(inner)\(step)>"
    }
  }

  /// Markdown made terminal-friendly: `**bold**` as bold, everything else as written.
  func render(_ line: String) -> String {
    let parts = line.split(separator: "**", omittingEmptySubsequences: false).map(String.init)
    guard parts.count >= 3, parts.count % 2 == 1 else { return line }
    return parts.enumerated().map { $0.offset % 2 == 1 ? Style.bold($0.element) : $0.element }.joined()
  }

  public func hint() throws -> [String] {
    let a = try requireActive("hint")
    let hints = a.step.hints
    if a.hintsShown < hints.count {
      active!.hintsShown += 1
      let text = LessonText.paragraphs(fill(hints[a.hintsShown]).split(separator: "\n").map(String.init))
      var out = [Style.cyan("Hint \(a.hintsShown + 1) of \(hints.count): ") + render(text.first ?? "")]
      out += text.dropFirst().map { "  " + render($0) }
      return out
    }
    let none = hints.isEmpty ? "This step has no hints." : "No more hints."
    if let redo = redoAdvice(for: a.step.commandReferences) { return ["\(none) First: \(redo)"] }
    let run = Printable.line(a.step.displayCommand(a.captures))
    return ["\(none) Type exactly: \(run)   (or 'skip' to have it run for you)"]
  }

  /// The last step passed: the summary in the learner's own numbers. A point that would
  /// quote a stale or missing value is left out (and the steps to redo named), so the
  /// summary never contradicts what the machine shows now.
  func finish() -> [String] {
    guard let a = active else { return [] }
    var out = [Style.bold("Summary · \(a.lesson.title)")]
    var left: Set<String> = []
    for unit in LessonText.paragraphs(a.lesson.closing) {
      let names = LessonText.quotedNames(in: unit)
      let unknown = names.filter { a.captures[$0] == nil }
      if unknown.isEmpty {
        out.append(render(fill(unit)))
      } else {
        left.formUnion(unknown)
      }
    }
    if !left.isEmpty {
      let steps = Set(left.compactMap { CaptureFreshness.source(of: $0, in: a.lesson)?.index }).sorted()
      out.append(
        Style.dim(
          "(Some points are left out: they would quote values from an earlier shell or an earlier run, "
            + "not this one (\(left.sorted().joined(separator: ", "))). Run step\(steps.count == 1 ? "" : "s") "
            + steps.map { String($0 + 1) }.joined(separator: ", ")
            + " again to see them: 'restart' starts over.)"))
    }
    active!.progress.done = true
    save()
    active = nil
    let index = course.lessons.firstIndex { $0.id == a.lesson.id } ?? 0
    out.append("")
    out.append(Style.green("✓ Lesson \(index + 1) done") + " (\(a.lesson.steps.count) steps).")
    if index + 1 < course.lessons.count {
      let next = course.lessons[index + 1]
      out.append("Next: lesson \(index + 2), '\(next.title)' — type `lesson \(index + 2)`.")
    } else {
      out.append("That was the last lesson of the course. 'lessons' shows them all.")
    }
    return out
  }
}

extension LessonText {
  /// Markdown lines joined into paragraphs, one line each, so the terminal's width decides
  /// where they break: lines of one paragraph are joined; a blank line, a list item
  /// (`- `, `* `, `1. `), a quote (`> `), a table row (`|`) or a fence starts a new one, and
  /// fenced code stays line by line.
  static func paragraphs(_ lines: [String]) -> [String] {
    enum Kind { case none, plain, quote }
    var out: [String] = []
    var inFence = false
    var last = Kind.none
    for line in lines {
      let bare = line.trimmingBlanks()
      if bare.hasPrefix("```") { inFence.toggle() }
      if inFence || bare.hasPrefix("```") || bare.isEmpty || bare.hasPrefix("|") || bare.hasPrefix("#") {
        out.append(line)
        last = .none
        continue
      }
      if bare.hasPrefix(">") {
        let text = bare.dropFirst().trimmingBlanks()
        if last == .quote {
          out[out.count - 1] += " " + text
        } else {
          out.append(line)
        }
        last = .quote
        continue
      }
      if last == .plain && !isListItem(bare) {
        out[out.count - 1] += " " + bare
      } else {
        out.append(line)
      }
      last = .plain
    }
    return out
  }

  /// `- item`, `* item`, `1. item`.
  static func isListItem(_ bare: String) -> Bool {
    if bare.hasPrefix("- ") || bare.hasPrefix("* ") { return true }
    let digits = bare.prefix { $0.isASCII && $0.isNumber }
    return !digits.isEmpty && bare.dropFirst(digits.count).hasPrefix(". ")
  }
}
