import Glibc

/// Questions about files that one system call answers.
public enum Files {
  /// access(path, X_OK) and stat(2): an executable that is not a directory, as execve would take it.
  public static func isExecutableFile(_ path: String) -> Bool {
    guard access(path, X_OK) == 0 else { return false }
    var st = stat()
    return stat(path, &st) == 0 && (st.st_mode & S_IFMT) != S_IFDIR
  }

  /// readlink(2): where a symbolic link points (`/proc/self/exe` → the running binary).
  public static func linkTarget(_ path: String) -> String? {
    var buffer = [CChar](repeating: 0, count: 4096)
    let n = readlink(path, &buffer, buffer.count - 1)
    guard n > 0 else { return nil }
    return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }
}

/// The offset of an open file description (lseek(2)): where the next read or
/// write through any descriptor that refers to it happens.
public enum FileOffset {
  /// lseek(fd, 0, SEEK_CUR): the current offset.
  public static func current(_ fd: Int32) throws -> Int {
    Int(try Trace.call("lseek", "\(fd), 0, SEEK_CUR") { lseek(fd, 0, SEEK_CUR) })
  }
}
