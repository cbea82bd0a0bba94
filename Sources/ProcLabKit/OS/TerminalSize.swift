import Glibc

/// The size of the terminal a descriptor writes to.
public enum TerminalSize {
  /// Columns of the terminal behind `fd`, or nil when it is not a terminal.
  /// The corresponding call is `ioctl(fd, TIOCGWINSZ)`: the kernel's record of
  /// the window size, which the terminal emulator updates on every resize and
  /// which readline reads for its own idea of the width.
  public static func columns(fd: Int32) -> Int? {
    guard Terminal.isTerminal(fd) else { return nil }
    var size = winsize()
    guard (try? systemCall("ioctl(TIOCGWINSZ)", { ioctl(fd, UInt(TIOCGWINSZ), &size) })) != nil else {
      return nil
    }
    return size.ws_col > 0 ? Int(size.ws_col) : nil
  }

  /// `COLUMNS` from the environment, when it is a positive whole number
  /// (shells set it for themselves but rarely export it).
  public static var columnsVariable: Int? {
    guard let text = Environment.value("COLUMNS"), let n = Int(text), n > 0 else { return nil }
    return n
  }
}
