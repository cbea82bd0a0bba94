import CLab
import Glibc

/// Pipes and descriptor I/O (pipe2, read, write, poll, close).
public enum Descriptors {
  /// pipe2(2) with O_CLOEXEC: returns (read end, write end). Close-on-exec so
  /// descriptors never leak into programs the shell starts.
  public static func pipe(closeOnExec: Bool = true) throws -> (read: Int32, write: Int32) {
    var fds: [Int32] = [0, 0]
    let flags: Int32 = closeOnExec ? Int32(O_CLOEXEC) : 0
    try Trace.call(
      "pipe2", closeOnExec ? "O_CLOEXEC" : "0", describe: { (_: Int32) in "[\(fds[0]), \(fds[1])]" }
    ) {
      pipe2(&fds, flags)
    }
    return (fds[0], fds[1])
  }

  /// close(2). Its errors are ignored: on Linux the descriptor is released even when
  /// close reports EINTR or EIO, so retrying could close a number another thread just got.
  public static func close(_ fd: Int32) {
    let start = MonotonicClock.nanoseconds()
    let rc = Glibc.close(fd)
    Trace.record("close", "\(fd)", result: "\(rc)", since: start)
  }

  /// write(2) until every byte is written; Ctrl-C stops it with `Interrupted`.
  public static func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws {
    var offset = 0
    while offset < bytes.count {
      let n = try Trace.call("write", "\(fd), \(bytes.count - offset) bytes") {
        bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, bytes.count - offset) }
      }
      offset += n
    }
  }

  public static func writeAll(_ fd: Int32, _ text: String) throws { try writeAll(fd, Array(text.utf8)) }

  /// read(2) of up to `max` bytes: the bytes read; empty at end of file.
  public static func read(_ fd: Int32, max: Int = 65536) throws -> [UInt8] {
    var buffer = [UInt8](repeating: 0, count: max)
    let n = try Trace.call("read", "\(fd), \(max)") {
      buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, max) }
    }
    return Array(buffer[0..<n])
  }

  /// poll(2) on `fds` for up to `timeout`: which are readable (or hung up).
  /// Empty on timeout, and when a signal (Ctrl-C) interrupts the wait (EINTR).
  public static func readable(_ fds: [Int32], timeout: Duration) -> Set<Int32> {
    var entries = fds.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
    let ms = Int32(clamping: max(0, timeout.nanoseconds / 1_000_000))
    guard let n = try? systemCall("poll", onInterrupt: .fail, { poll(&entries, nfds_t(entries.count), ms) }),
      n > 0
    else { return [] }
    return Set(entries.filter { $0.revents != 0 }.map(\.fd))
  }

  /// One read(2) of up to `max` bytes that never throws: the bytes, `[]` when a
  /// signal interrupted it (EINTR, so the caller can look at what was asked), nil
  /// at end of file or on error.
  public static func readSome(_ fd: Int32, max: Int = 65536) -> [UInt8]? {
    var buffer = [UInt8](repeating: 0, count: max)
    let start = MonotonicClock.nanoseconds()
    do {
      let n = try systemCall("read", onInterrupt: .fail) {
        buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, max) }
      }
      Trace.record("read", "\(fd), \(max)", result: "\(n)", since: start)
      return n == 0 ? nil : Array(buffer[0..<n])
    } catch let e as SystemError {
      Trace.record("read", "\(fd), \(max)", result: "-1 \(e.name)", since: start)
      return e.errno == EINTR ? [] : nil
    } catch {
      return nil
    }
  }

  /// write(2) of every byte, retrying on EINTR; gives up silently if the reader is gone
  /// (lab children report this way and must never die of it).
  public static func writeQuietly(_ fd: Int32, _ bytes: [UInt8]) { _ = Output.writeEvery(fd, bytes) }

  /// The number of descriptors this process has open right now: readdir(3) of /proc/self/fd
  /// (less the one the listing itself holds).
  public static func openCount() -> Int { max(0, ProcFS.descriptors(of: getpid()).count - 1) }
}
