import Glibc

/// A private directory for named pipes (mkdtemp) and its removal.
public enum IPCFifo {
  /// mkdtemp(TMPDIR/proclab-fifo-PID-XXXXXX): a directory only this user can enter,
  /// named with the shell's PID so that a shell killed before removing it is
  /// cleaned up by the next one (Leftovers).
  public static func makePrivateDirectory() throws -> String {
    let template = "\(Leftovers.temporaryDirectory)/proclab-fifo-\(getpid())-XXXXXX"
    var bytes = Array(template.utf8CString)
    let start = MonotonicClock.nanoseconds()
    let p = bytes.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
    let path = p.map { String(cString: $0) }
    Trace.record("mkdtemp", template, result: path ?? "-1 \(SystemError.name(of: errno))", since: start)
    guard let path else { throw SystemError("mkdtemp") }
    return path
  }

  /// The names left in a directory (should be none before rmdir).
  public static func entries(of directory: String) -> [String] { ProcFS.list(directory) ?? [] }

  /// rmdir(directory).
  public static func removeDirectory(_ directory: String) {
    let start = MonotonicClock.nanoseconds()
    let rc = rmdir(directory)
    Trace.record(
      "rmdir", directory, result: rc == 0 ? "0" : "-1 \(SystemError.name(of: errno))", since: start)
  }
}
