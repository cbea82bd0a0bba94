import Glibc

/// Questions about paths and the few changes the shell makes to names (access, realpath,
/// readlink, rename), so code outside OS/ never calls them itself.
public enum FileSystem {
  /// access(2) with F_OK: whether `path` names something (a dangling symlink does not).
  public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

  /// access(2) with X_OK: whether this process may execute `path`.
  public static func isExecutable(_ path: String) -> Bool { access(path, X_OK) == 0 }

  /// access(2) with W_OK: whether this process may write `path` (for a directory: create in it).
  public static func isWritable(_ path: String) -> Bool { access(path, W_OK) == 0 }

  /// realpath(3): the absolute path with every symlink, `.` and `..` resolved; nil if it does not exist.
  public static func realPath(_ path: String) -> String? {
    guard let resolved = realpath(path, nil) else { return nil }
    defer { free(resolved) }
    return String(cString: resolved)
  }

  /// readlink(2): where a symbolic link points (for /proc/PID/exe, the program's path); nil if
  /// `path` is no symlink.
  public static func readLink(_ path: String) -> String? {
    var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX))
    let n = buffer.withUnsafeMutableBufferPointer { raw in
      raw.baseAddress!.withMemoryRebound(to: CChar.self, capacity: raw.count) {
        readlink(path, $0, raw.count)
      }
    }
    guard n > 0 else { return nil }
    return String(decoding: buffer[..<n], as: UTF8.self)
  }

  /// rename(2): gives `from` the name `to` in one step, replacing what `to` named (same file system).
  public static func rename(_ from: String, to: String) throws {
    try Trace.call("rename", "\(from), \(to)") { Glibc.rename(from, to) }
  }
}

extension ThisProcess {
  /// readlink(2) of /proc/self/exe: the path of the program this process runs.
  public static var executablePath: String? { FileSystem.readLink("/proc/self/exe") }
}
