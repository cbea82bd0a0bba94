/// A bound on the work of matching one step's output against its pattern.
///
/// Patterns come from files, and files are untrusted: `{{:text}}` five times in
/// a row can be split over a line in very many ways. The matchers remember
/// every state that failed, so the usual work is linear in the line; the budget
/// is the guarantee for the rest: each candidate tried costs a step, and when
/// the steps run out (or Ctrl-C or SIGTERM arrives) the match gives up and says so.
public final class MatchBudget {
  /// Enough for a line of 100,000 words, and far below a second of work.
  public static let defaultSteps = 2_000_000

  public enum Stop: Sendable, Equatable {
    case exhausted(steps: Int)
    case interrupted
  }

  public let limit: Int
  public private(set) var spent = 0
  public private(set) var stop: Stop?

  public init(steps: Int = MatchBudget.defaultSteps) { limit = steps }

  /// A budget for output of this many characters: the default, and more for very long output.
  public static func forOutput(characters: Int) -> MatchBudget {
    MatchBudget(steps: max(defaultSteps, characters.multipliedReportingOverflow(by: 8).partialValue))
  }

  /// One unit of work; false once the budget is spent or the person asked to stop.
  @inline(__always)
  func spend() -> Bool {
    if stop != nil { return false }
    spent += 1
    if spent > limit {
      stop = .exhausted(steps: limit)
      return false
    }
    // A signal handler only sets a flag: looking at it every thousand steps keeps Ctrl-C prompt.
    if spent & 1023 == 0 && (Interrupt.isRequested || Interrupt.terminationSignal != 0) {
      stop = .interrupted
      return false
    }
    return true
  }

  /// What a report says when the match gave up.
  var message: String? {
    switch stop {
    case nil: nil
    case .exhausted(let steps)?:
      "gave up after \(steps) matching steps: the pattern can split this output in too many ways (several {{:text}} or {{:word}} side by side, or many '...'); make it more specific"
    case .interrupted?: "matching stopped: interrupted"
    }
  }
}
