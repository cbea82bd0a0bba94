/// A command as its options mean it, whatever order or spelling was typed:
/// every declared option with its effective value (defaults filled in).
///
/// `kill 4121 SIGSTOP` and `kill 4121 19` parse to the same form; so do
/// `io --tasks 32 --poll` and `io --poll --tasks 32`. Lessons compare a
/// learner's command with a step's this way.
public struct ParsedCommand: Sendable, Equatable {
  public let name: String
  /// Every option and positional by key, in declaration order.
  public let values: JSONObject
  /// The shortest line that means this command: defaults left out, options in declaration order.
  public let canonicalLine: String

  public init(name: String, values: JSONObject, canonicalLine: String) {
    self.name = name
    self.values = values
    self.canonicalLine = canonicalLine
  }

  /// Whether two commands mean the same, ignoring the options in `free` (a lesson's `cost` with any `--iterations`).
  public func means(_ other: ParsedCommand, ignoring free: Set<String> = []) -> Bool {
    guard name == other.name else { return false }
    let keys = Set(values.fields.map(\.key)).union(other.values.fields.map(\.key)).subtracting(free)
    return keys.allSatisfy { values[$0] == other.values[$0] }
  }

  static func of<Root: CommandOptions>(_ root: Root, command: String) -> ParsedCommand {
    var values = JSONObject()
    var words = [command]
    for d in Root.declarations {
      values[d.key] = d.value(root)
      words += d.words(root).map(WordSplitter.quote)
    }
    return ParsedCommand(name: command, values: values, canonicalLine: words.joined(separator: " "))
  }
}
