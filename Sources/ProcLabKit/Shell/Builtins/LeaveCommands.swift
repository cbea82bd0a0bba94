/// `quit` and `exit`: leave the shell. What they end (held children, held threads)
/// is said by `Session.leave` on the way out, the same as for Ctrl-D.
enum QuitCommand {
  static func make(_ name: String) -> Command {
    Command(
      name: name, area: .shell, summary: "leave proclab: held children and threads are ended, progress kept",
      examples: [name]
    ) { session in
      // Only asks to leave: the loop then ends what the session holds and says so.
      session.wantsToQuit = true
      return Report()
    }
  }
  static let quit = make("quit")
  static let exit = make("exit")
}

/// `clear`: an empty screen (Ctrl-L does the same at the prompt).
enum ClearCommand {
  static let command = Command(
    name: "clear", area: .shell, summary: "clear the screen (also Ctrl-L)", examples: ["clear"]
  ) { session in
    let r = Report()
    // Only a terminal understands the sequence; a pipe, a file or --json gets nothing.
    // Written straight out (not as a line of output) so the prompt lands on the top row.
    let cleared = session.isInteractive && !session.settings.json
    if cleared { Output.out(Terminal.clearScreen) }
    r.fact("cleared", cleared)
    return r
  }
}
