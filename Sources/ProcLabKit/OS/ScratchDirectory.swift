import Glibc

/// A private directory made with mkdtemp(3) (mode 0700) for files an
/// experiment causes (core files, crash reports), removed with everything in it.
/// Its name carries the shell's PID, so a later start can remove it if this
/// shell is killed before it could (Leftovers).
public final class ScratchDirectory {
  public let path: String
  private var removed = false

  /// mkdtemp(TMPDIR/PREFIX-PID-XXXXXX).
  public init(prefix: String) throws {
    let base = Environment.temporaryDirectory
    var template = Array("\(base)/\(prefix)-\(getpid())-XXXXXX".utf8CString)
    let start = MonotonicClock.nanoseconds()
    let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
    guard made != nil else {
      let e = SystemError("mkdtemp")
      Trace.record("mkdtemp", "\(base)/\(prefix)-XXXXXX", result: "NULL \(e.name)", since: start)
      throw e
    }
    path = String(cString: template)
    Trace.record("mkdtemp", "\(base)/\(prefix)-XXXXXX", result: path, since: start)
  }

  deinit { remove() }

  /// The regular files in it now, with their sizes in bytes (lstat).
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
    let removed = Leftovers.removeDirectory(path)
    Trace.record(
      "rmdir", "\(path) (after unlinking \(names.count))", result: removed ? "0" : "-1", since: start)
  }
}

extension ScratchDirectory {
  /// chdir(2): makes `path` the calling process's working directory (where a
  /// core_pattern without a leading / puts the core file).
  public static func enter(_ path: String) throws {
    try Trace.call("chdir", path) { chdir(path) }
  }
}
