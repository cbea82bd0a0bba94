import Foundation

/// Reads a lesson file (Markdown with YAML-style front matter).
///
/// ```
/// ---
/// id: race
/// title: Races and mutexes
/// order: 6
/// summary: Lost updates, then the fix.
/// needs:
///   - race
/// ---
/// # Races and mutexes            (optional; the intro runs to the first ##)
/// ## Lose some updates           (a step)
/// narration…
/// > **Predict:** Will any update be lost?
/// > - [x] yes
/// > - [ ] no
/// > **Why:** …                   (shown after the run; may quote {{captures}})
/// > **Hint:** …                  (one per blockquote, shown one at a time)
/// <!-- run: race --threads 2 --> (what skip/check type when the pattern has free placeholders)
/// ```proclab
/// proclab> race --threads {{n:int 2..4}}
/// {{lost:int}} lost updates …
/// ...
/// ```
/// ## Summary                     (last; quotes {{lost}})
/// ```
public enum LessonParser {
  static let knownKeys = ["id", "title", "order", "summary", "needs"]
  static let markers = ["Hint", "Predict", "Why"]

  public static func parse(_ text: String, file: String) throws -> Lesson {
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map {
      $0.hasSuffix("\r") ? String($0.dropLast()) : String($0)
    }
    func fail(_ line: Int, _ column: Int, _ message: String) -> LessonError {
      LessonError(file: file, line: line, column: column, message: message)
    }

    // MARK: front matter
    guard lines.first == "---" else {
      throw fail(1, 1, "expected front matter: the first line must be '---'")
    }
    guard lines.dropFirst().contains("---") else {
      throw fail(1, 1, "front matter is never closed: expected a line '---' after it")
    }
    var fields: [String: (value: String, line: Int, column: Int)] = [:]
    var needs: [String] = []
    var listKey: String?
    var index = 1
    var closed = false
    while index < lines.count {
      let raw = lines[index]
      let n = index + 1
      index += 1
      if raw == "---" {
        closed = true
        break
      }
      let trimmed = raw.trimmingCharacters(in: .whitespaces)
      if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
      let indent = raw.prefix { $0 == " " }.count
      if trimmed.hasPrefix("- ") || trimmed == "-" {
        guard listKey == "needs" else {
          throw fail(n, indent + 1, "a '- item' list only follows 'needs:'")
        }
        let item = unquote(withoutComment(String(trimmed.dropFirst(1)).trimmingCharacters(in: .whitespaces)))
        if item.isEmpty { throw fail(n, indent + 2, "expected a command name after '-'") }
        needs.append(item)
        continue
      }
      guard let colon = raw.firstIndex(of: ":") else {
        throw fail(n, indent + 1, "expected 'key: value' (keys: \(knownKeys.joined(separator: ", ")))")
      }
      let key = raw[..<colon].trimmingCharacters(in: .whitespaces)
      guard knownKeys.contains(key) else {
        throw fail(n, indent + 1, "unknown key '\(key)'; known keys: \(knownKeys.joined(separator: ", "))")
      }
      if fields[key] != nil || (key == "needs" && listKey == "needs") {
        throw fail(n, indent + 1, "'\(key)' is given twice")
      }
      let afterColon = raw[raw.index(after: colon)...]
      let valueColumn =
        raw.distance(from: raw.startIndex, to: colon) + 2 + afterColon.prefix { $0 == " " }.count
      let value = unquote(withoutComment(afterColon.trimmingCharacters(in: .whitespaces)))
      listKey = key
      if key == "needs" {
        // `needs: [a, b]` or `needs:` followed by `- a` lines.
        if value.hasPrefix("[") && value.hasSuffix("]") {
          needs += value.dropFirst().dropLast().split(separator: ",").map {
            unquote($0.trimmingCharacters(in: .whitespaces))
          }.filter { !$0.isEmpty }
        } else if !value.isEmpty {
          needs += value.split(separator: " ").map(String.init)
        }
        fields[key] = ("", n, valueColumn)
        continue
      }
      if value.isEmpty { throw fail(n, valueColumn, "'\(key)' needs a value") }
      fields[key] = (value, n, valueColumn)
    }
    guard closed else {
      throw fail(1, 1, "front matter is never closed: expected a line '---' after it")
    }
    let closingLine = index
    for key in ["id", "title", "order"] where fields[key] == nil {
      throw fail(closingLine, 1, "front matter has no '\(key):'")
    }
    let id = fields["id"]!
    if !id.value.allSatisfy({ ($0.isLetter && $0.isLowercase) || $0.isNumber || $0 == "-" })
      || !id.value.first!.isLetter
    {
      throw fail(
        id.line, id.column,
        "id must be lowercase letters, digits and '-', starting with a letter; got '\(id.value)'")
    }
    let orderField = fields["order"]!
    guard let order = Int(orderField.value), order >= 1 else {
      throw fail(
        orderField.line, orderField.column, "order must be a whole number ≥ 1, got '\(orderField.value)'")
    }

    // MARK: body
    var introduction: [String] = []
    var steps: [LessonStep] = []
    var closing: [String]?
    var summaryLine = 0
    var definedNames: Set<String> = []

    // The step being read.
    var heading: (title: String, line: Int)?
    var narration: [String] = []
    var hints: [String] = []
    var prediction: Prediction?
    var runCommand: String?
    var whyLines: [(text: String, line: Int, column: Int)] = []
    var block: (text: String, line: Int, body: [String], bodyLine: Int)?

    func checkReferences(_ text: String, line: Int, column: Int = 1, known: Set<String>) throws {
      for p in LessonText.placeholders(in: text) where !p.defines {
        if !known.contains(p.name) {
          throw fail(
            line, column - 1 + p.column,
            "'{{\(p.name)}}' quotes a value no earlier step captures (captured so far: \(known.isEmpty ? "none" : known.sorted().joined(separator: ", ")))"
          )
        }
      }
    }

    func finishStep() throws {
      guard let h = heading else { return }
      guard let b = block else {
        throw fail(h.line, 1, "step '\(h.title)' has no ```proclab block: each step asks for one command")
      }
      var body = b.body
      while let last = body.last, last.trimmingCharacters(in: .whitespaces).isEmpty { body.removeLast() }
      // The block is one transcript step: optional `# narration`, one `proclab> COMMAND`, its output.
      // (Parsed here rather than with Transcript.parse: the command may quote values earlier steps captured.)
      var commandIndex: Int?
      for (i, l) in body.enumerated() {
        let n = b.bodyLine + i
        if l.hasPrefix("proclab>") {
          if commandIndex != nil {
            throw fail(n, 1, "a step's block holds one command; put the next command in its own ## step")
          }
          commandIndex = i
        } else if commandIndex == nil && !l.trimmingCharacters(in: .whitespaces).isEmpty && !l.hasPrefix("#")
        {
          throw fail(n, 1, "expected 'proclab> COMMAND' before the output, found '\(Printable.word(l))'")
        } else if commandIndex != nil && l.hasPrefix("#") {
          throw fail(
            n, 1,
            "a '#' line after the command; write it as '\\#' if it is output, or put narration before the command"
          )
        }
      }
      guard let commandIndex else {
        throw fail(b.line, 1, "this proclab block has no 'proclab> COMMAND' line")
      }
      let commandText = body[commandIndex].dropFirst("proclab>".count).trimmingCharacters(in: .whitespaces)
      let commandLine = b.bodyLine + commandIndex
      if commandText.isEmpty { throw fail(commandLine, 10, "expected a command after 'proclab> '") }
      for p in LessonText.placeholders(in: commandText) where p.name.isEmpty {
        throw fail(
          commandLine, 9 + p.column,
          "a placeholder in a command needs a name ({{n:int 1..4}}) or a captured value ({{A}})")
      }
      let pattern: CommandPattern
      let expected: ExpectedOutput
      do {
        pattern = try CommandPattern(commandText, file: file, line: commandLine)
        expected = try ExpectedOutput(
          lines: Array(body[(commandIndex + 1)...]), file: file, firstLine: commandLine + 1)
      } catch let e as TranscriptError {
        throw LessonError(file: e.file, line: e.line, column: e.column, message: e.message)
      }
      // Names quoted in the command must come from earlier steps.
      try checkReferences(commandText, line: commandLine, column: 10, known: definedNames)
      var names: [String] = []
      for l in body {
        for p in LessonText.placeholders(in: l) where p.defines && !p.name.isEmpty && !names.contains(p.name)
        {
          names.append(p.name)
        }
      }
      let probe = Captures()
      if pattern.instantiate(probe) == nil && runCommand == nil
        && LessonText.placeholders(in: commandText).contains(where: { $0.defines })
      {
        throw fail(
          commandLine, 10,
          "the command has a free placeholder; add '<!-- run: COMMAND -->' to the step with the command skip and check should type"
        )
      }
      if prediction != nil {
        let known = definedNames.union(names)
        for w in whyLines { try checkReferences(w.text, line: w.line, column: w.column, known: known) }
      }
      steps.append(
        LessonStep(
          title: h.title, line: h.line, narration: trimBlank(narration), hints: hints, prediction: prediction,
          commandText: commandText, command: pattern, expected: expected, commandLine: commandLine,
          runCommand: runCommand, captureNames: names))
      definedNames.formUnion(names)
      heading = nil
      narration = []
      hints = []
      prediction = nil
      runCommand = nil
      whyLines = []
      block = nil
    }

    /// Splits a blockquote into marked parts (`**Hint:**`, `**Predict:**`, `**Why:**`).
    func readQuote(_ quote: [(text: String, line: Int, column: Int)]) throws {
      var i = 0
      while i < quote.count {
        let (text, line, column) = quote[i]
        guard let marker = LessonParser.marker(in: text) else {
          // A plain quote: narration.
          let plain = "> " + text
          if closing != nil {
            closing!.append(plain)
          } else if heading != nil {
            narration.append(plain)
          } else {
            introduction.append(plain)
          }
          i += 1
          continue
        }
        guard Self.markers.contains(marker.name) else {
          throw fail(
            line, column,
            "unknown marker '**\(marker.name):**'; known: \(Self.markers.map { "**\($0):**" }.joined(separator: ", "))"
          )
        }
        guard heading != nil else {
          throw fail(line, column, "'**\(marker.name):**' belongs to a step: put it under a '##' heading")
        }
        // The part runs until the next marker.
        var part = [marker.rest]
        var partLines = [(text, line, column)]
        i += 1
        while i < quote.count, LessonParser.marker(in: quote[i].text) == nil {
          part.append(quote[i].text)
          partLines.append(quote[i])
          i += 1
        }
        switch marker.name {
        case "Hint":
          let hint = trimBlank(part).joined(separator: "\n")
          if hint.isEmpty { throw fail(line, column, "empty hint: write the hint after '**Hint:**'") }
          try checkReferences(hint, line: line, known: definedNames)
          hints.append(hint)
        case "Predict":
          if prediction != nil { throw fail(line, column, "a step asks one prediction; this is a second") }
          var question: [String] = []
          var choices: [String] = []
          var correct: Set<Int> = []
          for (t, l, c) in partLines.dropFirst().map({ $0 }) {
            let s = t.trimmingCharacters(in: .whitespaces)
            if s.hasPrefix("- [ ] ") || s.hasPrefix("- [x] ") || s.hasPrefix("- [X] ") {
              if choices.count == Prediction.letters.count {
                throw fail(l, c, "at most \(Prediction.letters.count) choices (A–D)")
              }
              if s.dropFirst(2).hasPrefix("[x]") || s.dropFirst(2).hasPrefix("[X]") {
                correct.insert(choices.count)
              }
              choices.append(String(s.dropFirst(6)).trimmingCharacters(in: .whitespaces))
            } else if s.hasPrefix("- ") {
              throw fail(l, c, "a choice is '- [ ] text', or '- [x] text' for a right one")
            } else if !choices.isEmpty && !s.isEmpty {
              throw fail(l, c, "text after the choices; put it in a '**Why:**' part")
            } else if !s.isEmpty {
              question.append(s)
            }
          }
          let q = ([marker.rest] + question).joined(separator: " ").trimmingCharacters(in: .whitespaces)
          if q.isEmpty { throw fail(line, column, "expected a question after '**Predict:**'") }
          if choices.count < 2 { throw fail(line, column, "a prediction needs at least two '- [ ]' choices") }
          if correct.isEmpty { throw fail(line, column, "mark the right choice with '- [x]'") }
          try checkReferences(q, line: line, known: definedNames)
          for c in choices { try checkReferences(c, line: line, known: definedNames) }
          prediction = Prediction(question: q, choices: choices, correct: correct, why: [], line: line)
        case "Why":
          guard prediction != nil else {
            throw fail(line, column, "'**Why:**' explains a prediction; put a '**Predict:**' before it")
          }
          prediction!.why = trimBlank(part)
          whyLines = partLines.map { ($0.0, $0.1, $0.2) }
        default: break
        }
      }
    }

    while index < lines.count {
      let raw = lines[index]
      let n = index + 1
      index += 1

      // Fenced code: ```proclab is a step's transcript, anything else is narration.
      if raw.hasPrefix("```") {
        let info = raw.dropFirst(3).trimmingCharacters(in: .whitespaces)
        var body: [String] = []
        var closedFence = false
        while index < lines.count {
          let l = lines[index]
          index += 1
          if l.trimmingCharacters(in: .whitespaces) == "```" {
            closedFence = true
            break
          }
          body.append(l)
        }
        guard closedFence else { throw fail(n, 1, "this ``` block is never closed: expected a line '```'") }
        if info == "proclab" {
          guard heading != nil else {
            throw fail(
              n, 1,
              closing != nil
                ? "the summary takes no ```proclab block"
                : "a ```proclab block belongs to a step: put it under a '##' heading")
          }
          if block != nil {
            throw fail(n, 1, "a second ```proclab block in one step; put it in its own ## step")
          }
          block = (info, n, body, n + 1)
        } else {
          let text = [raw] + body + ["```"]
          if closing != nil {
            closing! += text
          } else if heading != nil {
            narration += text
          } else {
            introduction += text
          }
        }
        continue
      }

      if raw.hasPrefix("## ") || raw == "##" {
        try finishStep()
        if closing != nil {
          throw fail(n, 1, "'## Summary' must be the last section; found another '##' after it")
        }
        let title = raw.dropFirst(2).trimmingCharacters(in: .whitespaces)
        if title.isEmpty { throw fail(n, 4, "expected a step title after '##'") }
        if title.lowercased() == "summary" {
          closing = []
          summaryLine = n
        } else {
          heading = (title, n)
        }
        continue
      }
      if raw.hasPrefix("# ") && heading == nil && closing == nil && steps.isEmpty { continue }

      // HTML comments: `<!-- run: COMMAND -->` or notes for authors.
      let trimmed = raw.trimmingCharacters(in: .whitespaces)
      if trimmed.hasPrefix("<!--") {
        guard trimmed.hasSuffix("-->") else {
          throw fail(n, 1, "an HTML comment must open and close on one line")
        }
        let inner = trimmed.dropFirst(4).dropLast(3).trimmingCharacters(in: .whitespaces)
        if inner.hasPrefix("run:") {
          guard heading != nil else {
            throw fail(n, 1, "'run:' belongs to a step: put it under a '##' heading")
          }
          let command = inner.dropFirst(4).trimmingCharacters(in: .whitespaces)
          if command.isEmpty { throw fail(n, 1, "expected a command after 'run:'") }
          try checkReferences(command, line: n, known: definedNames)
          runCommand = command
        }
        continue
      }

      // Blockquotes: hints, predictions, why; other quotes are narration.
      if raw.hasPrefix(">") {
        var quote: [(text: String, line: Int, column: Int)] = []
        index -= 1
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
        try readQuote(quote)
        continue
      }

      if closing != nil {
        try checkReferences(raw, line: n, known: definedNames)
        closing!.append(raw)
      } else if heading != nil {
        try checkReferences(raw, line: n, known: definedNames)
        narration.append(raw)
      } else {
        introduction.append(raw)
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
    if trimBlank(closingText).isEmpty { throw fail(summaryLine, 1, "the summary is empty") }
    return Lesson(
      file: file, id: id.value, title: fields["title"]!.value, order: order,
      summary: fields["summary"]?.value ?? "",
      needs: needs, introduction: trimBlank(introduction), steps: steps, closing: trimBlank(closingText))
  }

  /// `**Name:** rest` at the start of a quote line.
  static func marker(in text: String) -> (name: String, rest: String)? {
    let s = text.trimmingCharacters(in: .whitespaces)
    guard s.hasPrefix("**"), let end = s.dropFirst(2).range(of: ":**") else { return nil }
    let name = String(s[s.index(s.startIndex, offsetBy: 2)..<end.lowerBound])
    guard !name.isEmpty, name.allSatisfy({ $0.isLetter }), name.first!.isUppercase else { return nil }
    return (name, String(s[end.upperBound...]).trimmingCharacters(in: .whitespaces))
  }

  /// `value  # comment` → `value` (YAML comments start with a '#' after a space; quoted values keep theirs).
  static func withoutComment(_ s: String) -> String {
    if s.hasPrefix("\"") || s.hasPrefix("'") { return s }
    guard let r = s.range(of: " #") else { return s }
    return String(s[..<r.lowerBound]).trimmingCharacters(in: .whitespaces)
  }

  static func unquote(_ s: String) -> String {
    if s.count >= 2, let f = s.first, f == s.last, f == "\"" || f == "'" {
      return String(s.dropFirst().dropLast())
    }
    return s
  }

  static func trimBlank(_ lines: [String]) -> [String] {
    var l = lines
    while let f = l.first, f.trimmingCharacters(in: .whitespaces).isEmpty { l.removeFirst() }
    while let x = l.last, x.trimmingCharacters(in: .whitespaces).isEmpty { l.removeLast() }
    return l
  }
}
