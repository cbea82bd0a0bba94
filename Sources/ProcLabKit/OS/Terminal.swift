import CLab
import Glibc

/// Pseudo-terminals (forkpty(3)): a program run under one behaves exactly as at
/// a person's keyboard. The tests use this to type at the real shell.
public enum PseudoTerminal {
  /// forkpty(3) (openpty, fork, login_tty in the child) and execve(2): returns the child's PID
  /// and the master descriptor. The child's side runs in C (clab_spawn_in_pty): no Swift
  /// between fork and exec.
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

/// The terminal the shell talks to, if any.
public enum Terminal {
  /// isatty(3): whether `fd` is a terminal (glibc asks the kernel with ioctl(TCGETS)).
  public static func isTerminal(_ fd: Int32) -> Bool { isatty(fd) != 0 }

  /// Whether a person is at a terminal: standard input and output both are terminals.
  public static var isInteractive: Bool { isTerminal(0) && isTerminal(1) }

  /// The ANSI sequence that moves the cursor home and erases the screen (and, with
  /// `3J`, xterm's scroll-back): what `clear` and Ctrl-L print.
  public static let clearScreen = "\u{1B}[H\u{1B}[2J\u{1B}[3J"
}

extension Descriptors {
  /// open(2) with O_RDONLY|O_CLOEXEC: a file to read commands or data from.
  public static func openForReading(_ path: String) throws -> Int32 {
    try Trace.call("open", "\(path), O_RDONLY|O_CLOEXEC") { Glibc.open(path, O_RDONLY | O_CLOEXEC) }
  }
}
