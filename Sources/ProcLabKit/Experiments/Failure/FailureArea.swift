/// The failure verbs, and the lab experiments they run in child processes.
public enum FailureArea {
  public static let commands: [Command] = [CrashCommand.command]
  public static let labEntries: [LabEntry] = [CrashLab.entry, CrashLab.sibling]
}
