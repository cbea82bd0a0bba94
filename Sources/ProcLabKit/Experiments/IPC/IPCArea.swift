/// The inter-process communication verbs, and the lab experiments they run in child processes.
public enum IPCArea {
  public static let commands: [Command] = []
  public static let labEntries: [LabEntry] = []
}
