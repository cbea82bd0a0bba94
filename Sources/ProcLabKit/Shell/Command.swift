/// One verb of the shell: what it is called, how it is used, and what it does.
public struct Command: Sendable {
  public enum Area: String, Sendable, CaseIterable {
    case shell, processes, threads, synchronization, ipc, failure, measurement, lessons, transcripts

    public var title: String {
      switch self {
      case .shell: "shell"
      case .processes: "processes"
      case .threads: "threads"
      case .synchronization: "synchronization"
      case .ipc: "inter-process communication"
      case .failure: "failure"
      case .measurement: "measurement"
      case .lessons: "lessons"
      case .transcripts: "transcripts"
      }
    }
  }

  /// What completion offers for a command's positional arguments.
  public enum Completion: Sendable {
    case none
    case words([String])
    case files
    case lessons
    case children
  }

  public let name: String
  public let aliases: [String]
  public let area: Area
  public let summary: String
  public let usage: String
  public let options: [Option]
  public let examples: [String]
  public let completion: Completion
  /// Whether the command runs an external program (refused in files without `--allow-exec`).
  public let run: @Sendable (Arguments, Session) throws -> Report

  public init(
    name: String, aliases: [String] = [], area: Area, summary: String, usage: String,
    options: [Option] = [], examples: [String] = [], completion: Completion = .none,
    run: @escaping @Sendable (Arguments, Session) throws -> Report
  ) {
    self.name = name
    self.aliases = aliases
    self.area = area
    self.summary = summary
    self.usage = usage
    self.options = options
    self.examples = examples
    self.completion = completion
    self.run = run
  }

  /// An option of a command: `--threads N`, or a flag like `--lock`.
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
