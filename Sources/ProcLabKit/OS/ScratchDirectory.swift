import Foundation
import Glibc

/// A private directory made with mkdtemp(3) (mode 0700) for files an
/// experiment causes (core files, crash reports), removed with everything in it.
public final class ScratchDirectory {
  public let path: String
  private var removed = false

  /// mkdtemp(TMPDIR/PREFIX-XXXXXX).
  public init(prefix: String) throws {
    let base = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
    var template = Array("\(base)/\(prefix)-XXXXXX".utf8CString)
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
    guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else { return [] }
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
    let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
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
