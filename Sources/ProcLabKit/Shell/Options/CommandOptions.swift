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
}

extension CommandOptions {
  public func validate(command: String) throws {}
}

/// For commands that take nothing after their name.
public struct NoOptions: CommandOptions {
  public init() {}
  public static var declarations: [OptionDeclaration<Self>] { [] }
}
