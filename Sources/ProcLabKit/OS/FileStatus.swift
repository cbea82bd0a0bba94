import Glibc

extension FileSystem {
  /// access(path, X_OK) and stat(2): an executable that is not a directory, as execve would take it.
  public static func isExecutableFile(_ path: String) -> Bool {
    guard isExecutable(path) else { return false }
    var st = stat()
    return stat(path, &st) == 0 && (st.st_mode & S_IFMT) != S_IFDIR
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
