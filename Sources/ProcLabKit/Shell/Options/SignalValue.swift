/// A signal as a learner names it: `TERM`, `SIGTERM`, `term` or `15` are one value,
/// written back as `TERM` (so lessons accept every spelling).
public struct SignalValue: OptionValue, Comparable {
  public let number: Int32
  public init(_ number: Int32) { self.number = number }

  public static func parse(_ word: String) -> SignalValue? { Signals.parse(word).map(SignalValue.init) }
  public static var expected: String { "a signal name or number (\(Signals.namesForHelp))" }
  public static func refusal(of word: String, for what: String) -> String {
    // A named option (`observe --signal`) is named; a positional (`kill PID SIGNAL`) speaks for itself.
    if what.hasPrefix("--") {
      return
        "\(what): unknown signal '\(Printable.word(word))'; use a name or a number 1…64: \(Signals.namesForHelp)"
    }
    return "unknown signal '\(Printable.word(word))'; use a name or number: \(Signals.namesForHelp)"
  }
  public static var completions: [String] { Signals.all.map { String($0.name.dropFirst(3)) } }
  public var canonicalWord: String {
    let name = Signals.name(number)
    return name.hasPrefix("SIG") ? String(name.dropFirst(3)) : String(number)
  }
  public var json: JSON { .string(Signals.name(number)) }
  public static func < (a: SignalValue, b: SignalValue) -> Bool { a.number < b.number }
}
