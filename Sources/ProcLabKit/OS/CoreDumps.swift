import CLab
import Foundation
import Glibc

/// Whether a crash leaves a core file, and where: RLIMIT_CORE of the crashing
/// process and the kernel's /proc/sys/kernel/core_pattern decide.
public enum CoreDumps {
  /// Soft and hard RLIMIT_CORE, in bytes; nil means unlimited.
  public struct Limit: Sendable, Equatable {
    public var soft: UInt64?
    public var hard: UInt64?

    /// `0`, `unlimited`, `64.0 MiB`.
    public static func describe(_ value: UInt64?) -> String {
      guard let value else { return "unlimited" }
      return value == 0 ? "0" : Units.bytes(Int(clamping: value))
    }
    public var json: JSON {
      [
        "soft": soft.map { .int(Int(clamping: $0)) } ?? "unlimited",
        "hard": hard.map { .int(Int(clamping: $0)) } ?? "unlimited",
      ]
    }
    public init(soft: UInt64?, hard: UInt64?) {
      self.soft = soft
      self.hard = hard
    }
    public init?(json: JSON?) {
      guard let json else { return nil }
      func value(_ v: JSON?) -> UInt64? { v?.intValue.map { UInt64($0) } }
      self.init(soft: value(json["soft"]), hard: value(json["hard"]))
    }
  }

  /// getrlimit(RLIMIT_CORE).
  public static func limit() -> Limit {
    var soft: UInt64 = 0
    var hard: UInt64 = 0
    let start = MonotonicClock.nanoseconds()
    _ = clab_get_limit(ResourceLimits.core, &soft, &hard)
    let limit = Limit(soft: soft == UInt64.max ? nil : soft, hard: hard == UInt64.max ? nil : hard)
    Trace.record(
      "getrlimit", "RLIMIT_CORE",
      result: "soft \(Limit.describe(limit.soft)), hard \(Limit.describe(limit.hard))", since: start)
    return limit
  }

  /// setrlimit(RLIMIT_CORE, {0, hard}): no core files, but the hard limit is
  /// kept, so an experiment that asks for a core (`crash --core`) may raise
  /// the soft limit again without privileges.
  public static func disable() {
    let current = limit()
    let start = MonotonicClock.nanoseconds()
    let rc = clab_set_limit(ResourceLimits.core, 0, current.hard ?? UInt64.max)
    Trace.record(
      "setrlimit", "RLIMIT_CORE, {0, \(Limit.describe(current.hard))}", result: "\(rc)", since: start)
  }

  /// setrlimit(RLIMIT_CORE, {bytes, hard}): raises the soft limit to `bytes`
  /// (and the hard limit if it is lower, which needs CAP_SYS_RESOURCE).
  /// Throws the SystemError (EPERM) when the process may not.
  public static func allow(bytes: UInt64) throws {
    let current = limit()
    let hard = max(current.hard ?? UInt64.max, bytes)
    try Trace.call(
      "setrlimit", "RLIMIT_CORE, {\(Limit.describe(bytes)), \(Limit.describe(hard == .max ? nil : hard))}"
    ) {
      clab_set_limit(ResourceLimits.core, bytes, hard)
    }
  }

  /// /proc/sys/kernel/core_pattern: a file name template, or `|program` when
  /// cores are piped to a program (systemd-coredump, apport).
  public static var pattern: String? {
    ProcFS.read("/proc/sys/kernel/core_pattern")?.trimmingCharacters(in: .whitespacesAndNewlines)
  }

  /// /proc/sys/kernel/core_uses_pid: `.PID` is appended to a pattern without %p.
  public static var usesPID: Bool {
    ProcFS.read("/proc/sys/kernel/core_uses_pid")?.trimmingCharacters(in: .whitespacesAndNewlines) == "1"
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
          ProcFS.read("/proc/sys/kernel/hostname")?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
      case "t": out += time.map(String.init) ?? "{time}"
      default: out += "{%\(spec)}"
      }
    }
    if usesPID && !sawPID { out += ".\(pid)" }
    return .file(out)
  }
}
