import Glibc

/// A small C process that forks for `cost`: proclab-forker, built from
/// Sources/ProcLabForker/main.c beside the proclab binary. It times fork + _exit
/// + waitpid (and posix_spawn + waitpid) with the same C loop proclab uses for
/// its own rows (`clab_cost_loop`), from a parent of a few dozen mappings instead
/// of proclab's; on request it grows its private resident memory (`grow`) or maps
/// memory it never touches (`map`), for `cost --parent-size`.
///
/// It is started once (posix_spawn, in a process group of its own so Ctrl-C reaches
/// only the shell) and given one command at a time over a pipe; closing its stdin
/// ends it, and `close()` reaps it.
public final class SmallForker {
  /// One sample: nanoseconds from before fork() (or posix_spawn) to after waitpid()
  /// returned, and the child's PID (the helper's child, not the shell's).
  public struct Sample: Sendable, Equatable {
    public let nanoseconds: Int64
    public let child: Int32
  }

  /// The helper's size as it last reported it (/proc/self/maps lines, VmRSS, RssAnon).
  public struct Size: Sendable, Equatable {
    public var mappings = 0
    public var residentBytes = 0
    public var anonymousBytes = 0
  }

  public enum Kind: String, Sendable {
    case fork
    /// posix_spawn of the program given at start (fd 3 in the helper).
    case spawn
  }

  public let pid: Int32
  public private(set) var size = Size()
  public var mappings: Int { size.mappings }
  public var residentBytes: Int { size.residentBytes }
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
    let dir = lab.hasPrefix("/proc/") ? "" : lab.lastIndex(of: "/").map { String(lab[..<$0]) } ?? ""
    let beside = (dir.isEmpty ? "." : dir) + "/proclab-forker"
    let installed = Paths.appending(Paths.deletingLastComponent(dir), "lib/proclab/proclab-forker")
    return access(beside, X_OK) != 0 && !dir.isEmpty && access(installed, X_OK) == 0 ? installed : beside
  }

  /// posix_spawn(proclab-forker) with a pipe on its stdin and one on its stdout, then
  /// reads the line in which it describes itself. Throws a one-line error if the
  /// helper is missing (it is built by `swift build` with proclab).
  public init(path: String = SmallForker.expectedPath, program: TinyProgram? = nil) throws {
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
    options.descriptors =
      [(0, requests.read), (1, replies.write)] + (program.map { [(Int32(3), $0.descriptor)] } ?? [])
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
      size = try readSize(expecting: "forker ")
    } catch {
      close()
      throw error
    }
  }

  deinit { close() }

  /// Asks for `count` samples of one kind ("fork K" or "spawn K") and reads them back.
  public func samples(_ count: Int, of kind: Kind = .fork) throws -> [Sample] {
    let start = MonotonicClock.nanoseconds()
    try Descriptors.writeAll(toHelper, "\(kind.rawValue) \(count)\n")
    var out: [Sample] = []
    out.reserveCapacity(count)
    while out.count < count {
      let line = try nextLine()
      let fields = SmallForker.fields(line)
      if line.hasPrefix("error ") { throw helperError(fields, start: start) }
      guard line.hasPrefix("sample "), let ns = fields["ns"].flatMap({ Int64($0) }),
        let child = fields["child"].flatMap({ Int32($0) })
      else { throw SystemError("proclab-forker said '\(line)' instead of a sample", errno: EPROTO) }
      out.append(Sample(nanoseconds: ns, child: child))
    }
    size = try readSize(expecting: "done ")
    Trace.record(
      "\(kind == .fork ? "fork+_exit" : "posix_spawn")+waitpid in proclab-forker", "pid \(pid), ×\(count)",
      result: "\(out.count) samples", since: start)
    return out
  }

  /// "grow BYTES": the helper maps BYTES more private memory and touches every page.
  @discardableResult
  public func grow(by bytes: Int) throws -> Size { try command("grow \(bytes)") }

  /// "map BYTES": the helper maps BYTES it never touches (replacing the last such mapping).
  @discardableResult
  public func mapUntouched(_ bytes: Int) throws -> Size { try command("map \(bytes)") }

  /// "unmap": the untouched mapping goes.
  @discardableResult
  public func unmapUntouched() throws -> Size { try command("unmap") }

  private func command(_ text: String) throws -> Size {
    let start = MonotonicClock.nanoseconds()
    try Descriptors.writeAll(toHelper, text + "\n")
    size = try readSize(expecting: "done ")
    Trace.record(
      "proclab-forker", "pid \(pid): \(text)",
      result: "\(size.mappings) mappings, \(size.residentBytes) B resident",
      since: start)
    return size
  }

  private func readSize(expecting word: String) throws -> Size {
    let line = try nextLine()
    let fields = SmallForker.fields(line)
    if line.hasPrefix("error ") { throw helperError(fields, start: MonotonicClock.nanoseconds()) }
    guard line.hasPrefix(word), let m = fields["mappings"].flatMap({ Int($0) }),
      let r = fields["rss_bytes"].flatMap({ Int($0) }), let a = fields["anon_bytes"].flatMap({ Int($0) })
    else { throw SystemError("proclab-forker said '\(line)' instead of its size", errno: EPROTO) }
    return Size(mappings: m, residentBytes: r, anonymousBytes: a)
  }

  private func helperError(_ fields: [String: String], start: UInt64) -> SystemError {
    let e = fields["errno"].flatMap { Int32($0) } ?? EIO
    Trace.record("proclab-forker", "pid \(pid)", result: "-1 \(SystemError.name(of: e))", since: start)
    return SystemError("proclab-forker (pid \(pid))", errno: e)
  }

  /// close(its stdin): the helper sees end of file and exits; then waitpid. If it
  /// does not end within a second, or the command was interrupted, it is killed (with
  /// its process group) and reaped.
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
    // Stopped mid-batch (Ctrl-C), the helper would only read its end of file after its
    // thousands of forks: end it at once rather than wait.
    if Interrupt.isRequested { SignalSender.killGroup(pid) }
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
