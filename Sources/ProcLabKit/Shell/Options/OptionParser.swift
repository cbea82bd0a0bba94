/// Reads the words after a verb into a command's typed options.
///
/// Every failure is a `UsageError` of one line naming the command, the word
/// that was wrong and what would work.
public enum OptionParser {
  public static func parse<Root: CommandOptions>(_ words: [String], command: String) throws -> Root {
    try read(Root.normalized(words), command: command)
  }

  static func read<Root: CommandOptions>(_ words: [String], command: String) throws -> Root {
    let declarations = Root.declarations
    var root = Root()
    var positionals = declarations.filter {
      $0.shape == .positional || ($0.shape == .rest && $0.names.isEmpty)
    }
    var chosen: [String: String] = [:]  // choice key → the flag that made it
    var i = 0
    func usage() -> String { Usage.line(command, declarations) }

    while i < words.count {
      let word = words[i]
      if word.hasPrefix("--") && word.count > 2 {
        var name = word
        var inline: String?
        if let eq = word.firstIndex(of: "=") {
          name = String(word[..<eq])
          inline = String(word[word.index(after: eq)...])
        }
        guard let d = declarations.first(where: { $0.names.contains(name) && !$0.names.isEmpty }) else {
          let known = declarations.flatMap(\.names)
          let unknown = "\(command): unknown option \(Printable.word(name))"
          if let guess = Registry.closest(to: name, among: known) {
            throw UsageError("\(unknown) — did you mean \(guess)? (usage: \(usage()))")
          }
          throw UsageError("\(unknown); usage: \(usage())")
        }
        switch d.shape {
        case .flag:
          if inline != nil { throw UsageError("\(command): \(name) takes no value; usage: \(usage())") }
          if !d.choiceFlags.isEmpty, let earlier = chosen[d.key], earlier != name {
            throw UsageError("\(command): \(earlier) and \(name) cannot be used together; choose one")
          }
          chosen[d.key] = name
          try d.apply(&root, name, nil, command)
        case .value:
          var value = inline
          if value == nil, i + 1 < words.count {
            i += 1
            value = words[i]
          }
          try d.apply(&root, name, value, command)
        case .rest:
          try d.apply(&root, name, nil, command)
          for w in (inline.map { [$0] } ?? []) + words[(i + 1)...] { try d.apply(&root, name, w, command) }
          i = words.count
          continue
        case .positional:
          break
        }
      } else if word.hasPrefix("-") && word.count > 1 && !Self.isNumber(word) {
        throw UsageError("\(command): unknown option \(Printable.word(word)); usage: \(usage())")
      } else {
        guard let d = positionals.first else {
          throw UsageError("\(command): unexpected '\(Printable.word(word))'; usage: \(usage())")
        }
        if d.shape == .rest {
          for w in words[i...] { try d.apply(&root, "", w, command) }
          positionals.removeFirst()
          i = words.count
          continue
        }
        positionals.removeFirst()
        try d.apply(&root, d.key, word, command)
      }
      i += 1
    }
    if let missing = positionals.first(where: \.isRequired) {
      throw UsageError("\(command): \(missing.placeholder ?? missing.key) is missing; usage: \(usage())")
    }
    try root.validate(command: command)
    return root
  }

  /// `-3`, `-1.5`: values, not options.
  static func isNumber(_ word: String) -> Bool {
    Double(word) != nil
  }
}

/// The usage line and help rows made from a command's declarations.
public enum Usage {
  public static func line<Root>(_ command: String, _ declarations: [OptionDeclaration<Root>]) -> String {
    ([command] + declarations.map(\.usage)).joined(separator: " ")
  }
}
