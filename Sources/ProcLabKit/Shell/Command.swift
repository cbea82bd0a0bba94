/// One verb of the shell: what it is called, what its options are, and what it does.
public struct Command: Sendable {
  public enum Area: String, Sendable, CaseIterable {
    case shell, processes, threads, synchronization, ipc, failure, measurement, programs, lessons, transcripts

    public var title: String {
      switch self {
      case .ipc: "inter-process communication"
      case .programs: "your own programs"
      default: rawValue
      }
    }
  }

  public let name: String
  public let aliases: [String]
  public let area: Area
  public let summary: String
  /// `race [--threads N] [--iterations M] [--racy | --lock | --atomic]`, made from the declarations.
  public let usage: String
  /// What `help CMD` and Tab know of each declared option.
  public let options: [OptionSummary]
  public let examples: [String]
  /// Reads the words after the verb into typed options; the result runs the command.
  public let parse: @Sendable ([String]) throws -> Invocation

  init(
    name: String, aliases: [String], area: Area, summary: String, usage: String, options: [OptionSummary],
    examples: [String], parse: @escaping @Sendable ([String]) throws -> Invocation
  ) {
    self.name = name
    self.aliases = aliases
    self.area = area
    self.summary = summary
    self.usage = usage
    self.options = options
    self.examples = examples
    self.parse = parse
  }

  public init<Options: CommandOptions>(
    name: String, aliases: [String] = [], area: Area, summary: String, examples: [String] = [],
    options: Options.Type, run: @escaping @Sendable (Options, Session) throws -> Report
  ) {
    let declarations = Options.declarations
    self.init(
      name: name, aliases: aliases, area: area, summary: summary, usage: Usage.line(name, declarations),
      options: declarations.map(OptionSummary.init), examples: examples
    ) { words in
      let typed: Options = try OptionParser.parse(words, command: name)
      return Invocation(parsed: ParsedCommand.of(typed.effective, command: name)) { try run(typed, $0) }
    }
  }

  /// A command that takes nothing after its name.
  public init(
    name: String, aliases: [String] = [], area: Area, summary: String, examples: [String] = [],
    run: @escaping @Sendable (Session) throws -> Report
  ) {
    self.init(
      name: name, aliases: aliases, area: area, summary: summary, examples: examples, options: NoOptions.self
    ) { _, session in try run(session) }
  }

  /// Reads a whole command line (`race --threads 4`), for tests and lessons.
  public func parse(line: String) throws -> Invocation {
    try parse(Array((try WordSplitter.split(line).first ?? []).dropFirst()))
  }

  /// What completion offers for the positional argument at `index` (after the verb, options not counted).
  public func positionalCompletion(at index: Int) -> Completion {
    let positionals = options.filter { $0.shape == .positional || ($0.shape == .rest && $0.names.isEmpty) }
    if index < positionals.count { return positionals[index].completion }
    if let last = positionals.last, last.shape == .rest { return last.completion }
    return .none
  }
}

/// A command line read into typed options, ready to run.
public struct Invocation {
  /// What the command means (for lessons and `--json`).
  public let parsed: ParsedCommand
  public let run: (Session) throws -> Report
}

/// One declared option as help and completion see it, without its types.
public struct OptionSummary: Sendable {
  public let names: [String]
  public let key: String
  public let placeholder: String?
  public let shape: OptionShape
  public let rows: [Row]
  public let completion: Completion
  public let usage: String

  public struct Row: Sendable {
    public let label: String
    public let help: String
  }

  init(
    names: [String], key: String, placeholder: String?, shape: OptionShape,
    rows: [Row], completion: Completion, usage: String
  ) {
    self.names = names
    self.key = key
    self.placeholder = placeholder
    self.shape = shape
    self.rows = rows
    self.completion = completion
    self.usage = usage
  }

  init<Root>(_ d: OptionDeclaration<Root>) {
    names = d.names
    key = d.key
    placeholder = d.placeholder
    shape = d.shape
    rows = d.helpRows.map { Row(label: $0.0, help: $0.1) }
    completion = d.completion
    usage = d.usage
  }

  /// Whether a value word follows this option (`--threads N`).
  public var takesValue: Bool { shape == .value }
}

/// Bad input: one line saying what was wrong and what works.
public struct UsageError: Error, Sendable, Equatable {
  public let message: String
  public init(_ message: String) { self.message = message }
}

/// A command that was stopped by Ctrl-C.
public struct Interrupted: Error, Sendable {
  public init() {}
}
