/// The measurement verbs, and the lab experiments they run in child processes.
public enum MeasurementArea {
  public static let commands: [Command] = [CostCommand.command, SwitchCommand.command]
  public static let labEntries: [LabEntry] = []
}
