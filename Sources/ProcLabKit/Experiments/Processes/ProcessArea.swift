/// The processes verbs, and the lab experiments they run in child processes.
public enum ProcessArea {
  public static let commands: [Command] = []
  public static let labEntries: [LabEntry] = []
}
