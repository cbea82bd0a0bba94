/// The inter-process communication verbs, and the lab experiments they run in child processes.
public enum IPCArea {
  public static let commands: [Command] = [
    PipeCommand.command, SocketCommand.command, ShmCommand.command, SignalCommand.command,
    FifoCommand.command,
    MqCommand.command, IPCCompareCommand.command,
  ]
  /// Every IPC experiment forks a C child in CLab (clab_ipc.h): no lab entries needed.
  public static let labEntries: [LabEntry] = []
}
