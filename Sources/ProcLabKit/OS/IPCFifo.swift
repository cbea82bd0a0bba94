import Foundation
import Glibc

/// A private directory for named pipes (mkdtemp) and its removal.
public enum IPCFifo {
  /// mkdtemp(TMPDIR/proclab-fifo-XXXXXX): a directory only this user can enter.
  public static func makePrivateDirectory() throws -> String {
    let base = (ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp")
    var template = Array((base + "/proclab-fifo-XXXXXX").utf8CString)
    let start = MonotonicClock.nanoseconds()
    let p = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
    let path = p.map { String(cString: $0) }
    Trace.record(
      "mkdtemp", base + "/proclab-fifo-XXXXXX", result: path ?? "-1 \(SystemError.name(of: errno))",
      since: start)
    guard let path else { throw SystemError("mkdtemp") }
    return path
  }

  /// The names left in a directory (should be none before rmdir).
  public static func entries(of directory: String) -> [String] {
    (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
  }

  /// rmdir(directory).
  public static func removeDirectory(_ directory: String) {
    let start = MonotonicClock.nanoseconds()
    let rc = rmdir(directory)
    Trace.record(
      "rmdir", directory, result: rc == 0 ? "0" : "-1 \(SystemError.name(of: errno))", since: start)
  }
}
