/// The shape commands had before typed options: a usage string, option names
/// and a closure that looks options up by string. Delete this file and
/// LegacyArguments.swift once no command uses it (`grep -l 'args\.' Sources`).
extension Command {
  /// An option looked up by name (`args.int("--threads")`).
  public struct Option: Sendable {
    public let name: String
    public let value: String?
    public let help: String
    /// Takes every remaining word (`--exec PROGRAM ARGS...`).
    public let takesRest: Bool
    public init(_ name: String, value: String? = nil, _ help: String, takesRest: Bool = false) {
      self.name = name
      self.value = value
      self.help = help
      self.takesRest = takesRest
    }
    public var isFlag: Bool { value == nil }
  }

  public init(
    name: String, aliases: [String] = [], area: Area, summary: String, usage: String,
    options: [Option] = [], examples: [String] = [], completion: Completion = .none,
    run: @escaping @Sendable (Arguments, Session) throws -> Report
  ) {
    var summaries = options.map { o in
      OptionSummary(
        names: [o.name], key: OptionDeclaration<NoOptions>.keyName(o.name), placeholder: o.value,
        shape: o.takesRest ? .rest : o.isFlag ? .flag : .value,
        rows: [.init(label: o.name + (o.value.map { " " + $0 } ?? ""), help: o.help)],
        completion: o.value == "FILE" || o.value == "DIR" || o.takesRest ? .files : .none,
        usage: o.name)
    }
    summaries.append(
      OptionSummary(
        names: [], key: "words", placeholder: nil, shape: .rest, rows: [], completion: completion, usage: ""))
    self.init(
      name: name, aliases: aliases, area: area, summary: summary, usage: usage, options: summaries,
      examples: examples, legacyOptions: options
    ) { words in
      let args = try Arguments(name: name, usage: usage, options: options, words: words)
      var values = JSONObject()
      values["words"] = .array(words.map(JSON.string))
      let parsed = ParsedCommand(
        name: name, values: values,
        canonicalLine: ([name] + words.map(WordSplitter.quote)).joined(separator: " "))
      return Invocation(parsed: parsed) { try run(args, $0) }
    }
  }
}
