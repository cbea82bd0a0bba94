/// The threads verbs, and the lab experiments they run in child processes.
public enum ThreadArea {
  public static let commands: [Command] = [
    ThreadCommand.command, RaceCommand.command, ParallelCommand.command, IOCommand.command,
  ]
  public static let labEntries: [LabEntry] = [ThreadForkExperiment.entry]
}
