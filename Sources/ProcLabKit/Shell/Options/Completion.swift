/// What Tab offers for an option's value or a positional argument.
public enum Completion: Sendable, Equatable {
  case none
  case words([String])
  case files
  case lessons
  case children
  case commands
  case topics
}
