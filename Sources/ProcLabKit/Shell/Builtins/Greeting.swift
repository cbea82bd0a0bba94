/// What a person sees first at a terminal: what proclab is, where to begin, how to leave.
/// Not shown with `-c`, a pipe or a file (their output is their commands' alone).
public enum Greeting {
  public static func lines(version: String, color: Bool) -> [String] {
    let bold: (String) -> String = { color ? "\u{1B}[1m\($0)\u{1B}[0m" : $0 }
    let lines = [
      bold("proclab \(version)") + ": a shell for learning how processes, threads, IPC and locks work.",
      "Each command does the real thing on this machine, then explains what it saw.",
      "  " + bold("lessons") + "   the course, step by step ('lesson 1' starts the first)",
      "  " + bold("help") + "      the commands by area; 'help spawn' shows one command",
      "Leave with quit, exit or Ctrl-D; Ctrl-C stops a running command.",
    ]
    return TextWrap.wrap(lines, width: Layout.width)
  }
}
