/// Whether the command a learner typed is the one a step asks for, by meaning:
/// both are parsed with the command's own option declarations (`Command.parse`)
/// and compared as `ParsedCommand`s, so options may come in any order, defaults
/// count as typed (`race` is `race --iterations 10000000`), and every spelling
/// of a value is the same value (`kill 4121 SIGSTOP` is `kill 4121 STOP`).
///
/// The step's command may hold placeholders: references (`kill {{A}}`) are
/// filled in from the captures first; a free placeholder
/// (`cost --iterations {{n:int 10..100000}}`) accepts any value its kind and
/// range allow, and captures it; `<!-- free: --iterations -->` accepts any
/// value at all (or none).
///
/// A step whose command cannot be read that way (a placeholder whose option
/// cannot be told from two example values) has its words grouped by the option
/// names the command declares and compared without regard to order
/// (`byOptionWords`), or, failing that, matched against the pattern as text.
enum StepCommand {
  enum Fit: Equatable {
    /// The same command; the captures include what the command's placeholders took.
    case fits(Captures)
    /// Another verb.
    case otherCommand
    /// The same verb with other options; the reason says which (when known).
    case otherArguments(String?)
  }

  static func compare(
    _ typed: String, with step: LessonStep, captures: Captures, registry: Registry
  ) -> Fit {
    guard let typedWords = (try? WordSplitter.split(typed))?.first, let verb = typedWords.first else {
      return .otherCommand
    }
    let stepVerb = step.commandText.split(separator: " ").first.map(String.init) ?? ""
    let typedCommand = registry.command(named: verb)
    let stepCommand = registry.command(named: stepVerb)
    guard (typedCommand?.name ?? verb) == (stepCommand?.name ?? stepVerb) else { return .otherCommand }
    guard let command = stepCommand else { return byText(typed, step: step, captures: captures) }
    if let meaning = byMeaning(typedWords, step: step, command: command, captures: captures) {
      return meaning
    }
    return byOptionWords(typedWords, step: step, command: command, captures: captures)
      ?? byText(typed, step: step, captures: captures)
  }

  /// The text comparison (an unknown verb, or a step the parser cannot read with examples).
  static func byText(_ typed: String, step: LessonStep, captures: Captures) -> Fit {
    var trial = captures
    return step.command.matches(typed, captures: &trial) ? .fits(trial) : .otherArguments(nil)
  }

  /// For steps not comparable by meaning: options compared by name, in any order, each value matched
  /// against the step's word for it; an option the step gives as a free placeholder or lists
  /// in `free:` may be left out. Nil when the step's words cannot be grouped.
  static func byOptionWords(
    _ typedWords: [String], step: LessonStep, command: Command, captures: Captures
  ) -> Fit? {
    var stepWords: [(source: String, isFree: Bool)] = []
    for segment in step.command.pattern.segments {
      switch segment {
      case .spaces: stepWords.append(("", false))
      case .literal(let chars):
        let last = stepWords.popLast() ?? ("", false)
        stepWords.append((last.source + String(chars), last.isFree))
      case .placeholder(let p):
        let last = stepWords.popLast() ?? ("", false)
        var isFree = last.source.isEmpty
        if case .reference = p.role { isFree = false }
        stepWords.append((last.source + p.source, isFree))
      }
    }
    stepWords = stepWords.filter { !$0.source.isEmpty }
    guard let wanted = group(stepWords.dropFirst().map(\.source), command: command),
      let typed = group(Array(typedWords.dropFirst()), command: command)
    else { return nil }
    let free = Set(step.freeOptions.compactMap { key(of: $0, in: command) })
    var next = captures
    func take(_ patternText: String, _ value: String) -> Bool {
      guard let pattern = try? LinePattern(patternText, file: "", line: 0),
        case .success(let taken) = pattern.match(value, captures: next)
      else { return false }
      next = taken
      return true
    }
    guard wanted.positionals.count == typed.positionals.count else {
      return .otherArguments(nil)
    }
    for (p, t) in zip(wanted.positionals, typed.positionals) where !take(p, t) { return .otherArguments(nil) }
    for (key, value) in wanted.options {
      let name = option(of: key, in: command) ?? key
      guard let typedValue = typed.options[key] else {
        let leftOutAllowed =
          free.contains(key)
          || value.map { v in stepWords.contains { $0.source == v && $0.isFree } } ?? false
        if leftOutAllowed { continue }
        return .otherArguments("\(name) is missing")
      }
      if free.contains(key) { continue }
      if let value, let typedValue, !take(value, typedValue) {
        return .otherArguments("\(name) \(typedValue) is not what this step takes")
      }
    }
    if let extra = typed.options.keys.sorted().first(where: {
      wanted.options[$0] == nil && !free.contains($0)
    }) {
      return .otherArguments("\(option(of: extra, in: command) ?? extra) is not part of this step")
    }
    return .fits(next)
  }

  /// Words grouped by the command's declared options: positionals in order, options by key.
  static func group(_ words: [String], command: Command) -> (
    positionals: [String], options: [String: String?]
  )? {
    var positionals: [String] = []
    var options: [String: String?] = [:]
    var i = 0
    while i < words.count {
      let word = words[i]
      if word.hasPrefix("--"), let declared = command.options.first(where: { $0.names.contains(word) }) {
        switch declared.shape {
        case .value:
          guard i + 1 < words.count else { return nil }
          options[declared.key] = .some(words[i + 1])
          i += 2
          continue
        case .rest:
          options[declared.key] = .some(words[(i + 1)...].joined(separator: " "))
          i = words.count
          continue
        default:
          options[declared.key] = .some(nil)
        }
      } else if word.hasPrefix("--") {
        return nil
      } else {
        positionals.append(word)
      }
      i += 1
    }
    return (positionals, options)
  }

  /// Nil when the comparison by meaning does not apply (a step unreadable with example values).
  static func byMeaning(
    _ typedWords: [String], step: LessonStep, command: Command, captures: Captures
  ) -> Fit? {
    let free = step.command.placeholders.filter { if case .reference = $0.role { false } else { true } }
    let base = Array(repeating: 0, count: free.count)
    guard let first = stepForm(step, command: command, captures: captures, examples: base) else { return nil }
    // A placeholder's option is the one whose value changes with the placeholder's example value.
    var placeholderKeys: [String] = []
    for i in free.indices {
      var examples = base
      examples[i] = 1
      guard let other = stepForm(step, command: command, captures: captures, examples: examples) else {
        return nil
      }
      let changed = first.values.fields.map(\.key).filter { first.values[$0] != other.values[$0] }
      guard changed.count == 1 else { return nil }
      placeholderKeys.append(changed[0])
    }
    let typed: ParsedCommand
    do { typed = try command.parse(Array(typedWords.dropFirst())).parsed } catch let e as UsageError {
      return .otherArguments(e.message)
    } catch { return .otherArguments(nil) }
    let freeKeys = Set(step.freeOptions.compactMap { key(of: $0, in: command) })
    let ignored = freeKeys.union(placeholderKeys)
    guard typed.means(first, ignoring: ignored) else {
      return .otherArguments(difference(typed, first, ignoring: ignored, command: command))
    }
    // Each free placeholder takes the learner's value, if its kind and range allow it.
    var next = captures
    for (key, placeholder) in zip(placeholderKeys, free) {
      let value = text(of: typed.values[key] ?? .null)
      guard let pattern = try? LinePattern(placeholder.source, file: "", line: 0),
        case .success(let taken) = pattern.match(value, captures: next)
      else {
        let what = option(of: key, in: command) ?? key
        let range = placeholder.constraint.map { " " + $0.inWords } ?? ""
        return .otherArguments("this step takes any \(what)\(range); this one is \(value)")
      }
      next = taken
    }
    return .fits(next)
  }

  /// The step's command read by the command's own parser, with references filled in and
  /// each free placeholder replaced by an example value (`examples[i]` 0 or 1: two different ones).
  static func stepForm(
    _ step: LessonStep, command: Command, captures: Captures, examples: [Int]
  ) -> ParsedCommand? {
    // The line is rebuilt as text and split as the shell splits it, so a quoted word
    // (`race --schedule 't1:load t2:load'`) stays one word.
    var line = ""
    var freeIndex = 0
    for segment in step.command.pattern.segments {
      switch segment {
      case .literal(let chars): line += String(chars)
      case .spaces: line += " "
      case .placeholder(let p):
        let value: String
        if case .reference(let name) = p.role {
          guard let v = captures[name] else { return nil }
          value = WordSplitter.quote(v)
        } else {
          value = exampleValue(p, examples[freeIndex])
          freeIndex += 1
        }
        line += value
      }
    }
    guard let words = (try? WordSplitter.split(line))?.first, words.count >= 1 else { return nil }
    return try? command.parse(Array(words.dropFirst())).parsed
  }

  /// Two different values a placeholder accepts (for finding which option it stands for).
  static func exampleValue(_ p: Placeholder, _ example: Int) -> String {
    let kind = p.kind ?? .word
    switch kind {
    case .int, .pid, .tid, .float:
      let c = p.constraint
      var low = c?.lower ?? (c?.upper.map { $0 - 1 } ?? 1)
      if let c, !c.lowerInclusive { low += 1 }
      let x = example == 0 ? low : (c?.accepts(low + 1) ?? true ? low + 1 : low - 1)
      return x == x.rounded() ? String(Int(x)) : String(x)
    case .duration: return example == 0 ? "1ms" : "2ms"
    case .addr: return example == 0 ? "0x1000" : "0x2000"
    case .word, .text: return example == 0 ? "a" : "b"
    }
  }

  /// The key of an option name (`--iterations` → `iterations`), through the command's declarations.
  static func key(of name: String, in command: Command) -> String? {
    command.options.first { $0.names.contains(name) }?.key
  }

  static func option(of key: String, in command: Command) -> String? {
    command.options.first { $0.key == key }.map { $0.names.first ?? $0.placeholder ?? key }
  }

  /// What differs, for the learner: `--threads is 4 here, the step's is 2`.
  static func difference(
    _ typed: ParsedCommand, _ wanted: ParsedCommand, ignoring: Set<String>, command: Command
  ) -> String? {
    for field in wanted.values.fields
    where !ignoring.contains(field.key) && typed.values[field.key] != field.value {
      let (key, value) = (field.key, field.value)
      let name = option(of: key, in: command) ?? key
      let mine = typed.values[key] ?? .null
      func given(_ v: JSON) -> Bool { v != .null && v != .bool(false) }
      switch (given(mine), given(value)) {
      case (true, false):
        return mine == .bool(true)
          ? "you added \(name), which this step leaves out"
          : "you gave \(name) \(text(of: mine)); this step leaves it at its default"
      case (false, true):
        return value == .bool(true)
          ? "this step adds \(name), which yours leaves out"
          : "this step gives \(name) \(text(of: value)); yours leaves it out"
      default: return "\(name): yours is \(text(of: mine)), the step's is \(text(of: value))"
      }
    }
    return nil
  }

  /// A parsed value as the word a learner would type.
  static func text(of value: JSON) -> String {
    switch value {
    case .null: ""
    case .bool(let b): b ? "true" : "false"
    case .int(let i): String(i)
    case .double(let d): Units.plain(d)
    case .string(let s): s
    case .array(let items): items.map(text(of:)).joined(separator: " ")
    case .object: value.serialized
    }
  }
}
