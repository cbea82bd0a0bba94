/// What Tab offers: command names first, then the command's options and
/// arguments (lesson names, files, children's PIDs, fixed words).
public enum Completer {
  public enum Result: Equatable, Sendable {
    case words([String])
    /// Let the line editor complete file names.
    case files
  }

  /// `before` is the line up to the start of the word being completed; `word` is that partial word.
  public static func complete(before: String, word: String, session: Session) -> Result {
    let currentCommand =
      before.split(separator: ";", omittingEmptySubsequences: false).last.map(String.init) ?? ""
    let previous = currentCommand.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
    guard let verb = previous.first else {
      return .words(session.registry.allNames.filter { $0.hasPrefix(word) })
    }
    guard let command = session.registry.command(named: verb) else { return .words([]) }
    if word.hasPrefix("-") {
      let used = Set(previous)
      return .words(command.options.map(\.name).filter { $0.hasPrefix(word) && !used.contains($0) })
    }
    // After an option that takes a value, offer nothing but files for path-like options.
    if let last = previous.last, let option = command.options.first(where: { $0.name == last }),
      !option.isFlag
    {
      return option.value == "FILE" || option.value == "DIR" ? .files : .words([])
    }
    var pool: [String]
    switch command.completion {
    case .none: pool = []
    case .words(let words): pool = command.name == "help" ? session.registry.commands.map(\.name) : words
    case .files: return .files
    case .lessons: pool = session.lessonNames()
    case .children: pool = session.children.pids.map(String.init)
    }
    return .words(pool.filter { $0.hasPrefix(word) }.sorted())
  }
}

extension Session {
  /// Lesson names for completion; the lesson engine replaces this.
  public var lessonNames: () -> [String] {
    get { (extensions["lessonNames"] as? Box<() -> [String]>)?.value ?? { [] } }
    set { extensions["lessonNames"] = Box(newValue) }
  }
}

/// Holds a value of any type in `Session.extensions`.
public final class Box<T> {
  public var value: T
  public init(_ value: T) { self.value = value }
}
