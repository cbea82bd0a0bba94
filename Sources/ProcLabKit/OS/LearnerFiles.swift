import Glibc

/// Files a learner owns (`./proclab-exercises/NAME/main.c`): created only when
/// they are not there yet, never overwritten.
public enum LearnerFiles {
  /// getcwd(3): the directory proclab was started in (or moved to).
  public static func currentDirectory() -> String {
    var buffer = [CChar](repeating: 0, count: 4096)
    guard getcwd(&buffer, buffer.count) != nil else { return "." }
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }

  /// mkdir(2) of every missing component of `path` (mode 0755).
  public static func makeDirectories(_ path: String) throws {
    var built = path.hasPrefix("/") ? "" : "."
    for part in path.split(separator: "/") {
      built += "/" + part
      let start = MonotonicClock.nanoseconds()
      let rc = mkdir(built, 0o755)
      let e = errno
      Trace.record("mkdir", built, result: rc == 0 ? "0" : "-1 \(SystemError.name(of: e))", since: start)
      if rc != 0 && e != EEXIST { throw SystemError("mkdir", errno: e) }
    }
  }

  /// open(path, O_WRONLY|O_CREAT|O_EXCL, 0644) and write: false when the file was already
  /// there (it is left as it was: O_EXCL makes the check and the creation one step).
  public static func createNew(_ path: String, contents: String) throws -> Bool {
    let start = MonotonicClock.nanoseconds()
    let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
    let e = errno
    Trace.record(
      "openat", "\"\(path)\", O_WRONLY|O_CREAT|O_EXCL",
      result: fd < 0 ? "-1 \(SystemError.name(of: e))" : "\(fd)",
      since: start)
    if fd < 0 {
      if e == EEXIST { return false }
      throw SystemError("open", errno: e)
    }
    defer { Descriptors.close(fd) }
    try Descriptors.writeAll(fd, contents)
    return true
  }

  /// A whole text file, or nil if it cannot be read (open, read, close).
  public static func read(_ path: String) -> String? { ProcFS.read(path) }

  /// access(path, F_OK).
  public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

  /// stat(2)'s modification time in nanoseconds, or nil.
  public static func modified(_ path: String) -> Int? {
    var s = stat()
    guard stat(path, &s) == 0 else { return nil }
    return Int(s.st_mtim.tv_sec) * 1_000_000_000 + Int(s.st_mtim.tv_nsec)
  }
}
