import Glibc

/// Whether a crash leaves a core file, and where: RLIMIT_CORE of the crashing
/// process and the kernel's /proc/sys/kernel/core_pattern decide.
public enum CoreDumps {
  /// Soft and hard RLIMIT_CORE, in bytes; nil means unlimited.
  public typealias Limit = ResourceLimits.Limit

  /// getrlimit(RLIMIT_CORE).
  public static func limit() -> Limit { ResourceLimits.get(ResourceLimits.core) }

  /// setrlimit(RLIMIT_CORE, {0, hard}): no core files, but the hard limit is
  /// kept, so an experiment that asks for a core (`crash --core`) may raise
  /// the soft limit again without privileges.
  public static func disable() {
    let current = limit()
    try? ResourceLimits.set(ResourceLimits.core, Limit(soft: 0, hard: current.hard))
  }

  /// setrlimit(RLIMIT_CORE, {bytes, hard}): raises the soft limit to `bytes`
  /// (and the hard limit if it is lower, which needs CAP_SYS_RESOURCE).
  /// Throws the SystemError (EPERM) when the process may not.
  public static func allow(bytes: UInt64) throws {
    let current = limit()
    let hard = current.hard.map { max($0, bytes) }
    try ResourceLimits.set(ResourceLimits.core, Limit(soft: bytes, hard: hard))
  }

  /// /proc/sys/kernel/core_pattern: a file name template, or `|program` when
  /// cores are piped to a program (systemd-coredump, apport).
  public static var pattern: String? {
    ProcFS.read("/proc/sys/kernel/core_pattern").map { String($0.split(separator: "\n").first ?? "") }
  }

  /// /proc/sys/kernel/core_uses_pid: `.PID` is appended to a pattern without %p.
  public static var usesPID: Bool {
    ProcFS.read("/proc/sys/kernel/core_uses_pid")?.hasPrefix("1") ?? false
  }

  /// Where a core of process `pid` would go.
  public enum Destination: Sendable, Equatable {
    /// A file, relative to the crashing process's working directory or absolute.
    case file(String)
    /// Piped to a program's standard input.
    case program(String)
    /// core_pattern is empty: no core at all.
    case nowhere
  }

  /// Expands core_pattern's % specifiers (core(5)) for one process.
  public static func destination(
    pattern: String, usesPID: Bool, pid: Int32, command: String, signal: Int32, time: Int? = nil
  ) -> Destination {
    if pattern.isEmpty { return .nowhere }
    if pattern.hasPrefix("|") {
      return .program(String(pattern.dropFirst()).split(separator: " ").first.map(String.init) ?? "")
    }
    var out = ""
    var sawPID = false
    var chars = pattern.makeIterator()
    while let c = chars.next() {
      guard c == "%" else {
        out.append(c)
        continue
      }
      guard let spec = chars.next() else { break }
      switch spec {
      case "%": out += "%"
      case "p", "P", "i", "I":
        out += "\(pid)"
        sawPID = true
      case "e": out += command
      case "s": out += "\(signal)"
      case "u": out += "\(getuid())"
      case "g": out += "\(getgid())"
      case "h":
        out +=
          ProcFS.read("/proc/sys/kernel/hostname").map { String($0.split(separator: "\n").first ?? "") }
          ?? "?"
      case "t": out += time.map(String.init) ?? "{time}"
      default: out += "{%\(spec)}"
      }
    }
    if usesPID && !sawPID { out += ".\(pid)" }
    return .file(out)
  }
}

extension ResourceLimits.Limit {
  /// `0`, `unlimited`, `64.0 MiB`.
  public static func describe(_ value: UInt64?) -> String { ResourceLimits.describe(value) }
  public var json: JSON {
    [
      "soft": soft.map { .int(Int(clamping: $0)) } ?? "unlimited",
      "hard": hard.map { .int(Int(clamping: $0)) } ?? "unlimited",
    ]
  }
  public init?(json: JSON?) {
    guard let json else { return nil }
    func value(_ v: JSON?) -> UInt64? { v?.intValue.map { UInt64($0) } }
    self.init(soft: value(json["soft"]), hard: value(json["hard"]))
  }
}
