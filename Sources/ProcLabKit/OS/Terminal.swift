import CLab
import Glibc

/// Pseudo-terminals (forkpty(3)): a program run under one behaves exactly as at
/// a person's keyboard. The tests use this to type at the real shell.
public enum PseudoTerminal {
  /// forkpty + execve: returns the child's PID and the master descriptor.
  public static func spawn(
    path: String, arguments: [String], environment: [String: String], rows: Int = 24, cols: Int = 100
  )
    throws -> (pid: Int32, master: Int32)
  {
    let argv = arguments.map { strdup($0) } + [nil]
    let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer {
      argv.forEach { free($0) }
      envp.forEach { free($0) }
    }
    var master: Int32 = -1
    let pid = try Trace.call("forkpty", path) {
      clab_spawn_in_pty(path, argv, envp, Int32(rows), Int32(cols), &master)
    }
    return (pid, master)
  }
}
