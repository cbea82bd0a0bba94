/// `history`: the lines typed in this session, numbered, with control characters
/// shown escaped (a pasted ESC or bidi override is echoed as `\x1b`, never obeyed).
enum HistoryCommand {
  struct Options: CommandOptions {
    var count = 20

    static var declarations: [OptionDeclaration<Self>] {
      [.positional("count", \.count, "N", in: 1...1000, "how many of the latest lines to show")]
    }
  }

  static let command = Command(
    name: "history", area: .shell, summary: "show the commands typed in this session",
    examples: ["history", "history 5"], options: Options.self
  ) { options, session in
    let r = Report()
    // The last entry is this `history` line itself.
    let items = session.history.dropLast().suffix(options.count)
    let first = session.history.count - 1 - items.count
    if items.isEmpty { r.line("No earlier commands in this session.") }
    for (i, line) in items.enumerated() {
      r.line(Style.pad(String(first + i + 1), 5, right: true) + "  " + Printable.line(line))
    }
    r.fact("history", Array(items))
    return r
  }
}
