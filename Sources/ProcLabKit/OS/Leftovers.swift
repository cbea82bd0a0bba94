import Glibc

/// What a shell killed with SIGKILL leaves behind: it could not run its
/// cleanup, so files and directories it made for one command stay. Every such
/// name carries the PID of the shell that made it (`proclab-core-4121-a8Xk2q`);
/// at start, proclab removes those whose shell is no longer alive.
///
/// Each area that makes such things adds a line to `kinds` below: where they
/// are, how their names start (the PID and a `-` follow), and how to remove one.
public enum Leftovers {
  public struct Kind: Sendable {
    /// What it is, for the list `sweep` returns (`crash --core directory`).
    public let what: String
    /// The directory the names are in.
    public let directory: @Sendable () -> String
    /// How a name starts, before the PID: `proclab-core-`.
    public let prefix: String
    /// Removes one leftover, given its full path; false if it could not.
    public let remove: @Sendable (String) -> Bool

    public init(
      _ what: String, in directory: @escaping @Sendable () -> String, prefix: String,
      remove: @escaping @Sendable (String) -> Bool
    ) {
      self.what = what
      self.directory = directory
      self.prefix = prefix
      self.remove = remove
    }
  }

  /// The registry: one line per kind of thing a command makes and a dead shell may leave.
  public static let kinds: [Kind] = [
    // processes-failure
    Kind(
      "crash --core directory", in: { Environment.temporaryDirectory }, prefix: "proclab-core-",
      remove: removeDirectory),
    Kind(
      "crash --backtrace directory", in: { Environment.temporaryDirectory }, prefix: "proclab-backtrace-",
      remove: removeDirectory),
    Kind(
      "files directory", in: { Environment.temporaryDirectory }, prefix: "proclab-files-",
      remove: removeDirectory),
  ]

  /// Removes every registered leftover whose shell is dead; returns what it removed.
  @discardableResult
  public static func sweep(_ kinds: [Kind] = kinds) -> [String] {
    var removed: [String] = []
    for kind in kinds {
      let directory = kind.directory()
      for name in ProcFS.list(directory) ?? [] {
        guard let pid = ownerPID(of: name, prefix: kind.prefix), !isAlive(pid) else { continue }
        let path = "\(directory)/\(name)"
        if isOurs(path) && kind.remove(path) { removed.append("\(kind.what) \(path)") }
      }
    }
    return removed
  }

  /// `proclab-core-4121-a8Xk2q` → 4121.
  static func ownerPID(of name: String, prefix: String) -> Int32? {
    guard name.hasPrefix(prefix) else { return nil }
    let rest = name.dropFirst(prefix.count)
    guard let dash = rest.firstIndex(of: "-") else { return nil }
    return Int32(rest[..<dash]).flatMap { $0 > 0 ? $0 : nil }
  }

  /// kill(pid, 0): the process exists (EPERM means it exists but is not ours).
  /// A PID reused by another process counts as alive: its leftovers wait for a later start.
  static func isAlive(_ pid: Int32) -> Bool { kill(pid, 0) == 0 || errno == EPERM }

  /// lstat(2): owned by this user and not a symbolic link.
  static func isOurs(_ path: String) -> Bool {
    var st = stat()
    return lstat(path, &st) == 0 && st.st_uid == getuid() && (st.st_mode & S_IFMT) != S_IFLNK
  }

  /// unlink(2) each regular file in the directory, then rmdir(2) it (which fails,
  /// leaving it, if anything else is inside).
  public static func removeDirectory(_ path: String) -> Bool {
    for name in ProcFS.list(path) ?? [] {
      var st = stat()
      let entry = "\(path)/\(name)"
      if lstat(entry, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG { _ = unlink(entry) }
    }
    return rmdir(path) == 0
  }

  /// unlink(2) one file.
  public static func removeFile(_ path: String) -> Bool { unlink(path) == 0 }
}
