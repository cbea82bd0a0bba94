import CLab
import Glibc

/// What a shell killed with SIGKILL can leave behind: names in the file system
/// or in the kernel that outlive their process (FIFO directories, shared-memory
/// objects, POSIX message queues, which stay until reboot). Every such name
/// starts with a known prefix and the PID of the shell that made it
/// (`proclab-mq-4312-…`), so the next shell to start can tell whose it is and
/// remove what belongs to a shell that no longer runs.
///
/// A new kind of leftover is one more entry in `kinds`.
public enum Leftovers {
  public struct Kind: Sendable {
    /// What it is, in the learner's words (`POSIX message queue`).
    public let what: String
    /// Where the names are listed.
    public let directory: @Sendable () -> String
    /// Every name starts with this, then the PID and a dash.
    public let prefix: String
    /// Removes one (its full path); true when it is gone.
    public let remove: @Sendable (String) -> Bool
  }

  /// The registry of what proclab names with its PID.
  public static let kinds: [Kind] = [
    Kind(what: "FIFO directory", directory: { temporaryDirectory }, prefix: "proclab-fifo-") {
      removeDirectory($0)
    },
    Kind(what: "shared-memory object", directory: { "/dev/shm" }, prefix: "proclab-shm-") {
      let name = "/" + baseName($0)
      return shm_unlink(name) == 0 || errno == ENOENT
    },
    // /dev/mqueue is not always mounted, so each queue has a claim file of its
    // name in TMPDIR, made before mq_open and removed after mq_unlink.
    Kind(what: "POSIX message queue", directory: { temporaryDirectory }, prefix: "proclab-mq-") {
      _ = mq_unlink("/" + baseName($0))
      return unlink($0) == 0 || errno == ENOENT
    },
  ]

  /// TMPDIR, or /tmp.
  public static var temporaryDirectory: String {
    let value = getenv("TMPDIR").map { String(cString: $0) } ?? ""
    return value.isEmpty ? "/tmp" : value
  }

  /// Removes everything whose shell is gone (kill(pid, 0) fails with ESRCH);
  /// returns one line per thing removed.
  @discardableResult
  public static func sweep() -> [String] {
    let start = MonotonicClock.nanoseconds()
    var removed: [String] = []
    for kind in kinds {
      for (path, pid) in listed(kind) where !isRunning(pid) {
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
    kinds.flatMap { kind in listed(kind).filter { $0.pid == pid }.map { "\(kind.what) \($0.path)" } }
  }

  /// The PID after the prefix: `proclab-fifo-1234-x8Ab` → 1234.
  public static func owner(of name: String, prefix: String) -> Int32? {
    guard name.hasPrefix(prefix) else { return nil }
    let digits = name.dropFirst(prefix.count).prefix { $0.isNumber }
    guard !digits.isEmpty, name.dropFirst(prefix.count + digits.count).first == "-" else { return nil }
    return Int32(digits)
  }

  static func listed(_ kind: Kind) -> [(path: String, pid: Int32)] {
    let dir = kind.directory()
    return (ProcFS.list(dir) ?? []).compactMap { name in
      owner(of: name, prefix: kind.prefix).map { ("\(dir)/\(name)", $0) }
    }
  }

  /// kill(pid, 0): a process that exists (even one we may not signal) is running.
  static func isRunning(_ pid: Int32) -> Bool { pid > 0 && (kill(pid, 0) == 0 || errno == EPERM) }

  static func baseName(_ path: String) -> String {
    path.split(separator: "/").last.map(String.init) ?? path
  }

  /// unlink every entry (FIFOs), then rmdir.
  static func removeDirectory(_ path: String) -> Bool {
    for name in ProcFS.list(path) ?? [] { _ = unlink("\(path)/\(name)") }
    return rmdir(path) == 0 || errno == ENOENT
  }
}
