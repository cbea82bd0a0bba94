import Glibc

/// Single keys from a terminal, for replay's classroom controls (space, q, b, s):
/// the terminal is put in non-canonical mode without echo, so a key arrives as it
/// is pressed, while Ctrl-C still raises SIGINT (ISIG stays on). From a pipe, each
/// byte is a key. The terminal's settings are restored by `restore()`.
public final class KeyboardInput {
  public enum Key: Equatable, Sendable {
    case character(Character)
    case enter
    /// End of input (a pipe that closed, Ctrl-D).
    case end
  }

  public let fd: Int32
  public let isTerminal: Bool
  private var saved: termios?
  private var pending: [UInt8] = []
  private var atEnd = false

  public init(fd: Int32 = 0) {
    self.fd = fd
    isTerminal = isatty(fd) != 0
    guard isTerminal else { return }
    var t = termios()
    // The corresponding calls are tcgetattr(3) and tcsetattr(3).
    guard tcgetattr(fd, &t) == 0 else { return }
    saved = t
    t.c_lflag &= ~tcflag_t(ICANON | ECHO)
    withUnsafeMutableBytes(of: &t.c_cc) { cc in
      cc[Int(VMIN)] = 1
      cc[Int(VTIME)] = 0
    }
    if tcsetattr(fd, TCSANOW, &t) != 0 { saved = nil }
  }

  deinit { restore() }

  /// Puts the terminal back as it was.
  public func restore() {
    guard var t = saved else { return }
    _ = tcsetattr(fd, TCSANOW, &t)
    saved = nil
  }

  /// The next key within `timeout` (nil: wait as long as it takes); nil on timeout or
  /// when a signal (Ctrl-C) interrupted the wait.
  public func key(timeout: Duration?) -> Key? {
    if let k = takePending() { return k }
    if atEnd { return .end }
    let deadline = timeout.map { MonotonicClock.nanoseconds() + UInt64(max(0, $0.nanoseconds)) }
    while true {
      let left: Duration
      if let deadline {
        let now = MonotonicClock.nanoseconds()
        if now >= deadline { return nil }
        left = .nanoseconds(Int64(deadline - now))
      } else {
        left = .milliseconds(200)
      }
      if Descriptors.readable([fd], timeout: min(left, .milliseconds(200))).contains(fd) {
        guard let bytes = Descriptors.readSome(fd, max: 64) else {
          atEnd = true
          return .end
        }
        if bytes.isEmpty { return nil }  // a signal came
        pending += bytes
        if let k = takePending() { return k }
      }
      if Interrupt.isRequested || Interrupt.terminationSignal != 0 { return nil }
    }
  }

  private func takePending() -> Key? {
    guard let first = pending.first else { return nil }
    if first == 10 || first == 13 {
      pending.removeFirst()
      return .enter
    }
    if first == 4 && isTerminal {
      pending.removeFirst()
      return .end
    }
    // One UTF-8 character (arrow keys and other escape sequences come as several keys; they mean nothing here).
    let length = first < 0x80 ? 1 : first >= 0xF0 ? 4 : first >= 0xE0 ? 3 : 2
    guard pending.count >= length else {
      pending.removeFirst()
      return nil
    }
    let bytes = Array(pending.prefix(length))
    pending.removeFirst(length)
    return .character(String(decoding: bytes, as: UTF8.self).first ?? " ")
  }
}
