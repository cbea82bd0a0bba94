/// Your own programs: `observe`, and the exercises checked by observing them.
public enum ObserveArea {
  public static let commands: [Command] = [
    ObserveCommand.command, ExerciseCommands.list, ExerciseCommands.start, ExerciseCommands.verify,
  ]
  public static let labEntries: [LabEntry] = [ObserveLab.entry, KernelTraceLab.entry]
}
