/// A command line of a transcript, which may hold placeholders:
/// `spawn {{n:int 2..8}}` (any count from 2 to 8) or `kill {{A}}` (the PID captured as A).
public struct CommandPattern: Sendable {
  public let text: String
  let pattern: LinePattern

  public init(_ text: String, file: String, line: Int) throws {
    self.text = LinePattern.trimTrailing(text).trimmed()
    pattern = try LinePattern(self.text, file: file, line: line, column: 1 + ("proclab> ".count))
  }

  /// Whether a typed command fits (lessons): on success `captures` gains the values it captured.
  public func matches(_ typed: String, captures: inout Captures) -> Bool {
    let typed = LinePattern.trimTrailing(typed).trimmed()
    switch pattern.match(typed, captures: captures) {
    case .success(let next):
      captures = next
      return true
    case .failure: return false
    }
  }

  /// The command to run (replay and check): references replaced by their
  /// captured values; nil when it needs a value nobody captured (`{{n:int}}`, `{{X}}` unknown).
  public func instantiate(_ captures: Captures) -> String? {
    var out = ""
    for segment in pattern.segments {
      switch segment {
      case .literal(let chars): out += String(chars)
      case .spaces(let typed): out += typed
      case .placeholder(let p):
        guard let name = p.name, let value = captures[name] else { return nil }
        out += value
      }
    }
    return out
  }

  /// Names the command refers to (for checking that they were captured earlier).
  var references: [String] { pattern.placeholders.compactMap(\.name) }
  var placeholders: [Placeholder] { pattern.placeholders }
}

/// A transcript file: steps of narration, a command and its expected output.
///
/// ```
/// # Narration: shown as a caption during replay.
/// proclab> spawn 2 --hold 30
/// spawned 2 processes in {{t:duration <50ms}}
/// ...
/// ```
public struct Transcript: Sendable {
  public struct Step: Sendable {
    public var narration: [String]
    /// The narration lines as written (`# Threads`): a replay types them into the
    /// session's history as the recorded session had them.
    public var narrationSource: [String] = []
    public var command: CommandPattern
    public var expected: ExpectedOutput
    /// The file line of the command.
    public var line: Int
  }
  public var steps: [Step]
  /// Narration after the last command.
  public var trailingNarration: [String]
  /// The file line of each narration line after the last command.
  public var trailingNarrationLines: [Int] = []

  public static let prompt = "proclab> "

  /// Parses a transcript; `firstLine` is the file line of the text's first line
  /// (a snippet inside a lesson starts further down its file).
  public static func parse(_ text: String, file: String, firstLine: Int = 1) throws -> Transcript {
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    if lines.last == "" { lines.removeLast() }
    var steps: [Step] = []
    var narration: [String] = []
    var narrationSource: [String] = []
    var narrationLines: [Int] = []
    var current:
      (
        command: CommandPattern, line: Int, narration: [String], source: [String], expected: [String],
        expectedStart: Int
      )?
    var captured = Set<String>()

    func close() throws {
      guard let c = current else { return }
      var expected = c.expected
      // Blank lines between a step's output and the next narration are layout, not output.
      while let last = expected.last, last.trimmed().isEmpty {
        expected.removeLast()
      }
      let output = try ExpectedOutput(lines: expected, file: file, firstLine: c.expectedStart)
      // Captures of this step may be referred to by its own later lines; names must be captured somewhere before.
      var here = captured
      for p in output.placeholders { if case .capture(let n) = p.role { here.insert(n) } }
      for p in output.placeholders {
        if case .reference(let n) = p.role, !here.contains(n) {
          throw TranscriptError(
            file: file, line: Transcript.lineOf(p.source, in: expected, first: c.expectedStart), column: 1,
            message:
              "\(p.source) refers to \(n), which no earlier line captures; capture it first with {{\(n):KIND}}"
          )
        }
      }
      captured = here
      steps.append(
        Step(
          narration: c.narration, narrationSource: c.source, command: c.command, expected: output,
          line: c.line))
      current = nil
    }

    for (offset, raw) in lines.enumerated() {
      let lineNumber = firstLine + offset
      let line = LinePattern.trimTrailing(raw)
      if line.hasPrefix(prompt) || line == prompt.trimmed() {
        try close()
        let commandText = String(line.dropFirst(min(line.count, prompt.count)))
        if commandText.trimmed().isEmpty {
          throw TranscriptError(
            file: file, line: lineNumber, column: prompt.count + 1,
            message: "expected a command after 'proclab> '")
        }
        let command = try CommandPattern(commandText, file: file, line: lineNumber)
        for p in command.placeholders {
          guard let n = p.name else {
            throw TranscriptError(
              file: file, line: lineNumber, column: prompt.count + 1,
              message:
                "\(p.source) in a command cannot be replayed; name it ({{n:int 1..4}}) or use a captured value ({{A}})"
            )
          }
          if case .reference = p.role, !captured.contains(n) {
            throw TranscriptError(
              file: file, line: lineNumber,
              column: prompt.count + 1
                + (commandText.firstRange(of: p.source).map {
                  commandText.distance(from: commandText.startIndex, to: $0.lowerBound)
                } ?? 0),
              message: "\(p.source) refers to \(n), which no earlier output captures")
          }
        }
        current = (command, lineNumber, narration, narrationSource, [], lineNumber + 1)
        narration = []
        narrationSource = []
        narrationLines = []
        continue
      }
      if line.hasPrefix("#") {
        // Narration belongs to the next command (a `#` line can never be output: output starts otherwise).
        let caption = line.dropFirst().drop { $0 == " " }
        if current != nil { try close() }
        narration.append(String(caption))
        narrationSource.append(line)
        narrationLines.append(lineNumber)
        continue
      }
      if current != nil {
        current!.expected.append(line)
      } else if !line.trimmed().isEmpty {
        throw TranscriptError(
          file: file, line: lineNumber, column: 1,
          message:
            "expected a command ('proclab> …') or narration ('# …') before output, found '\(Printable.word(line))'"
        )
      }
    }
    try close()
    return Transcript(steps: steps, trailingNarration: narration, trailingNarrationLines: narrationLines)
  }

  static func lineOf(_ source: String, in lines: [String], first: Int) -> Int {
    (lines.firstIndex { $0.contains(source) }).map { first + $0 } ?? first
  }
}
