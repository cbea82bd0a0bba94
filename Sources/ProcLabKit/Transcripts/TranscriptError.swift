/// A problem in a transcript or lesson file, at a position a person can jump to:
/// `demo.txt:12:7: unknown placeholder kind 'pidd'; kinds: int, float, …`.
public struct TranscriptError: Error, CustomStringConvertible, Sendable, Equatable {
  public var file: String
  public var line: Int
  public var column: Int
  public var message: String

  public init(file: String, line: Int, column: Int, message: String) {
    self.file = file
    self.line = line
    self.column = column
    self.message = message
  }

  public var description: String { "\(file):\(line):\(column): \(message)" }
}

/// The values a transcript has captured so far (`{{A:pid}}` → `A = 4312`).
public struct Captures: Sendable, Hashable {
  public private(set) var values: [String: String] = [:]
  /// Kinds of the captured values, so the recorder and `--update` can reuse names.
  public private(set) var kinds: [String: Variable.Kind] = [:]

  public init() {}

  public subscript(name: String) -> String? {
    get { values[name] }
    set { values[name] = newValue }
  }

  mutating func set(_ name: String, _ value: String, kind: Variable.Kind) {
    values[name] = value
    kinds[name] = kind
  }

  /// Replaces every `{{NAME}}` whose NAME was captured by its value; other text stays as it is.
  public func substitute(_ command: String) -> String {
    guard command.contains("{{") else { return command }
    var out = ""
    var rest = Substring(command)
    while let open = rest.firstRange(of: "{{") {
      out += rest[..<open.lowerBound]
      let after = rest[open.upperBound...]
      if let close = after.firstRange(of: "}}") {
        let name = String(after[..<close.lowerBound])
        if let value = values[name] {
          out += value
          rest = after[close.upperBound...]
          continue
        }
      }
      out += "{{"
      rest = after
    }
    return out + rest
  }
}
