import Glibc

/// A private directory made with mkdtemp(3) (mode 0700) for files an
/// experiment causes (core files, crash reports), removed with everything in it.
public final class ScratchDirectory {
  public let path: String
  private var removed = false

  /// mkdtemp(3) of `$TMPDIR/PREFIX-PID-XXXXXX`: the shell's PID lets a later start remove it (Leftovers).
  public init(prefix: String) throws {
    path = try TemporaryDirectory.make(prefix: prefix)
  }

  deinit { remove() }

  /// The regular files in it now, with their sizes in bytes: readdir(3), then lstat(2) of each.
  public func files() -> [(name: String, bytes: Int)] {
    guard let names = ProcFS.list(path) else { return [] }
    return names.sorted().compactMap { name in
      var st = stat()
      guard lstat("\(path)/\(name)", &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
      return (name, Int(st.st_size))
    }
  }

  /// The text of a file in it.
  public func read(_ name: String) -> String? { ProcFS.read("\(path)/\(name)") }

  /// unlink(2) every entry, then rmdir(2) the directory.
  public func remove() {
    guard !removed else { return }
    removed = true
    let start = MonotonicClock.nanoseconds()
    let names = ProcFS.list(path) ?? []
    for name in names { _ = unlink("\(path)/\(name)") }
    let rc = rmdir(path)
    Trace.record("rmdir", "\(path) (after unlinking \(names.count))", result: "\(rc)", since: start)
  }
}

extension ScratchDirectory {
  /// chdir(2): makes `path` the calling process's working directory (where a
  /// core_pattern without a leading / puts the core file).
  public static func enter(_ path: String) throws {
    try Trace.call("chdir", path) { chdir(path) }
  }
}
