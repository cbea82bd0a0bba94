/// How one command compares with a step: the same rules for a learner at the
/// prompt, for `skip` and for the lesson checker.
public enum StepCheck {
  /// The command fitted and its output matched; the captures include this step's values.
  case passed(Captures)
  /// A different verb than the step asks for.
  case otherCommand
  /// The right verb, but arguments that do not fit the step's command (and why, when known).
  case otherArguments(String?)
  /// The right command, but it failed (its error line did not match either).
  case failed(String)
  /// The right command, but its output did not match the block.
  case mismatch(Mismatch)

  /// What the block is compared with: the command's output lines without colour,
  /// then its error line if it failed (no explanation lines: they are prose, not facts).
  public static func outputLines(_ outcome: Outcome) -> [String] {
    outcome.lines.map(Style.stripped) + (outcome.error.map { [Style.stripped($0)] } ?? [])
  }

  public static func check(
    _ step: LessonStep, outcome: Outcome, captures: Captures, registry: Registry,
    expected: ExpectedOutput? = nil
  ) -> StepCheck {
    var trial: Captures
    switch StepCommand.compare(outcome.input, with: step, captures: captures, registry: registry) {
    case .otherCommand: return .otherCommand
    case .otherArguments(let why): return .otherArguments(why)
    case .fits(let taken): trial = taken
    }
    if let mismatch = (expected ?? step.expected).match(outputLines(outcome), captures: &trial) {
      if !outcome.succeeded, let error = outcome.error { return .failed(Style.stripped(error)) }
      return .mismatch(mismatch)
    }
    return .passed(trial)
  }
}

extension LessonStep {
  /// Whether `typed` is this step's command by meaning (see `StepCommand`): the captures it
  /// takes when it is, and why not when it is not (nil: another verb, or no reason known).
  public func accepts(
    _ typed: String, captures: Captures = Captures(), registry: Registry = Catalog.registry
  ) -> (fits: Bool, captures: Captures, reason: String?) {
    switch StepCommand.compare(typed, with: self, captures: captures, registry: registry) {
    case .fits(let taken): (true, taken, nil)
    case .otherCommand: (false, captures, nil)
    case .otherArguments(let why): (false, captures, why)
    }
  }
}
