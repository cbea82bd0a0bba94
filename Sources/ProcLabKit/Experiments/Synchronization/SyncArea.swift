/// The synchronization verbs, and the lab experiments they run in child processes.
public enum SyncArea {
  public static let commands: [Command] = [
    LockCommand.command, SemaphoreCommand.command, RWLockCommand.command, CondvarCommand.command,
    DeadlockCommand.command, BarrierCommand.command, CounterCommand.command, BugsCommand.command,
  ]
  public static let labEntries: [LabEntry] = [
    CondvarExperiment.entry, DeadlockExperiment.entry, BugsExperiment.entry,
  ]
}
