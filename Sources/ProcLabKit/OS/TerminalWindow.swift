import Glibc

/// The size of the terminal window behind a descriptor (an asciicast records it
/// so a player draws the session at the size it was shown).
public enum TerminalWindow {
  /// Columns and rows, or nil when `fd` is not a terminal.
  /// The corresponding call is `ioctl(fd, TIOCGWINSZ)`.
  public static func size(fd: Int32) -> (columns: Int, rows: Int)? {
    guard isatty(fd) != 0 else { return nil }
    var size = winsize()
    guard (try? systemCall("ioctl(TIOCGWINSZ)", { ioctl(fd, UInt(TIOCGWINSZ), &size) })) != nil,
      size.ws_col > 0, size.ws_row > 0
    else { return nil }
    return (Int(size.ws_col), Int(size.ws_row))
  }
}
