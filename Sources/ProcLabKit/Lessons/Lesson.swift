/// A lesson: front matter, an introduction, steps (one command each) and a
/// closing summary that quotes the learner's own numbers.
///
/// Every text a learner reads (title, introduction, narration, hints,
/// predictions, summary) has its control and bidi characters escaped when the
/// file is read (`Printable.line`): a lesson file cannot drive the terminal.
public struct Lesson: Sendable {
  public var file: String
  public var id: String
  public var title: String
  public var order: Int
  public var summary: String
  /// Commands the lesson uses; a lesson whose commands are missing is listed but cannot start.
  public var needs: [String]
  /// Text before the first `##` step (without the `# Title` line).
  public var introduction: [String]
  public var steps: [LessonStep]
  /// The `## Summary` section; `{{name}}` placeholders quote captures from the steps.
  public var closing: [String]

  /// The first step that captures `name` (its index).
  public func stepCapturing(_ name: String) -> Int? {
    steps.firstIndex { $0.captureNames.contains(name) }
  }

  /// The kind of value a name holds (`SHELL` is a pid), from the step that captures it.
  public func kind(of name: String) -> Variable.Kind? {
    for step in steps { if let k = step.captureKinds[name] { return k } }
    return nil
  }
}

/// One `##` section: narration, an optional prediction, hints, and one command
/// whose output must match the ```` ```proclab ```` block.
public struct LessonStep: Sendable {
  public var title: String
  /// Line of the `##` heading.
  public var line: Int
  public var narration: [String]
  public var hints: [String]
  public var prediction: Prediction?
  /// The command line of the block as written (may hold placeholders: `spawn {{n:int 2..8}}`).
  public var commandText: String
  public var command: CommandPattern
  public var expected: ExpectedOutput
  /// Line of the `proclab>` command in the file.
  public var commandLine: Int
  /// `<!-- run: spawn 3 -->`: what `skip`, the checker and the prompt's example type when
  /// the pattern has free placeholders.
  public var runCommand: String?
  /// `<!-- free: --iterations -->`: options the learner may give any value (or leave out).
  public var freeOptions: [String]
  /// Names this step's block captures (`{{t:duration}}` → "t").
  public var captureNames: [String]
  /// The kind of each captured name.
  public var captureKinds: [String: Variable.Kind]
  /// Names the command quotes (`kill {{A}}`): they must be fresh before the step can run.
  public var commandReferences: [String]
  /// Names the expected output quotes (`parent {{SHELL}}`).
  public var outputReferences: [String]
  /// Prose after the ```` ```proclab ```` block: it comments on the result, so it is shown
  /// once the step has passed, never before (where it could give a prediction away).
  public var afterword: [String] = []

  /// The command `skip`, the checker and the `▶ run:` line type: the `run:` line or the
  /// pattern, with earlier captures filled in; nil when a value it needs is missing.
  public func concreteCommand(_ captures: Captures) -> String? {
    if let runCommand {
      let filled = captures.substitute(runCommand)
      return filled.contains("{{") ? nil : filled
    }
    return command.instantiate(captures)
  }

  /// The `▶ run:` line: a command the learner can type as shown (never a raw
  /// placeholder), or the pattern with `<name>` where a value is missing.
  public func displayCommand(_ captures: Captures) -> String {
    if let concrete = concreteCommand(captures) { return concrete }
    return LessonText.fill(commandText, captures) { inner in
      let name = inner.split(separator: ":", maxSplits: 1).first.map(String.init) ?? inner
      return "<" + (name.isEmpty ? "value" : name) + ">"
    }
  }

  /// What the learner may change, in words: `any --iterations from 10 to 100000`.
  public var freedom: [String] {
    var out: [String] = []
    let words = commandText.split(separator: " ").map(String.init)
    for p in command.placeholders where p.name != nil {
      if case .reference = p.role { continue }
      let at = words.firstIndex { $0.contains(p.source.split(separator: " ").first.map(String.init) ?? "{{") }
      let option = at.flatMap { $0 > 0 && words[$0 - 1].hasPrefix("--") ? words[$0 - 1] : nil }
      let what = option ?? p.name ?? "value"
      out.append("any \(what)" + (p.constraint.map { " " + $0.inWords } ?? ""))
    }
    for option in freeOptions where !out.contains(where: { $0.hasPrefix("any \(option)") }) {
      out.append("any \(option), or none")
    }
    return out
  }
}

/// "Predict, then run": a question with lettered choices, answered before the command runs.
public struct Prediction: Sendable {
  public var question: String
  public var choices: [String]
  /// Indexes of the right choices (`- [x]`).
  public var correct: Set<Int>
  /// `> **Why:** …`, shown after the run; may quote captures.
  public var why: [String]
  public var line: Int

  public static let letters = ["A", "B", "C", "D"]
  public func letter(_ i: Int) -> String { Prediction.letters[i] }
  public var answerText: String { correct.sorted().map { letter($0) }.joined(separator: " or ") }
}

/// A problem in a lesson file, with its position: `lessons/race.md:12:5: message`.
/// The same shape as a transcript's errors, since lessons embed transcript snippets.
public typealias LessonError = TranscriptError

extension Constraint {
  /// `from 10 to 100000`, `below 50 ms`, `2 or more`.
  var inWords: String {
    func n(_ x: Double) -> String { x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : String(x) }
    switch (lower, upper) {
    case (let l?, let u?): return "from \(n(l)) to \(n(u))"
    case (let l?, nil): return lowerInclusive ? "of \(n(l)) or more" : "above \(n(l))"
    case (nil, let u?): return upperInclusive ? "up to \(n(u))" : "below \(n(u))"
    default: return ""
    }
  }
}

/// Placeholder handling for narration, summaries and command display.
public enum LessonText {
  /// Replaces `{{name}}` with a captured value; other placeholders go through `other`
  /// (by default left as written).
  public static func fill(
    _ text: String, _ captures: Captures, other: (String) -> String = { "{{" + $0 + "}}" }
  ) -> String {
    var out = ""
    var rest = Substring(text)
    while let open = rest.firstRange(of: "{{") {
      out += rest[..<open.lowerBound]
      let after = rest[open.upperBound...]
      guard let close = after.firstRange(of: "}}") else {
        out += rest[open.lowerBound...]
        return out
      }
      let inner = String(after[..<close.lowerBound])
      if !inner.contains(":"), let value = captures[inner] {
        out += value
      } else {
        out += other(inner)
      }
      rest = after[close.upperBound...]
    }
    out += rest
    return out
  }

  /// The names a text quotes (`{{name}}`, not `{{name:kind}}`).
  public static func quotedNames(in text: String) -> [String] {
    placeholders(in: text).filter { !$0.defines && !$0.name.isEmpty }.map(\.name)
  }

  /// The `{{name…}}` placeholders in a line: name, whether it defines a capture (`name:kind`),
  /// and its 1-based column.
  static func placeholders(in line: String) -> [(name: String, defines: Bool, column: Int)] {
    var found: [(String, Bool, Int)] = []
    let chars = Array(line)
    var i = 0
    while i + 1 < chars.count {
      if chars[i] == "{" && chars[i + 1] == "{" {
        var j = i + 2
        var inner = ""
        while j + 1 < chars.count && !(chars[j] == "}" && chars[j + 1] == "}") {
          inner.append(chars[j])
          j += 1
        }
        if j + 1 < chars.count {
          let name =
            inner.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init)
            ?? ""
          found.append((name.trimmed(), inner.contains(":"), i + 1))
          i = j + 2
          continue
        }
      }
      i += 1
    }
    return found
  }
}
