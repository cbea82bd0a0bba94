/// The options of one command, declared once as a struct: each stored
/// property is a typed value with its default, and `declarations` says how a
/// word on the command line sets it. That one list drives parsing, range
/// errors, `help CMD`, Tab completion, the `--json` echo of the effective
/// options and the parsed form lessons compare commands by.
///
/// ```swift
/// struct RaceOptions: CommandOptions {
///   var threads = 2
///   static var declarations: [OptionDeclaration<Self>] {
///     [.value("--threads", \.threads, "N", in: 1...64, "threads incrementing the counter")]
///   }
/// }
/// ```
///
/// A misspelled property does not compile; the range and default are written
/// once and appear in the help text and in every error.
public protocol CommandOptions: Sendable {
  init()
  static var declarations: [OptionDeclaration<Self>] { get }
  /// Checks that concern several options at once (`--threads × --iterations`).
  func validate(command: String) throws
  /// The options as the command will really use them: a default that depends on the machine
  /// (`parallel`'s threads: the CPUs this process may use) filled in, so a lesson's
  /// `parallel --threads 2` and a learner's `parallel` mean the same on a 2-CPU machine.
  var effective: Self { get }
  /// Another well-known spelling of the same command, rewritten into this one's before parsing
  /// (kill(1)'s `kill -15 4121` is `kill 4121 15`), so it runs and a lesson step accepts it.
  static func normalized(_ words: [String]) -> [String]
}

extension CommandOptions {
  public func validate(command: String) throws {}
  public var effective: Self { self }
  public static func normalized(_ words: [String]) -> [String] { words }
}

/// For commands that take nothing after their name.
public struct NoOptions: CommandOptions {
  public init() {}
  public static var declarations: [OptionDeclaration<Self>] { [] }
}
