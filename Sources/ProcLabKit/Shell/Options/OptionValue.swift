/// A value an option or a positional argument takes, read from one word the
/// learner typed: `--threads 4`, `kill 4121 STOP`, `crash segv`.
///
/// The word it is written back as (`canonicalWord`) is what makes two commands
/// comparable by meaning: `kill 4121 SIGSTOP`, `kill 4121 stop` and
/// `kill 4121 19` all read back as `kill 4121 STOP`.
public protocol OptionValue: Equatable, Sendable, JSONRepresentable {
  /// The value a word stands for, or nil when the word is not one.
  static func parse(_ word: String) -> Self?
  /// What a word must look like, for the error when it is not (`a whole number`).
  static var expected: String { get }
  /// The error (after `command: `) when `word` is not a value: `--threads must be a whole number, got 'x'`.
  static func refusal(of word: String, for what: String) -> String
  /// Words Tab offers for this value (enumerations, signal names); empty for free values.
  static var completions: [String] { get }
  /// The one spelling this value is written back as.
  var canonicalWord: String { get }
  /// What the learner probably meant when `value` does not `fit` (`64K` for a
  /// bare `64`), or nil.
  static func nearest(to value: Self, fitting fits: (Self) -> Bool) -> Self?
}

extension OptionValue {
  public static var completions: [String] { [] }
  public static func nearest(to value: Self, fitting fits: (Self) -> Bool) -> Self? { nil }
  public static func refusal(of word: String, for what: String) -> String {
    "\(what) must be \(expected), got '\(Printable.word(word))'"
  }
}

extension Int: OptionValue {
  public static func parse(_ word: String) -> Int? { Int(word) }
  public static var expected: String { "a whole number" }
  public var canonicalWord: String { String(self) }
}

extension Double: OptionValue {
  public static func parse(_ word: String) -> Double? {
    guard let x = Double(word), x.isFinite else { return nil }
    return x
  }
  public static var expected: String { "a number" }
  public var canonicalWord: String { Units.plain(self) }
}

extension String: OptionValue {
  public static func parse(_ word: String) -> String? { word }
  public static var expected: String { "a word" }
  public var canonicalWord: String { self }
}

/// An option value that is one of a few named words (`crash segv|abort|…`).
/// Conform an enum with String raw values and declare nothing else.
public protocol OptionChoice: OptionValue, CaseIterable, RawRepresentable where RawValue == String {}

extension OptionChoice {
  public static func parse(_ word: String) -> Self? {
    Self(rawValue: word) ?? allCases.first { $0.rawValue.lowercased() == word.lowercased() }
  }
  public static var expected: String { "one of " + allCases.map(\.rawValue).joined(separator: ", ") }
  public static var completions: [String] { allCases.map(\.rawValue) }
  public var canonicalWord: String { rawValue }
  public var json: JSON { .string(rawValue) }
}

/// PIDs and TIDs are `pid_t`.
extension Int32: OptionValue {
  public static func parse(_ word: String) -> Int32? { Int32(word) }
  public static var expected: String { "a whole number" }
  public var canonicalWord: String { String(self) }
}
