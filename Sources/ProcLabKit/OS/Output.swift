import Glibc

/// Writing to the terminal or pipe with write(2) directly: no stdio buffers,
/// so output is never duplicated or lost around fork and never interleaves oddly.
public enum Output {
  /// write(2) to standard output, every byte.
  public static func out(_ text: String) { write(1, text) }
  /// write(2) to standard error, every byte.
  public static func err(_ text: String) { write(2, text) }

  static func write(_ fd: Int32, _ text: String) { _ = writeEvery(fd, Array(text.utf8)) }

  /// write(2) until every byte is out, retrying EINTR even after Ctrl-C (the text
  /// saying what was interrupted must not be lost). False when the reader is gone
  /// (EPIPE: SIGPIPE is ignored) or the descriptor fails: there is nowhere left to say so.
  static func writeEvery(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
    var offset = 0
    while offset < bytes.count {
      let written = try? systemCall("write", onInterrupt: .retry) {
        bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, bytes.count - offset) }
      }
      guard let written, written > 0 else { return false }
      offset += written
    }
    return true
  }
}
