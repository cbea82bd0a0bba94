import Glibc

/// Writing to the terminal or pipe with write(2) directly: no stdio buffers,
/// so output is never duplicated or lost around fork and never interleaves oddly.
public enum Output {
  public static func out(_ text: String) { write(1, text) }
  public static func err(_ text: String) { write(2, text) }

  static func write(_ fd: Int32, _ text: String) {
    let bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
      let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, bytes.count - offset) }
      if n < 0 && errno == EINTR { continue }
      if n <= 0 { return }
      offset += n
    }
  }
}
