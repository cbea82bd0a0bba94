/// The failure verbs, and the lab experiments they run in child processes.
public enum FailureArea {
  public static let commands: [Command] = []
  public static let labEntries: [LabEntry] = []
}
