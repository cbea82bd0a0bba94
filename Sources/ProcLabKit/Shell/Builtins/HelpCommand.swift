enum HelpCommand {
  static let command = Command(
    name: "help", aliases: ["?"], area: .shell, summary: "list commands, or show how to use one",
    usage: "help [COMMAND]", examples: ["help", "help spawn"], completion: .commands
  ) { args, session in
    try args.expectPositionals(atMost: 1)
    let r = Report()
    if let name = args.positional(0) {
      guard let c = session.registry.command(named: name) else {
        let hint = session.registry.suggestion(for: name).map { " — did you mean '\($0)'?" } ?? ""
        throw UsageError("help: no command '\(Printable.word(name))'\(hint)")
      }
      r.line(
        Style.bold(c.name) + (c.aliases.isEmpty ? "" : " (also: \(c.aliases.joined(separator: ", ")))")
          + " — \(c.summary)")
      r.line("usage: \(c.usage)")
      let rows = c.options.flatMap(\.rows)
      if !rows.isEmpty {
        r.line("options:")
        var t = Table([])
        for row in rows { t.add([row.label, row.help]) }
        r.lines(t.lines)
      }
      if !c.examples.isEmpty {
        r.line("examples:")
        r.lines(c.examples.map { "  " + $0 })
      }
      r.fact("command", c.name)
      r.fact("usage", c.usage)
      return r
    }
    var listed: [JSON] = []
    for area in Command.Area.allCases {
      let commands = session.registry.commands.filter { $0.area == area }
      if commands.isEmpty { continue }
      r.line(Style.bold(area.title))
      var t = Table([])
      for c in commands {
        t.add([c.name, c.summary])
        listed.append(.string(c.name))
      }
      r.lines(t.lines)
    }
    r.line("Type 'help COMMAND' for its options and examples; Tab completes names and options.")
    r.fact("commands", JSON.array(listed))
    return r
  }
}

enum ExplainCommand {
  static let command = Command(
    name: "explain", area: .shell, summary: "explain the last outcome in full, or a topic",
    usage: "explain [TOPIC]", examples: ["explain", "explain zombie"], completion: .words(Topics.names)
  ) { args, session in
    try args.expectPositionals(atMost: 1)
    let r = Report()
    if let topic = args.positional(0) {
      guard let text = Topics.text(for: topic) else {
        throw UsageError(
          "explain: no topic '\(Printable.word(topic))'; topics: \(Topics.names.joined(separator: ", "))"
        )
      }
      r.lines(text)
      r.fact("topic", topic.lowercased())
      return r
    }
    guard let last = session.lastOutcome else {
      r.line("Nothing to explain yet: run a command first (try 'info').")
      return r
    }
    let all = last.explanation.short + last.explanation.full
    if all.isEmpty {
      r.line("'\(last.command)' gave no explanation.")
    } else {
      r.line(Style.bold("About '\(last.input)':"))
      r.lines(all)
    }
    r.fact("about", last.input)
    return r
  }
}

enum HistoryCommand {
  static let command = Command(
    name: "history", area: .shell, summary: "show the commands typed in this session",
    usage: "history [N]", examples: ["history", "history 5"]
  ) { args, session in
    try args.expectPositionals(atMost: 1)
    let n = try args.positionalInt(0, named: "N", default: 20, in: 1...1000)
    let r = Report()
    let items = session.history.dropLast().suffix(n)
    let first = session.history.count - 1 - items.count
    for (i, line) in items.enumerated() {
      r.line(Style.pad(String(first + i + 1), 5, right: true) + "  " + line)
    }
    r.fact("history", Array(items))
    return r
  }
}

enum QuitCommand {
  static func make(_ name: String) -> Command {
    Command(
      name: name, area: .shell, summary: "leave proclab (held children and threads are ended)",
      usage: name
    ) { args, session in
      try args.expectPositionals(atMost: 0)
      session.wantsToQuit = true
      return Report()
    }
  }
  static let quit = make("quit")
  static let exit = make("exit")
}
