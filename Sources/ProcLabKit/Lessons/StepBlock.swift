/// A step's ```` ```proclab ```` block: optional `# narration` lines, one
/// `proclab> COMMAND` line, then the output the command must print.
///
/// Read here rather than with `Transcript.parse`, because the command may quote
/// values that earlier steps captured.
struct StepBlock {
  /// The fence line.
  var line: Int
  var body: [String]
  /// File line of `body[0]`.
  var bodyLine: Int

  struct Parts {
    var commandText: String
    var commandLine: Int
    var pattern: CommandPattern
    var expected: ExpectedOutput
    var captureNames: [String]
    var captureKinds: [String: Variable.Kind]
    var commandReferences: [String]
    var outputReferences: [String]
  }

  func read(file: String) throws -> Parts {
    func fail(_ line: Int, _ column: Int, _ message: String) -> LessonError {
      LessonError(file: file, line: line, column: column, message: message)
    }
    var body = self.body
    while let last = body.last, last.isBlank { body.removeLast() }
    let commandIndex = try findCommand(body, file: file)
    let commandText = body[commandIndex].dropFirst("proclab>".count).trimmingBlanks()
    let commandLine = bodyLine + commandIndex
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
    var names: [String] = []
    var kinds: [String: Variable.Kind] = [:]
    var outputReferences: [String] = []
    for p in pattern.placeholders + expected.placeholders {
      switch p.role {
      case .capture(let name):
        if !names.contains(name) { names.append(name) }
        if kinds[name] == nil { kinds[name] = p.kind }
      case .reference(let name):
        if !names.contains(name) && !outputReferences.contains(name) { outputReferences.append(name) }
      case .anonymous: break
      }
    }
    let commandReferences = pattern.placeholders.compactMap { p -> String? in
      if case .reference(let name) = p.role { return name }
      return nil
    }
    outputReferences.removeAll { commandReferences.contains($0) }
    return Parts(
      commandText: commandText, commandLine: commandLine, pattern: pattern, expected: expected,
      captureNames: names, captureKinds: kinds, commandReferences: commandReferences,
      outputReferences: outputReferences)
  }

  /// The index of the one `proclab>` line; only `#` narration and blank lines may come before it.
  func findCommand(_ body: [String], file: String) throws -> Int {
    var commandIndex: Int?
    for (i, l) in body.enumerated() {
      let n = bodyLine + i
      if l.hasPrefix("proclab>") {
        if commandIndex != nil {
          throw LessonError(
            file: file, line: n, column: 1,
            message: "a step's block holds one command; put the next command in its own ## step")
        }
        commandIndex = i
      } else if commandIndex == nil && !l.isBlank && !l.hasPrefix("#") {
        throw LessonError(
          file: file, line: n, column: 1,
          message: "expected 'proclab> COMMAND' before the output, found '\(Printable.word(l))'")
      } else if commandIndex != nil && l.hasPrefix("#") {
        throw LessonError(
          file: file, line: n, column: 1,
          message:
            "a '#' line after the command; write it as '\\#' if it is output, or put narration before the command"
        )
      }
    }
    guard let commandIndex else {
      throw LessonError(
        file: file, line: line, column: 1, message: "this proclab block has no 'proclab> COMMAND' line")
    }
    return commandIndex
  }

  /// The expected output again, with the first mention of each name in `recapture`
  /// turned from a reference (`{{SHELL}}`) into a capture (`{{SHELL:pid}}`): a value
  /// from an earlier shell is taken afresh from this run's output instead of compared.
  static func recapturing(
    _ expected: ExpectedOutput, _ recapture: [String: Variable.Kind]
  ) -> ExpectedOutput {
    guard !recapture.isEmpty else { return expected }
    var pending = recapture
    let lines = expected.lines.map { line -> String in
      var out = line
      for (name, kind) in pending {
        let reference = "{{" + name + "}}"
        if let r = out.firstRange(of: reference) {
          out.replaceSubrange(r, with: "{{" + name + ":" + kind.rawValue + "}}")
          pending[name] = nil
        }
      }
      return out
    }
    return (try? ExpectedOutput(lines: lines, file: expected.file, firstLine: expected.firstLine)) ?? expected
  }
}
