/// The shell's own verbs: help, explain, set, history, info, trace, clear, quit, exit.
public enum ShellCommands {
  public static let all: [Command] = [
    HelpCommand.command, ExplainCommand.command, SetCommand.command, HistoryCommand.command,
    InfoCommand.command, TraceCommand.command, ClearCommand.command, QuitCommand.quit, QuitCommand.exit,
  ]
  /// A lab experiment that only proves lab mode works: sleeps, crashes or answers.
  public static let labEntries: [LabEntry] = [LabProbe.entry, AtomicWriteProbe.entry]
}
