/// Reads a lesson file: front matter (`LessonFrontMatter`), then Markdown.
///
/// ```
/// # Races and mutexes            (optional; the intro runs to the first ##)
/// ## Lose some updates           (a step)
/// narration…
/// > **Predict:** Will any update be lost?
/// > - [x] yes
/// > - [ ] no
/// > **Why:** …                   (shown after the run; may quote {{captures}})
/// > **Hint:** …                  (one per marker, shown one at a time)
/// <!-- run: race --threads 2 --> (what skip/check type when the pattern has free placeholders)
/// <!-- free: --iterations -->    (options the learner may set to anything, or leave out)
/// ```proclab
/// proclab> race --threads {{n:int 2..4}}
/// {{lost:int}} lost updates …
/// ...
/// ```
/// ## Summary                     (last; quotes {{lost}})
/// ```
public enum LessonParser {
  static let markers = ["Hint", "Predict", "Why"]

  public static func parse(_ text: String, file: String) throws -> Lesson {
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map {
      $0.hasSuffix("\r") ? String($0.dropLast()) : String($0)
    }
    let matter = try LessonFrontMatter.read(lines, file: file)
    var reader = LessonBodyReader(lines: lines, index: matter.bodyStart, file: file)
    try reader.readAll()
    return Lesson(
      file: file, id: matter.fields["id"]!.value, title: matter.fields["title"]!.value,
      order: try matter.order(), summary: matter.fields["summary"]?.value ?? "", needs: matter.needs,
      introduction: reader.introduction, steps: reader.steps, closing: reader.closing ?? [])
  }

  /// `**Name:** rest` at the start of a quote line.
  static func marker(in text: String) -> (name: String, rest: String)? {
    let s = text.trimmingBlanks()
    guard s.hasPrefix("**"), let end = s.dropFirst(2).firstRange(of: ":**") else { return nil }
    let name = String(s[s.index(s.startIndex, offsetBy: 2)..<end.lowerBound])
    guard let first = name.first, first.isUppercase, name.allSatisfy({ $0.isLetter }) else { return nil }
    return (name, String(s[end.upperBound...]).trimmingBlanks())
  }

  static func trimBlank(_ lines: [String]) -> [String] {
    var l = lines[...]
    while let f = l.first, f.isBlank { l.removeFirst() }
    while let x = l.last, x.isBlank { l.removeLast() }
    return Array(l)
  }

  /// Trimmed, and one blank line where several stand (the hints, predictions and blocks
  /// between two paragraphs are taken out of the prose, their blank lines are not).
  static func tidy(_ lines: [String]) -> [String] {
    var out: [String] = []
    for line in trimBlank(lines) where !(line.isBlank && (out.last?.isBlank ?? true)) { out.append(line) }
    return out
  }
}

/// The Markdown after the front matter, read line by line into the introduction,
/// the steps and the summary.
struct LessonBodyReader {
  let lines: [String]
  var index: Int
  let file: String

  var introduction: [String] = []
  var steps: [LessonStep] = []
  var closing: [String]?
  var summaryLine = 0
  /// Names captured by the steps read so far.
  var definedNames: Set<String> = []

  /// The step being read.
  var heading: (title: String, line: Int)?
  var narration: [String] = []
  /// Prose after the step's block.
  var afterword: [String] = []
  var hints: [String] = []
  var prediction: Prediction?
  var runCommand: String?
  var freeOptions: [String] = []
  /// Text that may quote this step's own captures (a Why, prose after the block): checked when the step ends.
  var whyLines: [(text: String, line: Int, column: Int)] = []
  var block: StepBlock?

  init(lines: [String], index: Int, file: String) {
    self.lines = lines
    self.index = index
    self.file = file
  }

  func fail(_ line: Int, _ column: Int, _ message: String) -> LessonError {
    LessonError(file: file, line: line, column: column, message: message)
  }

  mutating func readAll() throws {
    while index < lines.count {
      let raw = lines[index]
      let n = index + 1
      index += 1
      if raw.hasPrefix("```") {
        try readFence(raw, line: n)
      } else if raw.hasPrefix("## ") || raw == "##" {
        try readHeading(raw, line: n)
      } else if raw.hasPrefix("# ") && heading == nil && closing == nil && steps.isEmpty {
        continue  // the lesson's title, already in the front matter
      } else if raw.trimmingBlanks().hasPrefix("<!--") {
        try readComment(raw.trimmingBlanks(), line: n)
      } else if raw.hasPrefix(">") {
        index -= 1
        try readQuote(collectQuote())
      } else {
        try addText(raw, line: n)
      }
    }
    try finishStep()
    guard let closingText = closing else {
      throw fail(
        lines.count, 1,
        "the lesson has no '## Summary' section (the closing summary in the learner's numbers)")
    }
    if steps.isEmpty {
      throw fail(summaryLine, 1, "the lesson has no steps: add '##' sections before the summary")
    }
    closing = LessonParser.trimBlank(closingText)
    if closing!.isEmpty { throw fail(summaryLine, 1, "the summary is empty") }
    introduction = LessonParser.trimBlank(introduction)
  }

  // MARK: where text goes

  /// A line of prose: to the summary, the current step's narration, or the introduction.
  mutating func addText(_ raw: String, line: Int, column: Int = 1, checked: Bool = true) throws {
    if checked && heading != nil && block != nil && closing == nil {
      // Prose after the block is shown once the step passed: it may quote what the step captures,
      // which is known only when the step is finished (as for a prediction's Why).
      whyLines.append((raw, line, column))
    } else if checked && (closing != nil || heading != nil) {
      try checkReferences(raw, line: line, column: column)
    }
    let text = Printable.line(raw)
    if closing != nil {
      closing!.append(text)
    } else if heading != nil {
      if block != nil { afterword.append(text) } else { narration.append(text) }
    } else {
      introduction.append(text)
    }
  }

  /// Every `{{name}}` in `text` must be captured by an earlier step (or, with `extra`, this one).
  func checkReferences(_ text: String, line: Int, column: Int = 1, extra: Set<String> = []) throws {
    let known = definedNames.union(extra)
    for p in LessonText.placeholders(in: text) where !p.defines && !known.contains(p.name) {
      throw fail(
        line, column - 1 + p.column,
        "'{{\(Printable.word(p.name))}}' quotes a value no earlier step captures (captured so far: \(known.isEmpty ? "none" : known.sorted().joined(separator: ", ")))"
      )
    }
  }

  // MARK: fences, headings, comments

  /// ```` ```proclab ```` is a step's transcript; any other fence is narration.
  mutating func readFence(_ raw: String, line n: Int) throws {
    let info = raw.dropFirst(3).trimmingBlanks()
    var body: [String] = []
    var closed = false
    while index < lines.count {
      let l = lines[index]
      index += 1
      if l.trimmingBlanks() == "```" {
        closed = true
        break
      }
      body.append(l)
    }
    guard closed else { throw fail(n, 1, "this ``` block is never closed: expected a line '```'") }
    guard info == "proclab" else {
      for l in [raw] + body + ["```"] { try addText(l, line: n, checked: false) }
      return
    }
    guard heading != nil else {
      throw fail(
        n, 1,
        closing != nil
          ? "the summary takes no ```proclab block"
          : "a ```proclab block belongs to a step: put it under a '##' heading")
    }
    if block != nil { throw fail(n, 1, "a second ```proclab block in one step; put it in its own ## step") }
    block = StepBlock(line: n, body: body, bodyLine: n + 1)
  }

  mutating func readHeading(_ raw: String, line n: Int) throws {
    try finishStep()
    if closing != nil {
      throw fail(n, 1, "'## Summary' must be the last section; found another '##' after it")
    }
    let title = raw.dropFirst(2).trimmingBlanks()
    if title.isEmpty { throw fail(n, 4, "expected a step title after '##'") }
    if title.lowercased() == "summary" {
      closing = []
      summaryLine = n
    } else {
      heading = (Printable.line(title), n)
    }
  }

  /// `<!-- run: COMMAND -->`, `<!-- free: --a, --b -->`, or a note for authors.
  mutating func readComment(_ trimmed: String, line n: Int) throws {
    guard trimmed.hasSuffix("-->") else {
      throw fail(n, 1, "an HTML comment must open and close on one line")
    }
    let inner = trimmed.dropFirst(4).dropLast(3).trimmingBlanks()
    for key in ["run:", "free:"] where inner.hasPrefix(key) {
      guard heading != nil else {
        throw fail(n, 1, "'\(key)' belongs to a step: put it under a '##' heading")
      }
      let value = inner.dropFirst(key.count).trimmingBlanks()
      if key == "run:" {
        if value.isEmpty { throw fail(n, 1, "expected a command after 'run:'") }
        try checkReferences(value, line: n)
        runCommand = value
      } else {
        let options = value.split(separator: ",").map { $0.trimmingBlanks() }.filter { !$0.isEmpty }
        if options.isEmpty { throw fail(n, 1, "expected option names after 'free:' (free: --iterations)") }
        if let bad = options.first(where: { !$0.hasPrefix("--") || $0.contains(" ") }) {
          throw fail(
            n, 1,
            "'free:' lists options like --iterations, separated by commas; found '\(Printable.word(bad))'")
        }
        freeOptions += options
      }
    }
  }

  // MARK: blockquotes

  /// The `>` lines from here on, without their `> `.
  mutating func collectQuote() -> [(text: String, line: Int, column: Int)] {
    var quote: [(text: String, line: Int, column: Int)] = []
    while index < lines.count, lines[index].hasPrefix(">") {
      var l = lines[index].dropFirst()
      var column = 2
      if l.hasPrefix(" ") {
        l = l.dropFirst()
        column = 3
      }
      quote.append((String(l), index + 1, column))
      index += 1
    }
    return quote
  }

  /// Splits a blockquote into marked parts (`**Hint:**`, `**Predict:**`, `**Why:**`); other quotes are narration.
  mutating func readQuote(_ quote: [(text: String, line: Int, column: Int)]) throws {
    var i = 0
    while i < quote.count {
      let (text, line, column) = quote[i]
      guard let marker = LessonParser.marker(in: text) else {
        try addText("> " + text, line: line, column: column - 2)
        i += 1
        continue
      }
      guard LessonParser.markers.contains(marker.name) else {
        throw fail(
          line, column,
          "unknown marker '**\(Printable.word(marker.name)):**'; known: \(LessonParser.markers.map { "**\($0):**" }.joined(separator: ", "))"
        )
      }
      guard heading != nil else {
        throw fail(line, column, "'**\(marker.name):**' belongs to a step: put it under a '##' heading")
      }
      // The part runs until the next marker.
      var part = [quote[i]]
      i += 1
      while i < quote.count, LessonParser.marker(in: quote[i].text) == nil {
        part.append(quote[i])
        i += 1
      }
      switch marker.name {
      case "Hint": try readHint(marker.rest, part)
      case "Predict": try readPrediction(marker.rest, part)
      default: try readWhy(marker.rest, part)
      }
    }
  }

  mutating func readHint(_ first: String, _ part: [(text: String, line: Int, column: Int)]) throws {
    let (_, line, column) = part[0]
    let hint = LessonParser.trimBlank([first] + part.dropFirst().map(\.text)).joined(separator: "\n")
    if hint.isEmpty { throw fail(line, column, "empty hint: write the hint after '**Hint:**'") }
    try checkReferences(hint, line: line)
    hints.append(hint.split(separator: "\n").map { Printable.line(String($0)) }.joined(separator: "\n"))
  }

  mutating func readPrediction(_ first: String, _ part: [(text: String, line: Int, column: Int)]) throws {
    let (_, line, column) = part[0]
    if prediction != nil { throw fail(line, column, "a step asks one prediction; this is a second") }
    var question: [String] = []
    var choices: [String] = []
    var correct: Set<Int> = []
    for (t, l, c) in part.dropFirst() {
      let s = t.trimmingBlanks()
      if s.hasPrefix("- [ ] ") || s.hasPrefix("- [x] ") || s.hasPrefix("- [X] ") {
        if choices.count == Prediction.letters.count {
          throw fail(l, c, "at most \(Prediction.letters.count) choices (A–D)")
        }
        if s.dropFirst(2).hasPrefix("[x]") || s.dropFirst(2).hasPrefix("[X]") {
          correct.insert(choices.count)
        }
        choices.append(String(s.dropFirst(6)).trimmingBlanks())
      } else if s.hasPrefix("- ") {
        throw fail(l, c, "a choice is '- [ ] text', or '- [x] text' for a right one")
      } else if !choices.isEmpty && !s.isEmpty {
        throw fail(l, c, "text after the choices; put it in a '**Why:**' part")
      } else if !s.isEmpty {
        question.append(s)
      }
    }
    let q = ([first] + question).joined(separator: " ").trimmingBlanks()
    if q.isEmpty { throw fail(line, column, "expected a question after '**Predict:**'") }
    if choices.count < 2 { throw fail(line, column, "a prediction needs at least two '- [ ]' choices") }
    if correct.isEmpty { throw fail(line, column, "mark the right choice with '- [x]'") }
    try checkReferences(q, line: line)
    for c in choices { try checkReferences(c, line: line) }
    prediction = Prediction(
      question: Printable.line(q), choices: choices.map(Printable.line), correct: correct, why: [], line: line
    )
  }

  mutating func readWhy(_ first: String, _ part: [(text: String, line: Int, column: Int)]) throws {
    let (_, line, column) = part[0]
    guard prediction != nil else {
      throw fail(line, column, "'**Why:**' explains a prediction; put a '**Predict:**' before it")
    }
    prediction!.why = LessonParser.trimBlank([first] + part.dropFirst().map(\.text)).map(Printable.line)
    // Checked when the step ends: the why may quote this step's own captures.
    whyLines += part
  }

  // MARK: the end of a step

  /// A step never types a lesson command: `skip` would run it, and it would skip again, forever.
  func refuseLessonVerbs(_ command: String, line: Int, column: Int) throws {
    let verbs = Set(LessonCommands.all.flatMap { [$0.name] + $0.aliases })
    for words in (try? WordSplitter.split(command)) ?? [] {
      if let verb = words.first, verbs.contains(verb) {
        throw fail(
          line, column,
          "a step cannot type the lesson command '\(Printable.word(verb))'; a step's command is a shell command (spawn, ps, …)"
        )
      }
    }
  }

  mutating func finishStep() throws {
    guard let h = heading else { return }
    guard let b = block else {
      throw fail(h.line, 1, "step '\(h.title)' has no ```proclab block: each step asks for one command")
    }
    let parts = try b.read(file: file)
    // Names quoted in the command must come from earlier steps.
    try checkReferences(parts.commandText, line: parts.commandLine, column: 10)
    try refuseLessonVerbs(parts.commandText, line: parts.commandLine, column: 10)
    if let runCommand { try refuseLessonVerbs(runCommand, line: parts.commandLine, column: 10) }
    let hasFreePlaceholder = LessonText.placeholders(in: parts.commandText).contains { $0.defines }
    if hasFreePlaceholder && runCommand == nil {
      throw fail(
        parts.commandLine, 10,
        "the command has a free placeholder; add '<!-- run: COMMAND -->' to the step with the command skip and check should type"
      )
    }
    for w in whyLines {
      try checkReferences(w.text, line: w.line, column: w.column, extra: Set(parts.captureNames))
    }
    steps.append(
      LessonStep(
        title: h.title, line: h.line, narration: LessonParser.tidy(narration), hints: hints,
        prediction: prediction, commandText: parts.commandText, command: parts.pattern,
        expected: parts.expected,
        commandLine: parts.commandLine, runCommand: runCommand, freeOptions: freeOptions,
        captureNames: parts.captureNames, captureKinds: parts.captureKinds,
        commandReferences: parts.commandReferences, outputReferences: parts.outputReferences,
        afterword: LessonParser.tidy(afterword)))
    definedNames.formUnion(parts.captureNames)
    heading = nil
    narration = []
    afterword = []
    hints = []
    prediction = nil
    runCommand = nil
    freeOptions = []
    whyLines = []
    block = nil
  }
}
