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
    let typed = Array(previous.dropFirst())
    if word.hasPrefix("-") {
      let used = Set(typed)
      return .words(command.options.flatMap(\.names).filter { $0.hasPrefix(word) && !used.contains($0) })
    }
    // After an option that takes a value: that value's words (or files).
    if let last = typed.last, let option = command.options.first(where: { $0.names.contains(last) }),
      option.takesValue || (option.shape == .rest && typed.count == typed.lastIndex(of: last)! + 1)
    {
      return words(option.completion, word: word, session: session)
    }
    // Otherwise the next positional: count the words that were positionals so far.
    var index = 0
    var i = 0
    while i < typed.count {
      if let option = command.options.first(where: { $0.names.contains(typed[i]) }) {
        if option.shape == .rest { return .files }
        if option.takesValue { i += 1 }
      } else if !typed[i].hasPrefix("-") {
        index += 1
      }
      i += 1
    }
    return words(command.positionalCompletion(at: index), word: word, session: session)
  }

  static func words(_ completion: Completion, word: String, session: Session) -> Result {
    var pool: [String]
    switch completion {
    case .none: pool = []
    case .words(let words): pool = words
    case .files: return .files
    case .lessons: pool = session.lessonNames()
    case .children: pool = session.children.pids.map(String.init)
    case .commands:
      // `help` takes a command or an area.
      pool = session.registry.commands.map(\.name) + Command.Area.allCases.map(\.rawValue)
      pool = Array(Set(pool))
    case .topics: pool = Topics.names
    }
    return .words(pool.filter { $0.hasPrefix(word) }.sorted())
  }
}
