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
            "  Type your letter (A–\(p.letter(p.choices.count - 1))) first, then run the command."
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
  /// `endedCounts` false: after the step's own command ran (it may be what ended the process).
  func redoAdvice(for names: [String], endedCounts: Bool = true) -> String? {
    guard let a = active else { return nil }
    let missing = names.filter { a.captures[$0] == nil }
    let ended =
      endedCounts
      ? CaptureFreshness.ended(names.filter { a.captures[$0] != nil }, captures: a.captures, lesson: a.lesson)
      : []
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

  /// Markdown made terminal-friendly: `**bold**` as bold, `*emphasis*` in italics (plain
  /// without colours), everything else as written.
  func render(_ line: String) -> String {
    let line = LessonText.emphasis(line) { Style.wrap($0, "3") }
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
    return [
      "\(none) This step's command is `\(run)` (any spelling with the same meaning works), or 'skip' runs it for you."
    ]
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
    if !left.isEmpty { out.append(Style.dim(leftOutNote(left, a))) }
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
      out.append(courseEnd(after: a.lesson.id))
    }
    return out
  }

  /// Why summary points were left out, in this session's own terms: values from an earlier
  /// shell, values a later run replaced (a new child's PID), or values never captured.
  func leftOutNote(_ left: Set<String>, _ a: Active) -> String {
    var earlier: [String] = []
    var replaced: [String] = []
    var missing: [String] = []
    for name in left.sorted() {
      if a.progress.captures[name] == nil {
        missing.append(name)
      } else if a.progress.capturedIn[name] != ProgressStore.shellToken {
        earlier.append(name)
      } else {
        replaced.append(name)
      }
    }
    var why: [String] = []
    if !earlier.isEmpty { why.append("\(LessonText.list(earlier)) came from an earlier shell") }
    if !replaced.isEmpty {
      why.append("\(LessonText.list(replaced)) described processes a later step replaced")
    }
    if !missing.isEmpty { why.append("\(LessonText.list(missing)) could not be read") }
    let steps = Set(left.compactMap { CaptureFreshness.source(of: $0, in: a.lesson)?.index }).sorted()
    return "(Some points are left out: " + why.joined(separator: "; ") + ". Run step"
      + (steps.count == 1 ? " " : "s ") + steps.map { String($0 + 1) }.joined(separator: ", ")
      + " again to see them, or 'restart' to start over.)"
  }

  /// After the last lesson: the end of the course only when every lesson is done.
  func courseEnd(after id: String) -> String {
    let open = course.lessons.enumerated().filter {
      $0.element.id != id && store[$0.element.id]?.done != true
    }
    guard !open.isEmpty else { return "That was the last lesson of the course. 'lessons' shows them all." }
    let numbers = open.map { String($0.offset + 1) }
    return "That was the last lesson in the list; lesson\(numbers.count == 1 ? "" : "s") "
      + LessonText.list(numbers) + " \(numbers.count == 1 ? "is" : "are") not done yet: "
      + "`lesson \(numbers[0])` starts \(numbers.count == 1 ? "it" : "the first")."
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

  /// `*word*` (one star on each side, outside code spans) replaced by `style(word)`; list
  /// markers (`* item`), `**bold**` and a lone `2 * 3` stay as written.
  static func emphasis(_ line: String, _ style: (String) -> String) -> String {
    let c = Array(line)
    var out = ""
    var i = 0
    var inCode = false
    func star(_ k: Int) -> Bool { k >= 0 && k < c.count && c[k] == "*" }
    while i < c.count {
      let ch = c[i]
      if ch == "`" { inCode.toggle() }
      let opens =
        !inCode && ch == "*" && !star(i - 1) && !star(i + 1) && i + 1 < c.count && !c[i + 1].isWhitespace
        && (i == 0 || !(c[i - 1].isLetter || c[i - 1].isNumber))
      if opens {
        var j = i + 2
        while j < c.count && c[j] != "`" {
          if c[j] == "*" && !star(j + 1) && !star(j - 1) && !c[j - 1].isWhitespace
            && (j + 1 == c.count || !(c[j + 1].isLetter || c[j + 1].isNumber))
          {
            break
          }
          j += 1
        }
        if j < c.count && c[j] == "*" {
          out += style(String(c[(i + 1)..<j]))
          i = j + 1
          continue
        }
      }
      out.append(ch)
      i += 1
    }
    return out
  }

  /// `a`, `a and b`, `a, b and c`.
  static func list(_ items: [String]) -> String {
    items.count <= 1 ? items.joined() : items.dropLast().joined(separator: ", ") + " and " + items.last!
  }

  /// `- item`, `* item`, `1. item`.
  static func isListItem(_ bare: String) -> Bool {
    if bare.hasPrefix("- ") || bare.hasPrefix("* ") { return true }
    let digits = bare.prefix { $0.isASCII && $0.isNumber }
    return !digits.isEmpty && bare.dropFirst(digits.count).hasPrefix(". ")
  }
}
