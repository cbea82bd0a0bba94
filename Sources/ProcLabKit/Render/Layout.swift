import Synchronization

/// How wide the shell's output may be.
///
/// - At a terminal: its width now (`TerminalSize`, read before each output, so
///   a resize applies to the next command's output and to the prompt after it).
/// - Under a pipe or in a file: `COLUMNS` when it is set to a number; otherwise
///   nothing is wrapped (each paragraph stays one line, for the reader's own tools).
/// - In tests and in the library by default: nothing is wrapped, unless a width is set.
public enum Layout {
  /// -1: no wrapping; 0: the terminal (or COLUMNS); > 0: that many columns.
  private static let mode = Atomic<Int>(-1)

  /// Wrap to the terminal of standard output (the interactive shell and `-c`).
  public static func followTerminal() { mode.store(0, ordering: .relaxed) }
  /// A fixed width (tests), or nil for no wrapping.
  public static func setWidth(_ columns: Int?) {
    mode.store(columns.map { max(1, $0) } ?? -1, ordering: .relaxed)
  }

  /// The width to fit, in columns; nil when nothing should be wrapped.
  public static var width: Int? {
    let m = mode.load(ordering: .relaxed)
    if m > 0 { return max(minimum, m) }
    if m < 0 { return nil }
    if let columns = TerminalSize.columns(fd: 1) { return max(minimum, columns) }
    return TerminalSize.columnsVariable.map { max(minimum, $0) }
  }

  /// Below this, wrapping does more harm than good: a 10-column terminal gets 20-column lines.
  static let minimum = 20

  /// Replay: a command's output is matched at its natural width but shown fitted to the
  /// terminal, tables adapted as the shell adapts them. Set once (`showFitted`); then
  /// `Render.outcome` at the natural width also keeps the fitted text of what it rendered,
  /// and `Render.shown` hands that to whoever shows it.
  public static func showFitted(columns: Int?) { displayColumns.store(columns ?? -1, ordering: .relaxed) }
  private static let displayColumns = Atomic<Int>(-1)
  static var displayWidth: Int? {
    let c = displayColumns.load(ordering: .relaxed)
    return c > 0 ? max(minimum, c) : nil
  }
}
