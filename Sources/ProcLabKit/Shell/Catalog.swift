/// Every command and every lab experiment, gathered from each area.
/// An area adds its verbs by listing them in its own `…Area.commands`.
public enum Catalog {
  public static let commands: [Command] =
    ShellCommands.all + ProcessArea.commands + ThreadArea.commands + SyncArea.commands + IPCArea.commands
    + FailureArea.commands + MeasurementArea.commands + ObserveArea.commands + TranscriptArea.commands + LessonArea.commands

  public static let registry = Registry(commands)

  /// Experiments that run inside lab children (`proclab __lab NAME`).
  public static let labEntries: [LabEntry] =
    ShellCommands.labEntries + ProcessArea.labEntries + ThreadArea.labEntries + SyncArea.labEntries
    + IPCArea.labEntries + FailureArea.labEntries + MeasurementArea.labEntries + ObserveArea.labEntries
}
