import Foundation
import Glibc
import ProcLabKit

/// Small C programs with known behaviour, compiled with the system `cc`, and
/// strace's independent record of what they did: what `observe`, `verify` and
/// the kernel trace are checked against.
public enum CPrograms {
  /// A tool the test needs is missing or cannot work here: the test skips with this reason.
  public struct Unavailable: Error, CustomStringConvertible {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
  }

  /// A scratch directory for this test process's programs. A test process cannot remove its own
  /// at exit (XCTest ends with exit()), so the next one removes those of test processes that ended.
  public static let directory: String = {
    let prefix = "proclab-cprograms-"
    let names = (try? FileManager.default.contentsOfDirectory(atPath: NSTemporaryDirectory())) ?? []
    for name in names where name.hasPrefix(prefix) {
      if let pid = Int32(name.dropFirst(prefix.count)), kill(pid, 0) != 0 && errno == ESRCH {
        try? FileManager.default.removeItem(atPath: NSTemporaryDirectory() + name)
      }
    }
    let dir = NSTemporaryDirectory() + prefix + "\(getpid())"
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
  }()

  /// The system C compiler, or a skip with the reason.
  public static func compiler() throws -> String {
    guard
      let cc = Spawn.resolve(program: "cc") ?? Spawn.resolve(program: "gcc")
        ?? Spawn.resolve(program: "clang")
    else {
      throw Unavailable(
        "no C compiler (cc) on PATH: apt-get install gcc — the observe tests compile small C programs")
    }
    return cc
  }

  public static func strace() throws -> String {
    guard let path = Spawn.resolve(program: "strace") else {
      throw Unavailable("strace is not installed (apt-get install strace): the cross-check needs it")
    }
    return path
  }

  /// Compiles `source` as `name` (cached per test process) and returns the binary's path.
  public static func build(_ name: String, _ source: String) throws -> String {
    let cc = try compiler()
    let src = "\(directory)/\(name).c"
    let bin = "\(directory)/\(name)"
    if access(bin, X_OK) == 0 { return bin }
    try source.write(toFile: src, atomically: true, encoding: .utf8)
    let (status, output) = run(cc, ["-O0", "-pthread", "-o", bin, src])
    guard status == 0 else { throw Unavailable("cc could not build \(name): \(output)") }
    return bin
  }

  /// Runs a program to its end; its status and everything it printed.
  public static func run(_ path: String, _ arguments: [String]) -> (Int32, String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = arguments
    let out = Pipe()
    p.standardOutput = out
    p.standardError = out
    do { try p.run() } catch { return (-1, "\(error)") }
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
  }

  /// What `strace -f` saw: every call of every task, by the task's ID, in order.
  public struct StraceRecord {
    public var calls: [(tid: Int32, name: String)] = []
    /// Tasks that made at least one call.
    public var tasks: [Int32] { Array(Set(calls.map(\.tid))).sorted() }
    /// How often each call was made, over all tasks (a call strace shows split
    /// as `unfinished … resumed` is counted once).
    public var counts: [String: Int] {
      var c: [String: Int] = [:]
      for call in calls { c[call.name, default: 0] += 1 }
      return c
    }
  }

  /// `strace -f -qq -o LOG program args…`; nil with a reason when strace cannot trace here.
  public static func strace(_ program: String, _ arguments: [String] = []) throws -> StraceRecord {
    let strace = try strace()
    let log = "\(directory)/strace-\(UInt32.random(in: 0...UInt32.max)).txt"
    defer { unlink(log) }
    let (status, output) = run(strace, ["-f", "-qq", "-o", log, program] + arguments)
    guard let text = try? String(contentsOfFile: log, encoding: .utf8), !text.isEmpty else {
      throw Unavailable("strace cannot trace here (status \(status)): \(output.prefix(200))")
    }
    return parse(text)
  }

  /// Reads an `strace -f` log: `PID name(args) = result`, with `<... name resumed>` halves skipped.
  public static func parse(_ text: String) -> StraceRecord {
    var record = StraceRecord()
    for line in text.split(separator: "\n") {
      let parts = line.split(separator: " ", maxSplits: 1)
      guard parts.count == 2, let tid = Int32(parts[0]) else { continue }
      let rest = parts[1].drop { $0 == " " }
      if rest.hasPrefix("<...") || rest.hasPrefix("---") || rest.hasPrefix("+++") { continue }
      let name = rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
      if !name.isEmpty { record.calls.append((tid, String(name))) }
    }
    return record
  }
}
