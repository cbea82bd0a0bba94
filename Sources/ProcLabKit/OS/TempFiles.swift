import Glibc

/// A private temporary directory and files in it (mkdtemp, open, unlink, rmdir).
public final class TemporaryDirectory {
  public let path: String
  private var files: [String] = []

  /// mkdtemp(3) of `$TMPDIR/proclab-UID/PREFIX-PID-XXXXXX` (mode 0700).
  public init(prefix: String = "proclab") throws {
    path = try TemporaryDirectory.make(prefix: prefix)
  }

  /// mkdtemp(3): creates `$TMPDIR/proclab-UID/PREFIX-PID-XXXXXX` with six random characters, mode 0700, and
  /// returns its path. Shared by `TemporaryDirectory` and `ScratchDirectory`. The shell's PID in
  /// the name lets a later start remove it if this shell is killed before it can (Leftovers).
  static func make(prefix: String) throws -> String {
    let pattern = "\(Leftovers.temporaryDirectory)/\(prefix)-\(getpid())-XXXXXX"
    var template = Array(pattern.utf8CString)
    let start = MonotonicClock.nanoseconds()
    let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
    guard made != nil else {
      let e = SystemError("mkdtemp")
      Trace.record("mkdtemp", pattern, result: "NULL \(e.name)", since: start)
      throw e
    }
    // mkdtemp replaced the X's in place; the terminating NUL is the last element.
    let path = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    Trace.record("mkdtemp", pattern, result: path, since: start)
    return path
  }

  /// open(path, O_RDWR|O_CREAT|O_TRUNC[|O_CLOEXEC], 0600): a file in this directory.
  public func open(_ name: String, closeOnExec: Bool) throws -> Int32 {
    let full = "\(path)/\(name)"
    let flags = O_RDWR | O_CREAT | O_TRUNC | (closeOnExec ? O_CLOEXEC : 0)
    let fd = try Trace.call("open", "\(full), O_RDWR|O_CREAT|O_TRUNC\(closeOnExec ? "|O_CLOEXEC" : "")") {
      Glibc.open(full, flags, 0o600)
    }
    files.append(full)
    return fd
  }

  /// unlink every file made here, then rmdir the directory.
  public func remove() {
    for f in files {
      let start = MonotonicClock.nanoseconds()
      let rc = unlink(f)
      Trace.record("unlink", f, result: "\(rc)", since: start)
    }
    files = []
    let start = MonotonicClock.nanoseconds()
    let rc = rmdir(path)
    Trace.record("rmdir", path, result: "\(rc)", since: start)
  }
}

extension Descriptors {
  /// fcntl(fd, F_GETFD): whether close-on-exec is set, or nil if the descriptor is not open.
  public static func closeOnExec(_ fd: Int32) -> Bool? {
    let start = MonotonicClock.nanoseconds()
    let flags = fcntl(fd, F_GETFD)
    Trace.record(
      "fcntl", "\(fd), F_GETFD",
      result: flags < 0 ? "-1 EBADF" : (flags & FD_CLOEXEC != 0 ? "FD_CLOEXEC" : "0"), since: start)
    return flags < 0 ? nil : flags & FD_CLOEXEC != 0
  }

  /// open("/dev/null", O_RDWR|O_CLOEXEC): somewhere to send a child's output.
  public static func openNull() throws -> Int32 {
    try Trace.call("open", "/dev/null, O_RDWR|O_CLOEXEC") { Glibc.open("/dev/null", O_RDWR | O_CLOEXEC) }
  }
}
