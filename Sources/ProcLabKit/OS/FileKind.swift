import Glibc

/// What a path names, without following a symbolic link (lstat(2)): `record --force`
/// may replace a regular file, never a link, a device, a FIFO or a folder.
public enum FileKind: String, Sendable {
  case regular = "a regular file"
  case directory = "a folder"
  case symbolicLink = "a symbolic link"
  case characterDevice = "a character device"
  case blockDevice = "a block device"
  case fifo = "a FIFO (named pipe)"
  case socket = "a socket"
  case other = "a special file"

  /// The kind of `path`, or nil when nothing is there. The corresponding call is `lstat(2)`.
  public static func of(_ path: String) -> FileKind? {
    var st = stat()
    guard lstat(path, &st) == 0 else { return nil }
    switch st.st_mode & S_IFMT {
    case S_IFREG: return .regular
    case S_IFDIR: return .directory
    case S_IFLNK: return .symbolicLink
    case S_IFCHR: return .characterDevice
    case S_IFBLK: return .blockDevice
    case S_IFIFO: return .fifo
    case S_IFSOCK: return .socket
    default: return .other
    }
  }

  /// Whether the calling process may create files in `folder`. The corresponding call is `access(2)`.
  public static func canWrite(in folder: String) -> Bool { access(folder, W_OK) == 0 }

  /// Whether `path` is an existing folder (following links, as creating a file inside it would).
  public static func isFolder(_ path: String) -> Bool {
    var st = stat()
    return stat(path, &st) == 0 && st.st_mode & S_IFMT == S_IFDIR
  }
}
