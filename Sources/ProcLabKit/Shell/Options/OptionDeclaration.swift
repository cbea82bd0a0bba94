/// How one word (or a few) on a command line sets one property of a
/// command's options: a flag, an option with a value, a choice among flags,
/// a positional argument, or every remaining word.
///
/// Built only through the static constructors below, which take a key path:
/// the property's type decides how the word is parsed, its initial value is
/// the default, and the range is written here once.
public struct OptionDeclaration<Root: CommandOptions> {
  public typealias Shape = OptionShape

  /// The spellings of a flag or option (`--lock`, `--mutex`); empty for positionals.
  public let names: [String]
  /// The name in the parsed form, in `--json`'s option echo and in errors about positionals.
  public let key: String
  /// What the value is called in usage lines (`N`, `SECONDS`); nil for flags.
  public let placeholder: String?
  public let shape: Shape
  /// One line of help, with the range and default added from the declaration.
  public let help: String
  public let completion: Completion
  /// Whether leaving it out is allowed (positionals); options and flags always are.
  public let isRequired: Bool
  /// Flags of one choice: at most one may be given.
  let choiceFlags: [(name: String, help: String)]

  /// Sets the property from the flag that was typed and the value word (nil for flags).
  let apply: (inout Root, _ flag: String, _ word: String?, _ command: String) throws -> Void
  /// The words that give this property its current value; empty when it has its default.
  let words: (Root) -> [String]
  /// The current value for `--json` and for comparing commands (null when unset).
  let value: (Root) -> JSON

  /// Usage fragment: `[--threads N]`, `[--racy | --lock]`, `[N]`, `PID`.
  public var usage: String {
    switch shape {
    case .flag:
      if !choiceFlags.isEmpty { return "[" + choiceFlags.map(\.name).joined(separator: " | ") + "]" }
      return "[\(names[0])]"
    case .value: return "[\(names[0]) \(placeholder ?? "VALUE")]"
    case .positional: return isRequired ? (placeholder ?? key) : "[\(placeholder ?? key)]"
    case .rest:
      let what = placeholder ?? "ARGS..."
      return names.isEmpty ? what : "[\(names[0]) \(what)]"
    }
  }

  /// Rows for `help CMD`: one per flag of a choice, one otherwise.
  public var helpRows: [(String, String)] {
    if !choiceFlags.isEmpty { return choiceFlags.map { ($0.name, $0.help) } }
    switch shape {
    case .flag: return [(names.joined(separator: ", "), help)]
    case .value: return [(names.joined(separator: ", ") + " " + (placeholder ?? "VALUE"), help)]
    case .positional: return [(placeholder ?? key, help)]
    case .rest: return [((names.first.map { $0 + " " } ?? "") + (placeholder ?? "ARGS..."), help)]
    }
  }

  init(
    names: [String], key: String, placeholder: String?, shape: Shape, help: String,
    completion: Completion, isRequired: Bool = false, choiceFlags: [(name: String, help: String)] = [],
    apply: @escaping (inout Root, String, String?, String) throws -> Void,
    words: @escaping (Root) -> [String], value: @escaping (Root) -> JSON
  ) {
    self.names = names
    self.key = key
    self.placeholder = placeholder
    self.shape = shape
    self.help = help
    self.completion = completion
    self.isRequired = isRequired
    self.choiceFlags = choiceFlags
    self.apply = apply
    self.words = words
    self.value = value
  }
}

// MARK: flags

extension OptionDeclaration {
  /// `--lock`: sets a Bool property to true.
  public static func flag(
    _ name: String, aliases: [String] = [], _ path: WritableKeyPath<Root, Bool>, _ help: String
  ) -> Self {
    Self(
      names: [name] + aliases, key: keyName(name), placeholder: nil, shape: .flag, help: help,
      completion: .none,
      apply: { root, _, _, _ in root[keyPath: path] = true },
      words: { $0[keyPath: path] ? [name] : [] },
      value: { .bool($0[keyPath: path]) })
  }

  /// One of a few flags that each choose a value (`--racy | --lock | --atomic`); at most one may be given.
  /// The property keeps its initial value when none is; in JSON a value is the name of its flag
  /// (`racy`), and the initial value is `unchosen` (`posix_spawn`), or null.
  public static func choice<V: Equatable>(
    _ key: String, _ path: WritableKeyPath<Root, V>, _ flags: [(String, V, String)], unchosen: String? = nil
  ) -> Self {
    Self(
      names: flags.map(\.0), key: key, placeholder: nil, shape: .flag, help: "",
      completion: .none, choiceFlags: flags.map { ($0.0, $0.2) },
      apply: { root, flag, _, _ in
        if let hit = flags.first(where: { $0.0 == flag }) { root[keyPath: path] = hit.1 }
      },
      words: { root in
        let current = root[keyPath: path]
        guard current != Root()[keyPath: path] else { return [] }
        return flags.first { $0.1 == current }.map { [$0.0] } ?? []
      },
      value: { root in
        let current = root[keyPath: path]
        if current != Root()[keyPath: path], let hit = flags.first(where: { $0.1 == current }) {
          return .string(keyName(hit.0))
        }
        return unchosen.map(JSON.string) ?? .null
      })
  }
}

// MARK: options with a value

extension OptionDeclaration {
  /// `--threads N` with a default (the property's initial value) and a range.
  public static func value<V: OptionValue & Comparable>(
    _ name: String, aliases: [String] = [], _ path: WritableKeyPath<Root, V>, _ placeholder: String,
    in range: ClosedRange<V>, _ help: String, completion: Completion? = nil
  ) -> Self {
    valued(
      names: [name] + aliases, key: keyName(name), placeholder, shape: .value,
      help: help + " (" + rangeText(range) + ", default \(Root()[keyPath: path].canonicalWord))",
      completion: completion ?? .words(V.completions), required: false,
      check: rangeCheck(range), get: { $0[keyPath: path] }, put: { $0[keyPath: path] = $1 },
      isDefault: { $0[keyPath: path] == Root()[keyPath: path] })
  }

  /// `--name VALUE` with a default and no range.
  public static func value<V: OptionValue>(
    _ name: String, aliases: [String] = [], _ path: WritableKeyPath<Root, V>, _ placeholder: String,
    _ help: String, completion: Completion? = nil
  ) -> Self {
    valued(
      names: [name] + aliases, key: keyName(name), placeholder, shape: .value,
      help: help + " (default \(Root()[keyPath: path].canonicalWord))",
      completion: completion ?? .words(V.completions), required: false,
      check: { _ in nil }, get: { $0[keyPath: path] }, put: { $0[keyPath: path] = $1 },
      isDefault: { $0[keyPath: path] == Root()[keyPath: path] })
  }

  /// `--hold SECONDS`: absent means nil.
  public static func value<V: OptionValue & Comparable>(
    _ name: String, aliases: [String] = [], _ path: WritableKeyPath<Root, V?>, _ placeholder: String,
    in range: ClosedRange<V>, _ help: String, completion: Completion? = nil
  ) -> Self {
    valued(
      names: [name] + aliases, key: keyName(name), placeholder, shape: .value,
      help: help + " (" + rangeText(range) + ")", completion: completion ?? .words(V.completions),
      required: false, check: rangeCheck(range), get: { $0[keyPath: path] },
      put: { $0[keyPath: path] = $1 }, isDefault: { $0[keyPath: path] == nil })
  }

  /// `--name VALUE`: absent means nil, no range.
  public static func value<V: OptionValue>(
    _ name: String, aliases: [String] = [], _ path: WritableKeyPath<Root, V?>, _ placeholder: String,
    _ help: String, completion: Completion? = nil
  ) -> Self {
    valued(
      names: [name] + aliases, key: keyName(name), placeholder, shape: .value, help: help,
      completion: completion ?? .words(V.completions), required: false, check: { _ in nil },
      get: { $0[keyPath: path] }, put: { $0[keyPath: path] = $1 }, isDefault: { $0[keyPath: path] == nil })
  }
}

// MARK: positionals

extension OptionDeclaration {
  /// `spawn [N]`: an optional positional with a default and a range.
  public static func positional<V: OptionValue & Comparable>(
    _ key: String, _ path: WritableKeyPath<Root, V>, _ placeholder: String, in range: ClosedRange<V>,
    _ help: String, completion: Completion? = nil
  ) -> Self {
    valued(
      names: [], key: key, placeholder, shape: .positional,
      help: help + " (" + rangeText(range) + ", default \(Root()[keyPath: path].canonicalWord))",
      completion: completion ?? .words(V.completions), required: false, check: rangeCheck(range),
      get: { $0[keyPath: path] }, put: { $0[keyPath: path] = $1 },
      isDefault: { $0[keyPath: path] == Root()[keyPath: path] })
  }

  /// A positional with a default and no range (`crash [KIND]`).
  public static func positional<V: OptionValue>(
    _ key: String, _ path: WritableKeyPath<Root, V>, _ placeholder: String, _ help: String,
    completion: Completion? = nil
  ) -> Self {
    valued(
      names: [], key: key, placeholder, shape: .positional,
      help: help + " (default \(Root()[keyPath: path].canonicalWord))",
      completion: completion ?? .words(V.completions), required: false, check: { _ in nil },
      get: { $0[keyPath: path] }, put: { $0[keyPath: path] = $1 },
      isDefault: { $0[keyPath: path] == Root()[keyPath: path] })
  }

  /// A positional that may be missing (nil); `required` makes leaving it out an error.
  public static func positional<V: OptionValue>(
    _ key: String, _ path: WritableKeyPath<Root, V?>, _ placeholder: String, required: Bool = false,
    _ help: String, completion: Completion? = nil
  ) -> Self {
    valued(
      names: [], key: key, placeholder, shape: .positional, help: help,
      completion: completion ?? .words(V.completions), required: required, check: { _ in nil },
      get: { $0[keyPath: path] }, put: { $0[keyPath: path] = $1 }, isDefault: { $0[keyPath: path] == nil })
  }

  /// A positional that may be missing, within a range (`kill PID`).
  public static func positional<V: OptionValue & Comparable>(
    _ key: String, _ path: WritableKeyPath<Root, V?>, _ placeholder: String, in range: ClosedRange<V>,
    required: Bool = false, _ help: String, completion: Completion? = nil
  ) -> Self {
    valued(
      names: [], key: key, placeholder, shape: .positional, help: help + " (" + rangeText(range) + ")",
      completion: completion ?? .words(V.completions), required: required, check: rangeCheck(range),
      get: { $0[keyPath: path] }, put: { $0[keyPath: path] = $1 }, isDefault: { $0[keyPath: path] == nil })
  }
}

// MARK: every remaining word

extension OptionDeclaration {
  /// `--exec PROGRAM ARGS…`: the option and every word after it, however they look.
  public static func rest(
    _ name: String, _ path: WritableKeyPath<Root, [String]?>, _ placeholder: String, _ help: String,
    completion: Completion = .files
  ) -> Self {
    Self(
      names: [name], key: keyName(name), placeholder: placeholder, shape: .rest, help: help,
      completion: completion,
      apply: { root, _, word, _ in
        var words = root[keyPath: path] ?? []
        if let word { words.append(word) }
        root[keyPath: path] = words
      },
      words: { root in root[keyPath: path].map { [name] + $0 } ?? [] },
      value: { root in root[keyPath: path].map { .array($0.map(JSON.string)) } ?? .null })
  }

  /// `observe PROGRAM ARGS…`: from the first positional word on, every word.
  public static func rest(
    _ key: String, _ path: WritableKeyPath<Root, [String]>, _ placeholder: String, required: Bool = false,
    _ help: String, completion: Completion = .files
  ) -> Self {
    Self(
      names: [], key: key, placeholder: placeholder, shape: .rest, help: help, completion: completion,
      isRequired: required,
      apply: { root, _, word, _ in if let word { root[keyPath: path].append(word) } },
      words: { $0[keyPath: path] }, value: { .array($0[keyPath: path].map(JSON.string)) })
  }
}

// MARK: building blocks

extension OptionDeclaration {
  /// `--no-reap` → `no_reap`: the key in the parsed form and in JSON.
  static func keyName(_ flag: String) -> String {
    String(flag.drop { $0 == "-" }.map { $0 == "-" ? "_" : $0 })
  }

  static func rangeText<V: OptionValue>(_ range: ClosedRange<V>) -> String {
    "\(range.lowerBound.canonicalWord)…\(range.upperBound.canonicalWord)"
  }

  static func rangeCheck<V: OptionValue & Comparable>(_ range: ClosedRange<V>) -> (V) -> String? {
    { value in
      guard !range.contains(value) else { return nil }
      let guess =
        V.nearest(to: value, fitting: range.contains).map { " (did you mean \($0.canonicalWord)?)" } ?? ""
      return "must be \(rangeText(range)), got \(value.canonicalWord)\(guess)"
    }
  }

  static func valued<V: OptionValue>(
    names: [String], key: String, _ placeholder: String, shape: Shape, help: String, completion: Completion,
    required: Bool, check: @escaping (V) -> String?, get: @escaping (Root) -> V?,
    put: @escaping (inout Root, V) -> Void, isDefault: @escaping (Root) -> Bool
  ) -> Self {
    Self(
      names: names, key: key, placeholder: placeholder, shape: shape, help: help, completion: completion,
      isRequired: required,
      apply: { root, flag, word, command in
        // A positional is named as the usage line shows it (`PID`), unless that is one letter (`N`: `count`).
        let what =
          names.isEmpty ? (placeholder.count > 1 ? placeholder : key.replacing("_", with: " ")) : flag
        guard let word else { throw UsageError("\(command): \(what) needs a value (\(what) \(placeholder))") }
        guard let v = V.parse(word) else {
          throw UsageError("\(command): \(V.refusal(of: word, for: what))")
        }
        if let problem = check(v) { throw UsageError("\(command): \(what) \(problem)") }
        put(&root, v)
      },
      words: { root in
        guard !isDefault(root), let v = get(root) else { return [] }
        return names.isEmpty ? [v.canonicalWord] : [names[0], v.canonicalWord]
      },
      value: { get($0)?.json ?? .null })
  }
}

/// How an option is written on the command line.
public enum OptionShape: Equatable, Sendable {
  /// `--lock`: present or not.
  case flag
  /// `--threads N`.
  case value
  /// `spawn N`: the value's place in the line says which it is.
  case positional
  /// `--exec PROGRAM ARGS…` or `observe PROGRAM ARGS…`: every word from here on.
  case rest
}
