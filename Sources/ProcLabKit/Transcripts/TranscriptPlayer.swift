/// Runs a transcript's commands in a session, one step at a time, and matches
/// what each printed against the expected output. Used by `check` and `replay`.
public final class TranscriptPlayer {
  public let session: Session
  public let transcript: Transcript
  public private(set) var captures = Captures()

  /// What one step did.
  public struct StepResult: Sendable {
    public var index: Int
    /// The command that ran, after substitution (nil when it could not be built).
    public var command: String?
    /// What it printed: escapes stripped, trailing spaces and blank lines trimmed.
    public var actual: [String]
    public var mismatch: Mismatch?
    public var outcomes: [Outcome]
    /// The captures before this step (for `--update`).
    public var capturesBefore: Captures
  }

  public init(session: Session, transcript: Transcript) {
    self.session = session
    self.transcript = transcript
    session.isPlayingFile = true
  }

  /// The command step `index` will run, or nil if it needs a value nobody captured.
  public func command(for index: Int) -> String? { transcript.steps[index].command.instantiate(captures) }

  /// Runs step `index`. `echo` also receives everything the command printed (replay shows it live).
  public func run(step index: Int, echo: ((String) -> Void)? = nil) -> StepResult {
    let step = transcript.steps[index]
    let before = captures
    guard let line = step.command.instantiate(captures) else {
      let missing = step.command.placeholders.filter { $0.name.map { captures[$0] == nil } ?? true }.map(
        \.source)
      let report =
        "  the command '\(step.command.text)' needs \(missing.joined(separator: ", ")), which no earlier output captured"
      return StepResult(
        index: index, command: nil, actual: [], mismatch: Mismatch(report: report, line: step.line),
        outcomes: [],
        capturesBefore: before)
    }
    var printed: [String] = []
    let saved = session.write
    session.write = { text in
      printed.append(text)
      echo?(text)
    }
    let outcomes = session.execute(line: line)
    session.write = saved
    let actual = TranscriptPlayer.lines(of: printed)
    var next = captures
    let mismatch = step.expected.match(actual, captures: &next)
    if mismatch == nil {
      captures = next
    } else {
      // Keep the values the lines that did match would capture, so one mismatch does not make
      // every later `{{A}}` fail as never captured.
      captures = step.expected.salvage(actual, captures: captures)
    }
    return StepResult(
      index: index, command: line, actual: actual, mismatch: mismatch, outcomes: outcomes,
      capturesBefore: before)
  }

  /// Carries on after a mismatch with the captures a corrected step would give (`--update`).
  public func adopt(_ newCaptures: Captures) { captures = newCaptures }

  /// Printed text as output lines: escapes stripped, trailing spaces trimmed, trailing blank lines dropped.
  public static func lines(of printed: [String]) -> [String] {
    var lines = printed.joined(separator: "\n").split(separator: "\n", omittingEmptySubsequences: false).map {
      LinePattern.trimTrailing(Style.stripped(String($0)))
    }
    while let last = lines.last, last.isEmpty { lines.removeLast() }
    return lines
  }
}
