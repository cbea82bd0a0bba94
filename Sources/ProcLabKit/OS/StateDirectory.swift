import Glibc

/// Where proclab keeps what lasts between runs (history, lesson progress),
/// and how it writes there (open, write, fsync, rename):
/// `$XDG_STATE_HOME/proclab`, or `~/.local/state/proclab`.
///
/// One policy for every state file (`progress.json`, `history`):
/// - it is read and written only if it is a regular file: a symbolic link, a FIFO
///   or a directory in its place is left alone (never followed, never replaced),
///   and the shell says once that the file is not used this session;
/// - changes are merged under an exclusive `flock(2)` on `FILE.lock`, so two
///   shells at once keep each other's progress and history;
/// - it is replaced atomically (temporary file, fsync, rename), and temporary
///   files a killed shell left behind are swept at the next start;
/// - an unreadable file is set aside under a name no other set-aside file has.
public enum StateDirectory {
  public static var path: String {
    if let xdg = Environment.value("XDG_STATE_HOME"), xdg.hasPrefix("/") { return xdg + "/proclab" }
    let home = Environment.value("HOME") ?? Paths.homeDirectory(environment: [:])
    return home + "/.local/state/proclab"
  }

  /// Creates the directory (and its parents) if needed; false if it cannot be written.
  public static func ensure() -> Bool { ensure(directory: path) }

  /// Creates `directory` (and its parents) if needed; false if it cannot be written (access(2)).
  public static func ensure(directory: String) -> Bool {
    Paths.makeDirectories(directory) && access(directory, W_OK) == 0
  }

  /// Writes a file atomically: a temporary file in the same directory, fsync, then rename(2),
  /// so a crash mid-write leaves the previous file whole.
  public static func writeAtomically(_ text: String, to path: String) throws {
    let tmp = path + ".tmp.\(getpid())"
    let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o644)
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

/// Why a state file was not used.
public enum StateFileProblem: Error, Equatable, CustomStringConvertible {
  /// A symbolic link (or another non-regular file) stands where the file should be.
  case notRegularFile(String)
  case tooLarge(String)
  case system(SystemError)

  public var description: String {
    switch self {
    case .notRegularFile(let path):
      "\(path) is not a regular file (a symbolic link?); proclab does not follow or replace it, so it is not used this session"
    case .tooLarge(let path): "\(path) is larger than \(StateFile.maximumSize / 1_048_576) MiB"
    case .system(let e): e.description
    }
  }
}

/// One file in the state directory, handled by the policy above.
public enum StateFile {
  static let maximumSize = 16 * 1_048_576

  /// The file's bytes, or nil when there is none. Opened with O_NOFOLLOW (a symbolic link
  /// fails with ELOOP) and O_NONBLOCK (a FIFO does not hang the shell), then checked with fstat(2).
  public static func read(_ path: String) throws(StateFileProblem) -> [UInt8]? {
    let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
    if fd < 0 {
      let err = errno
      if err == ENOENT { return nil }
      if err == ELOOP { throw .notRegularFile(path) }
      throw .system(SystemError("open", errno: err))
    }
    defer { close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0 else { throw .system(SystemError("fstat")) }
    guard (st.st_mode & S_IFMT) == S_IFREG else { throw .notRegularFile(path) }
    guard Int(st.st_size) <= maximumSize else { throw .tooLarge(path) }
    var bytes: [UInt8] = []
    while true {
      let chunk: [UInt8]
      do { chunk = try Descriptors.read(fd) } catch let e as SystemError { throw .system(e) } catch {
        throw .system(SystemError("read", errno: EIO))
      }
      if chunk.isEmpty { break }
      bytes += chunk
      if bytes.count > maximumSize { throw .tooLarge(path) }
    }
    return bytes
  }

  /// Whether something other than a regular file stands at `path` (lstat(2)); false when nothing does.
  public static func isOccupiedByNonRegularFile(_ path: String) -> Bool {
    var st = stat()
    guard lstat(path, &st) == 0 else { return false }
    return (st.st_mode & S_IFMT) != S_IFREG
  }

  /// Replaces the file atomically, unless a link or other non-regular file stands there.
  public static func write(_ text: String, to path: String) throws(StateFileProblem) {
    if isOccupiedByNonRegularFile(path) { throw .notRegularFile(path) }
    do { try StateDirectory.writeAtomically(text, to: path) } catch let e as SystemError {
      throw .system(e)
    } catch {
      throw .system(SystemError("write", errno: EIO))
    }
  }

  /// Runs `body` holding an exclusive flock(2) on `PATH.lock` (created if needed), so that a
  /// read-modify-write of the file by another shell waits for this one to finish.
  public static func withLock<T>(_ path: String, _ body: () throws -> T) throws -> T {
    let lockPath = path + ".lock"
    let fd = try systemCall("open") { open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600) }
    defer { close(fd) }
    try systemCall("flock") { flock(fd, LOCK_EX) }
    defer { flock(fd, LOCK_UN) }
    return try body()
  }

  /// Moves an unreadable file aside as `PATH.corrupt-EPOCH` (then `-2`, `-3`…): link(2) never
  /// replaces an existing name, so a second set-aside in the same second keeps the first.
  /// Returns the new name, or nil if it could not be moved.
  public static func setAside(_ path: String, now: Int = WallClock.secondsSinceEpoch) -> String? {
    for attempt in 1...100 {
      let aside = path + ".corrupt-\(now)" + (attempt == 1 ? "" : "-\(attempt)")
      if link(path, aside) == 0 {
        unlink(path)
        return aside
      }
      if errno != EEXIST { break }
    }
    return nil
  }

  /// Removes `NAME.tmp.PID` files whose PID no longer runs: what a shell killed in the middle
  /// of a save left behind (its rename never happened). A live PID's file is left alone.
  @discardableResult
  public static func sweepTemporaryFiles(of path: String) -> [String] {
    let directory = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
    let base = String(path[(path.lastIndex(of: "/").map { path.index(after: $0) } ?? path.startIndex)...])
    guard let names = Paths.entries(directory.isEmpty ? "." : directory) else { return [] }
    var removed: [String] = []
    for name in names where name.hasPrefix(base + ".tmp.") {
      guard let pid = Int32(name.dropFirst(base.count + 5)), pid > 0 else { continue }
      if pid == getpid() || ProcFS.processExists(pid) { continue }
      let full = directory + "/" + name
      if !isOccupiedByNonRegularFile(full) && unlink(full) == 0 { removed.append(full) }
    }
    return removed
  }

  /// Adds lines at the end of a line file (the history) under its lock and keeps only the last
  /// `keepLast`: two shells that leave one after the other both keep their lines.
  public static func appendLines(_ lines: [String], to path: String, keepLast: Int) throws {
    if lines.isEmpty { return }
    try withLock(path) {
      let existing = try read(path).map { String(decoding: $0, as: UTF8.self) } ?? ""
      var all = existing.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
      // A line holds no newline: readline's history file is one entry per line.
      all += lines.map { $0.split(separator: "\n").joined(separator: " ") }
      if all.count > keepLast { all.removeFirst(all.count - keepLast) }
      try write(all.joined(separator: "\n") + "\n", to: path)
    }
  }
}
