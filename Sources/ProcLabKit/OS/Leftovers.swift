import CLab
import Glibc

/// What a shell killed with SIGKILL can leave behind: it could not run its
/// cleanup, so names it made for one command outlive it — directories in
/// TMPDIR, shared-memory objects, POSIX message queues (which stay until
/// reboot). Every such name starts with a known prefix and the PID of the shell
/// that made it (`proclab-mq-4312-…`, `proclab-core-4121-a8Xk2q`), in this user's own
/// directory under TMPDIR (`temporaryDirectory`), so the next
/// shell to start can tell whose it is and remove what belongs to a shell that
/// no longer runs.
///
/// A new kind of leftover is one more line in `kinds`.
public enum Leftovers {
  public struct Kind: Sendable {
    /// What it is, in the learner's words (`POSIX message queue`).
    public let what: String
    /// The directory the names are listed in.
    public let directory: @Sendable () -> String
    /// How a name starts, before the PID and a dash: `proclab-core-`.
    public let prefix: String
    /// Removes one leftover, given its full path; true when it is gone.
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
    Kind(
      "crash --core directory", in: { sweptDirectory ?? "" }, prefix: "proclab-core-", remove: removeDirectory
    ),
    Kind(
      "crash --backtrace directory", in: { sweptDirectory ?? "" }, prefix: "proclab-backtrace-",
      remove: removeDirectory),
    Kind("files directory", in: { sweptDirectory ?? "" }, prefix: "proclab-files-", remove: removeDirectory),
    Kind(
      "FIFO directory", in: { sweptDirectory ?? "" }, prefix: "proclab-fifo-", remove: removeFIFODirectory),
    Kind("shared-memory object", in: { "/dev/shm" }, prefix: "proclab-shm-") {
      shm_unlink("/" + baseName($0)) == 0 || errno == ENOENT
    },
    // /dev/mqueue is not always mounted, so each queue has a claim file of its
    // name in TMPDIR, made before mq_open and removed after mq_unlink.
    Kind("POSIX message queue", in: { sweptDirectory ?? "" }, prefix: "proclab-mq-") {
      _ = mq_unlink("/" + baseName($0))
      return unlink($0) == 0 || errno == ENOENT
    },
  ]

  /// Where proclab puts what it makes for one command: `$TMPDIR/proclab-UID`, a directory of
  /// this user's alone (mode 0700), made on first use. A start then lists that directory, not
  /// all of a shared /tmp (7,000 entries on a build machine cost 2.7 ms of every start: the
  /// kernel's getdents). If another user holds the name, or it is not a private directory,
  /// TMPDIR itself is used, as before.
  public static var temporaryDirectory: String {
    var st = stat()
    // lstat(2), then mkdir(2) mode 0700 when it is not there (EEXIST: another shell just made it).
    if lstat(ownPath, &st) != 0 && errno == ENOENT { _ = mkdir(ownPath, 0o700) }
    return sweptDirectory ?? Environment.temporaryDirectory
  }

  /// Where a sweep looks: the private directory if it exists, TMPDIR when the name is taken by
  /// something that is not ours (then leftovers went to TMPDIR), nil when nothing was made yet.
  static var sweptDirectory: String? {
    var st = stat()
    guard lstat(ownPath, &st) == 0 else { return nil }
    return isPrivate(st) ? ownPath : Environment.temporaryDirectory
  }

  static var ownPath: String { "\(Environment.temporaryDirectory)/proclab-\(getuid())" }

  /// A directory (not a symbolic link), owned by this user, that nobody else may enter.
  static func isPrivate(_ st: stat) -> Bool {
    (st.st_mode & S_IFMT) == S_IFDIR && st.st_uid == getuid() && (st.st_mode & 0o077) == 0
  }

  /// Removes everything whose shell is gone (kill(pid, 0) fails with ESRCH);
  /// returns one line per thing removed.
  @discardableResult
  public static func sweep(_ kinds: [Kind] = kinds) -> [String] {
    let start = MonotonicClock.nanoseconds()
    var removed: [String] = []
    var listings = Listings()
    for kind in kinds {
      for (path, pid) in listed(kind, in: &listings) where !isAlive(pid) && isOurs(path) {
        if kind.remove(path) { removed.append("\(kind.what) \(path) of shell \(pid), which no longer runs") }
      }
    }
    Trace.record(
      "sweep", "leftovers of shells that no longer run", result: "\(removed.count) removed", since: start)
    return removed
  }

  /// What carries `pid` in its name right now (one line each): after a command,
  /// the shell's own should be none.
  public static func owned(by pid: Int32) -> [String] {
    var listings = Listings()
    return kinds.flatMap { kind in
      listed(kind, in: &listings).filter { $0.pid == pid }.map { "\(kind.what) \($0.path)" }
    }
  }

  /// Each directory read once per sweep: several kinds live in TMPDIR, which may hold
  /// thousands of entries, and this runs at every start and after every strict command.
  struct Listings {
    var byDirectory: [String: [String]] = [:]
    mutating func names(in directory: String) -> [String] {
      if let names = byDirectory[directory] { return names }
      let names = ProcFS.list(directory, prefix: "proclab-") ?? []
      byDirectory[directory] = names
      return names
    }
  }

  /// The PID after the prefix: `proclab-fifo-1234-x8Ab` → 1234.
  public static func owner(of name: String, prefix: String) -> Int32? {
    guard name.hasPrefix(prefix) else { return nil }
    let digits = name.dropFirst(prefix.count).prefix { $0.isNumber }
    guard !digits.isEmpty, name.dropFirst(prefix.count + digits.count).first == "-" else { return nil }
    return Int32(digits).flatMap { $0 > 0 ? $0 : nil }
  }

  static func listed(_ kind: Kind, in listings: inout Listings) -> [(path: String, pid: Int32)] {
    let dir = kind.directory()
    guard !dir.isEmpty else { return [] }
    return listings.names(in: dir).compactMap { name in
      owner(of: name, prefix: kind.prefix).map { ("\(dir)/\(name)", $0) }
    }
  }

  /// kill(pid, 0): the process exists (EPERM means it exists but is not ours).
  /// A PID reused by another process counts as alive: its leftovers wait for a later start.
  static func isAlive(_ pid: Int32) -> Bool { kill(pid, 0) == 0 || errno == EPERM }

  /// lstat(2): owned by this user and not a symbolic link.
  static func isOurs(_ path: String) -> Bool {
    var st = stat()
    return lstat(path, &st) == 0 && st.st_uid == getuid() && (st.st_mode & S_IFMT) != S_IFLNK
  }

  static func baseName(_ path: String) -> String {
    path.split(separator: "/").last.map(String.init) ?? path
  }

  /// unlink(2) each regular file in the directory, then rmdir(2) it (which fails,
  /// leaving it, if anything else is inside).
  public static func removeDirectory(_ path: String) -> Bool {
    removeEntries(of: path, types: [S_IFREG])
  }

  /// The same for a FIFO directory: its entries are FIFOs.
  static func removeFIFODirectory(_ path: String) -> Bool {
    removeEntries(of: path, types: [S_IFREG, S_IFIFO])
  }

  static func removeEntries(of path: String, types: [mode_t]) -> Bool {
    for name in ProcFS.list(path) ?? [] {
      var st = stat()
      let entry = "\(path)/\(name)"
      if lstat(entry, &st) == 0 && types.contains(st.st_mode & S_IFMT) { _ = unlink(entry) }
    }
    return rmdir(path) == 0 || errno == ENOENT
  }

  /// unlink(2) one file.
  public static func removeFile(_ path: String) -> Bool { unlink(path) == 0 }
}
