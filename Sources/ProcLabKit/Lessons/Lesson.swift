import Foundation

/// A lesson: front matter, an introduction, steps (one command each) and a
/// closing summary that quotes the learner's own numbers.
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
  /// `<!-- run: spawn 3 -->`: what `skip` and the checker type when the pattern has free placeholders.
  public var runCommand: String?
  /// Names this step's block captures (`{{t:duration}}` → "t").
  public var captureNames: [String]

  /// The command `skip` and the checker type: the pattern with earlier captures filled in,
  /// or the step's `<!-- run: … -->` line.
  public func concreteCommand(_ captures: Captures) -> String? {
    if let runCommand { return captures.substitute(runCommand) }
    return command.instantiate(captures)
  }

  /// The command for a person to read: captured values filled in, free placeholders as `<n 2..8>`.
  public func displayCommand(_ captures: Captures) -> String {
    LessonText.fill(commandText, captures) { inner in
      let parts = inner.split(separator: ":", maxSplits: 1).map(String.init)
      let name = parts.first ?? inner
      let constraint =
        parts.count > 1
        ? parts[1].split(separator: " ", maxSplits: 1).dropFirst().first.map(String.init) : nil
      return "<" + (name.isEmpty ? "value" : name) + (constraint.map { " " + $0 } ?? "") + ">"
    }
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

/// Placeholder handling for narration, summaries and command display.
public enum LessonText {
  /// Replaces `{{name}}` with a captured value; other placeholders go through `other`
  /// (by default left as written).
  public static func fill(
    _ text: String, _ captures: Captures, other: (String) -> String = { "{{" + $0 + "}}" }
  ) -> String {
    var out = ""
    var rest = Substring(text)
    while let open = rest.range(of: "{{") {
      out += rest[..<open.lowerBound]
      let after = rest[open.upperBound...]
      guard let close = after.range(of: "}}") else {
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
          found.append((name.trimmingCharacters(in: .whitespaces), inner.contains(":"), i + 1))
          i = j + 2
          continue
        }
      }
      i += 1
    }
    return found
  }
}
