import Foundation
import Glibc

/// A small C process that forks for `cost`: proclab-forker, built from
/// Sources/ProcLabForker/main.c beside the proclab binary. It times
/// fork + _exit + waitpid with the same CLab function proclab uses for its own
/// fork row (`clab_cost_fork_child`), from a parent of a few dozen mappings instead
/// of proclab's hundred-odd: the two rows differ only in the parent fork copies.
///
/// It is started once (posix_spawn, in a process group of its own so Ctrl-C reaches
/// only the shell) and asked for a batch of samples at a time over a pipe; closing
/// its stdin ends it, and `close()` reaps it.
public final class SmallForker {
  /// One sample: nanoseconds from before fork() to after waitpid() returned, and
  /// the child's PID (the helper's child, not the shell's).
  public struct Sample: Sendable, Equatable {
    public let nanoseconds: Int64
    public let child: Int32
  }

  /// The helper's own PID, and its size as it reported it at start-up
  /// (/proc/self/maps lines, VmRSS).
  public let pid: Int32
  public private(set) var mappings = 0
  public private(set) var residentBytes = 0
  public let path: String

  private var toHelper: Int32
  private var fromHelper: Int32
  private var pending: [UInt8] = []
  private var reaped = false

  /// The helper is not beside proclab (a binary copied elsewhere without it).
  public struct Missing: Error, CustomStringConvertible {
    public let path: String
    public var description: String {
      "proclab-forker, the small C process the fork_small row forks from, is missing: expected at \(path), beside proclab (`swift build` builds both) or in <prefix>/lib/proclab/ for an installed proclab"
    }
  }

  /// Where proclab-forker is expected: beside the proclab binary (`Lab.executable`), as
  /// `swift build` leaves it, or for a binary installed in `<prefix>/bin`, in
  /// `<prefix>/lib/proclab/` (where the .deb and the tarball put it).
  public static var expectedPath: String {
    let lab = Lab.executable
    let dir = lab.hasPrefix("/proc/") ? "" : URL(fileURLWithPath: lab).deletingLastPathComponent().path
    let beside = (dir.isEmpty ? "." : dir) + "/proclab-forker"
    let installed = Paths.appending(Paths.deletingLastComponent(dir), "lib/proclab/proclab-forker")
    return access(beside, X_OK) != 0 && !dir.isEmpty && access(installed, X_OK) == 0 ? installed : beside
  }

  /// posix_spawn(proclab-forker) with a pipe on its stdin and one on its stdout, then
  /// reads the line in which it describes itself. Throws a one-line error if the
  /// helper is missing (it is built by `swift build` with proclab).
  public init(path: String = SmallForker.expectedPath) throws {
    guard access(path, X_OK) == 0 else {
      throw Missing(path: path)
    }
    self.path = path
    let requests = try Descriptors.pipe()
    let replies: (read: Int32, write: Int32)
    do { replies = try Descriptors.pipe() } catch {
      Descriptors.close(requests.read)
      Descriptors.close(requests.write)
      throw error
    }
    var options = Spawn.Options()
    options.descriptors = [(0, requests.read), (1, replies.write)]
    let spawned: Int32
    do {
      spawned = try Spawn.spawn(path: path, arguments: ["proclab-forker"], options: options)
    } catch {
      for fd in [requests.read, requests.write, replies.read, replies.write] { Descriptors.close(fd) }
      throw error
    }
    Descriptors.close(requests.read)
    Descriptors.close(replies.write)
    pid = spawned
    toHelper = requests.write
    fromHelper = replies.read
    do {
      let first = try nextLine()
      let fields = SmallForker.fields(first)
      guard first.hasPrefix("forker "), let m = fields["mappings"].flatMap({ Int($0) }),
        let r = fields["rss_bytes"].flatMap({ Int($0) })
      else { throw SystemError("proclab-forker said '\(first)' instead of describing itself", errno: EPROTO) }
      mappings = m
      residentBytes = r
    } catch {
      close()
      throw error
    }
  }

  deinit { close() }

  /// Asks for `count` samples (write "count\n" to its stdin) and reads them back.
  /// Each sample is recorded in the trace as the helper's fork+waitpid.
  public func samples(_ count: Int) throws -> [Sample] {
    let start = MonotonicClock.nanoseconds()
    try Descriptors.writeAll(toHelper, "\(count)\n")
    var out: [Sample] = []
    out.reserveCapacity(count)
    while out.count < count {
      let line = try nextLine()
      let fields = SmallForker.fields(line)
      if line.hasPrefix("error ") {
        let e = fields["errno"].flatMap { Int32($0) } ?? EIO
        Trace.record(
          "fork+waitpid in proclab-forker", "pid \(pid)", result: "-1 \(SystemError.name(of: e))",
          since: start)
        throw SystemError("fork in proclab-forker (pid \(pid))", errno: e)
      }
      guard line.hasPrefix("sample "), let ns = fields["ns"].flatMap({ Int64($0) }),
        let child = fields["child"].flatMap({ Int32($0) })
      else { throw SystemError("proclab-forker said '\(line)' instead of a sample", errno: EPROTO) }
      out.append(Sample(nanoseconds: ns, child: child))
    }
    let shown = out.count == 1 ? Units.duration(.nanoseconds(out[0].nanoseconds)) : "\(out.count) samples"
    Trace.record(
      "fork+waitpid in proclab-forker",
      "pid \(pid), \(count) sample\(count == 1 ? "" : "s"), children _exit(0)",
      result: shown, since: start)
    return out
  }

  /// close(its stdin): the helper sees end of file and exits; then waitpid. If it
  /// does not end within a second it is killed (with its process group) and reaped.
  public func close() {
    if toHelper >= 0 {
      Descriptors.close(toHelper)
      toHelper = -1
    }
    if fromHelper >= 0 {
      Descriptors.close(fromHelper)
      fromHelper = -1
    }
    if reaped { return }
    reaped = true
    if (try? Wait.wait4(pid, timeout: .seconds(1))) ?? nil == nil {
      SignalSender.killGroup(pid)
      _ = Wait.reap(pid)
    }
  }

  /// The next line from the helper (without the newline); throws at end of file
  /// (the helper ended) and on Ctrl-C.
  private func nextLine() throws -> String {
    while true {
      if let nl = pending.firstIndex(of: 10) {
        let line = String(decoding: pending[..<nl], as: UTF8.self)
        pending.removeSubrange(...nl)
        return line
      }
      if Interrupt.isRequested { throw Interrupted() }
      if Descriptors.readable([fromHelper], timeout: .milliseconds(100)).isEmpty { continue }
      guard let chunk = Descriptors.readSome(fromHelper), !chunk.isEmpty else {
        throw SystemError("proclab-forker (pid \(pid)) ended unexpectedly", errno: EPIPE)
      }
      pending.append(contentsOf: chunk)
    }
  }

  /// "word key=value key=value" → [key: value].
  static func fields(_ line: String) -> [String: String] {
    var out: [String: String] = [:]
    for word in line.split(separator: " ") {
      guard let eq = word.firstIndex(of: "=") else { continue }
      out[String(word[..<eq])] = String(word[word.index(after: eq)...])
    }
    return out
  }
}
