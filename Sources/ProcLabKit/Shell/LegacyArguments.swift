/// The words after a verb, looked up by option name: the shape commands had
/// before options were declared once and typed (`CommandOptions`). Kept only
/// while commands move over (`grep -l 'args\.' Sources` lists those left).
public struct Arguments: Sendable {
  public let command: String
  public private(set) var positionals: [String] = []
  private var given: [String: String] = [:]
  private var flags: Set<String> = []
  public private(set) var rest: [String] = []
  let usage: String

  public init(command: Command, words: [String]) throws {
    try self.init(name: command.name, usage: command.usage, options: command.legacyOptions, words: words)
  }

  init(name: String, usage: String, options: [Command.Option], words: [String]) throws {
    let command = (name: name, usage: usage, options: options)
    self.command = name
    self.usage = usage
    var i = 0
    while i < words.count {
      let word = words[i]
      if word.hasPrefix("--") && word.count > 2 {
        var name = word
        var inlineValue: String?
        if let eq = word.firstIndex(of: "=") {
          name = String(word[..<eq])
          inlineValue = String(word[word.index(after: eq)...])
        }
        guard let option = command.options.first(where: { $0.name == name }) else {
          throw UsageError(
            "\(command.name): unknown option \(Printable.word(name)); usage: \(command.usage)")
        }
        if option.takesRest {
          rest = (inlineValue.map { [$0] } ?? []) + words[(i + 1)...]
          flags.insert(name)
          break
        }
        if option.isFlag {
          if inlineValue != nil {
            throw UsageError("\(command.name): \(name) takes no value; usage: \(command.usage)")
          }
          flags.insert(name)
        } else if let inlineValue {
          given[name] = inlineValue
        } else {
          guard i + 1 < words.count else {
            throw UsageError("\(command.name): \(name) needs a value (\(name) \(option.value!))")
          }
          i += 1
          given[name] = words[i]
        }
      } else if word.hasPrefix("-") && word.count > 1 && !word.dropFirst().allSatisfy({ $0.isNumber }) {
        throw UsageError(
          "\(command.name): unknown option \(Printable.word(word)); usage: \(command.usage)")
      } else {
        positionals.append(word)
      }
      i += 1
    }
  }

  public func flag(_ name: String) -> Bool { flags.contains(name) || given[name] != nil }
  public func string(_ name: String) -> String? { given[name] }

  /// An integer option within a range, or its default when absent.
  public func int(_ name: String, default value: Int, in range: ClosedRange<Int>) throws -> Int {
    guard let text = given[name] else { return value }
    return try Arguments.integer(text, what: name, command: command, in: range)
  }

  /// A decimal option (seconds, milliseconds) within a range.
  public func double(_ name: String, default value: Double, in range: ClosedRange<Double>) throws -> Double {
    guard let text = given[name] else { return value }
    guard let x = Double(text), x.isFinite else {
      throw UsageError("\(command): \(name) must be a number, got '\(Printable.word(text))'")
    }
    guard range.contains(x) else {
      throw UsageError(
        "\(command): \(name) must be \(Units.plain(range.lowerBound))…\(Units.plain(range.upperBound)), got \(Units.plain(x))"
      )
    }
    return x
  }

  /// The positional integer at `index` (a count, a PID), or its default.
  public func positionalInt(_ index: Int, named what: String, default value: Int, in range: ClosedRange<Int>)
    throws -> Int
  {
    guard index < positionals.count else { return value }
    return try Arguments.integer(positionals[index], what: what, command: command, in: range)
  }

  public func positional(_ index: Int) -> String? { index < positionals.count ? positionals[index] : nil }

  /// Refuses more positional words than the command takes.
  public func expectPositionals(atMost n: Int) throws {
    if positionals.count > n {
      throw UsageError(
        "\(command): unexpected '\(Printable.word(positionals[n]))'; usage: \(usage)")
    }
  }

  /// Refuses options that cannot go together (`--lock --atomic`).
  public func exclusive(_ names: String...) throws {
    let present = names.filter { flag($0) }
    if present.count > 1 {
      throw UsageError(
        "\(command): \(present.joined(separator: " and ")) cannot be used together; choose one")
    }
  }

  static func integer(_ text: String, what: String, command: String, in range: ClosedRange<Int>) throws
    -> Int
  {
    guard let n = Int(text) else {
      if text.allSatisfy({ $0.isNumber || $0 == "-" }) && !text.isEmpty {
        throw UsageError(
          "\(command): \(what) must be \(range.lowerBound)…\(range.upperBound), got \(Printable.word(text))"
        )
      }
      throw UsageError("\(command): \(what) must be a whole number, got '\(Printable.word(text))'")
    }
    guard range.contains(n) else {
      throw UsageError("\(command): \(what) must be \(range.lowerBound)…\(range.upperBound), got \(n)")
    }
    return n
  }
}
