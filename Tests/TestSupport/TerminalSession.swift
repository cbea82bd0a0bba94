import Foundation
import Glibc
import ProcLabKit

/// The real proclab binary under a pseudo-terminal, driven like a person at a
/// keyboard: type keys, wait for text on the screen, read what appeared.
public final class TerminalSession {
  public let pid: Int32
  private let master: Int32
  public private(set) var screen = ""
  private var reaped: TerminationStatus?

  /// `columns`: the terminal's width (what the shell wraps its prose to); `color`: leave
  /// colour on, as at a person's terminal (tables' dim headings, cyan bars).
  public init(
    arguments: [String] = [], environment: [String: String] = [:], columns: Int = 100, color: Bool = false
  ) throws {
    var env = ProcessInfo.processInfo.environment
    env["TERM"] = "xterm"
    env["NO_COLOR"] = "1"
    if color { env.removeValue(forKey: "NO_COLOR") }
    env["INPUTRC"] = "/dev/null"
    env.removeValue(forKey: "PROCLAB_STRICT")
    env.removeValue(forKey: "COLUMNS")
    for (k, v) in environment { env[k] = v }
    (pid, master) = try PseudoTerminal.spawn(
      path: ProcLabBinary.path, arguments: ["proclab"] + arguments, environment: env, cols: columns)
  }

  deinit {
    if reaped == nil {
      kill(pid, SIGKILL)
      var status: Int32 = 0
      waitpid(pid, &status, 0)
    }
    close(master)
  }

  /// Types text (use "\t" for Tab, "\u{1B}[A" for Up, "\u{03}" for Ctrl-C, "\u{04}" for Ctrl-D).
  public func type(_ keys: String) {
    let bytes = Array(keys.utf8)
    _ = bytes.withUnsafeBytes { write(master, $0.baseAddress, $0.count) }
  }

  /// Reads until `text` appears after the current mark (or the timeout); true if it appeared.
  @discardableResult
  public func waitFor(_ text: String, after mark: String.Index? = nil, timeout: Double = 20) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
      let searchFrom = mark ?? screen.startIndex
      if screen[searchFrom...].contains(text) { return true }
      pump(0.05)
    }
    return screen[(mark ?? screen.startIndex)...].contains(text)
  }

  /// Where the screen text ends now: pass to `waitFor(after:)` to look only at newer output.
  public var mark: String.Index { screen.endIndex }

  /// Reads whatever the shell printed within `seconds`.
  @discardableResult
  public func pump(_ seconds: Double) -> Int {
    var entry = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
    if poll(&entry, 1, Int32(seconds * 1000)) > 0 {
      var buffer = [UInt8](repeating: 0, count: 4096)
      let n = buffer.withUnsafeMutableBytes { read(master, $0.baseAddress, 4096) }
      if n > 0 { screen += String(decoding: buffer[0..<n], as: UTF8.self) }
      return max(0, n)
    }
    return 0
  }

  /// Waits for the shell to exit and returns how it ended.
  public func waitForExit(timeout: Double = 20) -> TerminationStatus? {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
      pump(0.02)
      var status: Int32 = 0
      if waitpid(pid, &status, WNOHANG) == pid {
        reaped = TerminationStatus(waitStatus: status)
        // What it wrote just before exiting may still sit in the terminal's buffer.
        while pump(0.05) > 0 {}
        return reaped
      }
    }
    return nil
  }

  public var isAlive: Bool { reaped == nil && kill(pid, 0) == 0 }
}
