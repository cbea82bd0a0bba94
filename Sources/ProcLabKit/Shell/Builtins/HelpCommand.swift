/// `help`: the commands by area in one screen; `help AREA` an area's commands with
/// what each does; `help COMMAND` one command's usage, options and examples.
enum HelpCommand {
  struct Options: CommandOptions {
    var subject: String?

    static var declarations: [OptionDeclaration<Self>] {
      [
        .positional(
          "subject", \.subject, "AREA|COMMAND", "an area (processes, threads, …) or a command",
          completion: .commands)
      ]
    }
  }

  static let command = Command(
    name: "help", aliases: ["?"], area: .shell,
    summary: "the commands by area; help AREA for an area, help COMMAND for one command",
    examples: ["help", "help threads", "help spawn"], options: Options.self
  ) { options, session in
    guard let subject = options.subject else { return overview(session.registry) }
    if let area = Command.Area.named(subject) {
      return areaHelp(area, registry: session.registry)
    }
    guard let c = session.registry.command(named: subject) else {
      let known = session.registry.allNames + Command.Area.allCases.map(\.rawValue)
      let hint = Registry.closest(to: subject, among: known).map { " — did you mean '\($0)'?" } ?? ""
      throw UsageError(
        "help: no command or area '\(Printable.word(subject))'\(hint); type 'help' for the list")
    }
    return commandHelp(c)
  }

  /// Every area on a line or two with its command names: fits a 24-row, 80-column terminal.
  static func overview(_ registry: Registry) -> Report {
    let r = Report()
    r.line("Commands by area (each does real work on this machine, then explains it):")
    let areas = Command.Area.allCases.filter { area in registry.commands.contains { $0.area == area } }
    let column = (areas.map(\.rawValue.count).max() ?? 0) + 4
    var listed: [JSON] = []
    var byArea = JSONObject()
    for area in areas {
      let names = registry.commands.filter { $0.area == area }.map(\.name)
      listed.append(contentsOf: names.map(JSON.string))
      byArea[area.rawValue] = .array(names.map(JSON.string))
      let wrapped = wrap(names, width: 80 - column)
      for (i, text) in wrapped.enumerated() {
        let label =
          i == 0
          ? "  " + Style.pad(Style.bold(area.rawValue), column - 2) : String(repeating: " ", count: column)
        r.line(label + text)
      }
    }
    r.line("'help AREA' says what an area's commands do; 'help COMMAND' shows one's options.")
    r.line("New here? 'lessons' lists the course. Tab completes names and options.")
    r.fact("commands", JSON.array(listed))
    r.fact("areas", JSON.object(byArea))
    return r
  }

  /// An area's commands, each with its one-line summary.
  static func areaHelp(_ area: Command.Area, registry: Registry) -> Report {
    let r = Report()
    let commands = registry.commands.filter { $0.area == area }
    r.line(Style.bold(area.title) + (area.title == area.rawValue ? "" : " (\(area.rawValue))"))
    var t = Table([])
    for c in commands { t.add([c.name, c.summary]) }
    r.table(t)
    r.line("Type 'help COMMAND' for a command's options and examples.")
    r.fact("area", area.rawValue)
    r.fact("commands", JSON.array(commands.map { .string($0.name) }))
    return r
  }

  /// One command: what it does, its usage line, its options with ranges and defaults, examples.
  static func commandHelp(_ c: Command) -> Report {
    let r = Report()
    let title =
      Style.bold(c.name) + (c.aliases.isEmpty ? "" : " (also: \(c.aliases.joined(separator: ", ")))") + " — "
    r.line(title + c.summary, continuation: String(repeating: " ", count: Style.width(title)))
    // A wrapped usage line goes on under the command's first option.
    let usageHead = "usage: \(c.usage.prefix { $0 != " " }) "
    r.line("usage: \(c.usage)", continuation: String(repeating: " ", count: Style.width(usageHead)))
    let rows = c.options.flatMap(\.rows)
    if !rows.isEmpty {
      r.line("options:")
      var t = Table([])
      for row in rows { t.add([row.label, row.help]) }
      r.table(t)
    }
    if !c.examples.isEmpty {
      r.line("examples:")
      r.lines(c.examples.map { "  " + $0 })
    }
    r.fact("command", c.name)
    r.fact("usage", c.usage)
    return r
  }

  /// `names` joined by ", " in lines of at most `width` characters.
  static func wrap(_ names: [String], width: Int) -> [String] {
    var lines: [String] = []
    var current = ""
    for (i, name) in names.enumerated() {
      let piece = name + (i < names.count - 1 ? "," : "")
      if !current.isEmpty && current.count + 1 + piece.count > width {
        lines.append(current)
        current = piece
      } else {
        current += (current.isEmpty ? "" : " ") + piece
      }
    }
    if !current.isEmpty { lines.append(current) }
    return lines
  }
}

extension Command.Area {
  /// The area a word names: its own name (`ipc`, `processes`) or a short form (`sync`).
  static func named(_ word: String) -> Command.Area? {
    let lowered = word.lowercased()
    if let area = Command.Area(rawValue: lowered) { return area }
    switch lowered {
    case "sync": return .synchronization
    case "process": return .processes
    case "measure", "measurements": return .measurement
    case "failures", "crashes": return .failure
    case "transcript": return .transcripts
    default: return nil
    }
  }
}
