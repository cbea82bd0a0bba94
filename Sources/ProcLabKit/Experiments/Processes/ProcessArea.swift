/// The processes verbs, and the lab experiments they run in child processes.
public enum ProcessArea {
  public static let commands: [Command] = [
    SpawnCommand.command, PsCommand.command, WaitCommand.command, KillCommand.command, MemoryCommand.command,
    FilesCommand.command, OrphanCommand.command,
  ]
  public static let labEntries: [LabEntry] = [
    ProcessLabEntries.child, ProcessLabEntries.descriptors, ProcessLabEntries.orphan,
  ]
}
