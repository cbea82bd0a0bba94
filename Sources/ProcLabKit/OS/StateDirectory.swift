import Foundation
import Glibc

/// Where proclab keeps what lasts between runs (history, lesson progress),
/// and how it writes there (open, write, fsync, rename):
/// `$XDG_STATE_HOME/proclab`, or `~/.local/state/proclab`.
public enum StateDirectory {
  public static var path: String {
    let env = ProcessInfo.processInfo.environment
    if let xdg = env["XDG_STATE_HOME"], xdg.hasPrefix("/") { return xdg + "/proclab" }
    let home = env["HOME"] ?? NSHomeDirectory()
    return home + "/.local/state/proclab"
  }

  /// Creates the directory (and its parents) if needed; false if it cannot be written.
  public static func ensure() -> Bool {
    do {
      try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    } catch { return false }
    return access(path, W_OK) == 0
  }

  /// Writes a file atomically: a temporary file in the same directory, fsync, then rename(2),
  /// so a crash mid-write leaves the previous file whole.
  public static func writeAtomically(_ text: String, to path: String) throws {
    let tmp = path + ".tmp.\(getpid())"
    let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    if fd < 0 { throw SystemError("open") }
    let bytes = Array(text.utf8)
    do { try Descriptors.writeAll(fd, bytes) } catch {
      close(fd)
      unlink(tmp)
      throw error
    }
    fsync(fd)
    close(fd)
    if rename(tmp, path) != 0 {
      let e = SystemError("rename")
      unlink(tmp)
      throw e
    }
  }
}
