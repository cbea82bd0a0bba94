/// Runs a transcript's commands in a session, one step at a time, and matches
/// what each printed against the expected output. Used by `check` and `replay`.
public final class TranscriptPlayer {
  public let session: Session
  public let transcript: Transcript
  public private(set) var captures = Captures()
  /// Names a failed step should have captured, and the file line of that step: a later
  /// step that needs one reports this root cause instead of a mismatch of its own.
  public private(set) var missingBecause: [String: Int] = [:]

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
    /// The step did not match only because an earlier step failed to capture a value it
    /// needs (the file line of that step): a consequence, not a cause of its own.
    public var dependsOnFailedStep: Int?
    public var seconds: Double = 0
  }

  public init(session: Session, transcript: Transcript) {
    self.session = session
    self.transcript = transcript
    session.isPlayingFile = true
  }

  /// The command step `index` will run, or nil if it needs a value nobody captured.
  public func command(for index: Int) -> String? { transcript.steps[index].command.instantiate(captures) }

  /// Types a step's narration into the session's history, as the person recording did
  /// (so a recorded `history` lists the same lines). Replay shows them as captions first.
  public func rememberNarration(step index: Int) {
    let saved = session.write
    session.write = { _ in }
    for line in transcript.steps[index].narrationSource { session.execute(line: line) }
    session.write = saved
  }

  /// Runs step `index`. `echo` also receives everything the command printed (replay shows it live).
  public func run(step index: Int, echo: ((String) -> Void)? = nil) -> StepResult {
    let start = MonotonicClock.nanoseconds()
    let step = transcript.steps[index]
    let before = captures
    rememberNarration(step: index)
    guard let line = step.command.instantiate(captures) else {
      let missing = step.command.placeholders.filter { $0.name.map { captures[$0] == nil } ?? true }
      let cause = missing.compactMap { $0.name.flatMap { missingBecause[$0] } }.first
      var report =
        "  the command '\(ExpectedOutput.cut(step.command.text))' needs \(missing.map(\.source).joined(separator: ", ")), which no earlier output captured"
      if let cause { report += " (the command on line \(cause) did not match, so it captured nothing)" }
      for name in step.expected.capturedNames where missingBecause[name] == nil {
        missingBecause[name] = cause ?? step.line
      }
      return StepResult(
        index: index, command: nil, actual: [], mismatch: Mismatch(report: report, line: step.line),
        outcomes: [], capturesBefore: before, dependsOnFailedStep: cause,
        seconds: Double(MonotonicClock.nanoseconds() - start) / 1e9)
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
    var result = StepResult(
      index: index, command: line, actual: actual, mismatch: nil, outcomes: outcomes, capturesBefore: before)
    switch TranscriptPlayer.match(step.expected, actual, outcomes: outcomes, captures: captures) {
    case .matched(let next, let coverage):
      if let problem = TranscriptPlayer.failureProblem(
        step, outcomes: outcomes, actual: actual, coverage: coverage)
      {
        result.mismatch = problem
        captures = next
      } else {
        captures = next
        for name in step.expected.capturedNames { missingBecause[name] = nil }
      }
    case .mismatch(var m):
      if let failed = outcomes.first(where: { !$0.succeeded }), let error = failed.error {
        m = Mismatch(
          report: m.report + "\n  (the command failed: \(Printable.line(Style.stripped(error))))",
          line: m.line)
      }
      result.mismatch = m
      // Keep the values the lines that did match would capture, so one mismatch does not make
      // every later `{{A}}` fail as never captured; the rest point back at this step.
      let salvaged = step.expected.salvage(actual, captures: captures)
      let usedMissing = step.expected.placeholders.compactMap { p -> Int? in
        if case .reference(let n) = p.role, captures[n] == nil { return missingBecause[n] }
        return nil
      }.first
      result.dependsOnFailedStep = usedMissing
      for name in step.expected.capturedNames where salvaged[name] == nil {
        missingBecause[name] = usedMissing ?? step.line
      }
      captures = salvaged
    }
    result.seconds = Double(MonotonicClock.nanoseconds() - start) / 1e9
    return result
  }

  /// Matches a step's output. Under `[error]` the failing command's error lines need not be
  /// written out (`[error]` alone expects a one-line error), though they may be.
  static func match(_ expected: ExpectedOutput, _ actual: [String], outcomes: [Outcome], captures: Captures)
    -> ExpectedOutput.MatchResult
  {
    let full = expected.match(actual, captures: captures)
    guard case .mismatch = full, expected.expectsFailure else { return full }
    let errorLines = Set(
      outcomes.filter { !$0.succeeded }.compactMap(\.error).flatMap {
        Style.stripped($0).split(separator: "\n").map { LinePattern.trimTrailing(String($0)) }
      })
    let rest = actual.filter { !errorLines.contains($0) }
    guard rest.count < actual.count, case .matched(let c, _) = expected.match(rest, captures: captures) else {
      return full
    }
    return .matched(c, coverage: actual.map { errorLines.contains($0) ? .skipped : .written })
  }

  /// A failing command matches only an expected failure: its error line written out, or
  /// `[error]`; `[error]` on a command that succeeded is a mismatch too.
  static func failureProblem(
    _ step: Transcript.Step, outcomes: [Outcome], actual: [String], coverage: [ExpectedOutput.Coverage]
  ) -> Mismatch? {
    let failed = outcomes.filter { !$0.succeeded }
    let expected = step.expected
    if expected.expectsFailure {
      if failed.isEmpty {
        return Mismatch(
          report:
            "  [error] (line \(expected.failureMarkerLine ?? step.line)) says this command fails, but it succeeded",
          line: expected.failureMarkerLine ?? step.line)
      }
      return nil
    }
    for outcome in failed {
      if let error = outcome.error {
        let text = LinePattern.trimTrailing(
          Style.stripped(error).split(separator: "\n").first.map(String.init) ?? "")
        let rows = actual.indices.filter { actual[$0] == text }
        if rows.isEmpty || rows.contains(where: { coverage[$0] == .written }) { continue }
        return Mismatch(
          report:
            "  the command failed: \(Printable.line(text))\n  only '...' covers that line; write the error line out, or add a line [error] to expect a failure",
          line: step.line)
      }
      if coverage.contains(.skipped) {
        return Mismatch(
          report:
            "  the command failed (it reported that it did not complete); '...' may not hide that: write its output out, or add a line [error] to expect a failure",
          line: step.line)
      }
    }
    return nil
  }

  /// Carries on after a mismatch with the captures a corrected step would give (`--update`).
  public func adopt(_ newCaptures: Captures) {
    captures = newCaptures
    missingBecause = missingBecause.filter { newCaptures[$0.key] == nil }
  }

  /// Printed text as output lines: escapes stripped, trailing spaces trimmed, trailing blank lines dropped.
  public static func lines(of printed: [String]) -> [String] {
    var lines = printed.joined(separator: "\n").split(separator: "\n", omittingEmptySubsequences: false).map {
      LinePattern.trimTrailing(Style.stripped(String($0)))
    }
    while let last = lines.last, last.isEmpty { lines.removeLast() }
    return lines
  }
}
