import Foundation
import Glibc

/// An experiment that runs inside a lab child.
public struct LabEntry: Sendable {
  public let name: String
  /// Runs in the child; returns the result sent back to the shell.
  public let run: @Sendable (JSON) throws -> JSON
  public init(_ name: String, run: @escaping @Sendable (JSON) throws -> JSON) {
    self.name = name
    self.run = run
  }
}

/// The child side of lab mode: `proclab __lab EXPERIMENT REQUEST-JSON`.
public enum LabChild {
  /// Sends one message to the shell: a JSON line on the report pipe (stdout).
  public static func send(_ message: JSON) {
    let bytes = Array((message.serialized + "\n").utf8)
    var offset = 0
    while offset < bytes.count {
      let n = bytes.withUnsafeBytes { Glibc.write(1, $0.baseAddress! + offset, bytes.count - offset) }
      if n < 0 && errno == EINTR { continue }
      if n <= 0 { return }
      offset += n
    }
  }

  /// Sends an intermediate message (`ready`, progress) before the result.
  public static func announce(_ message: JSON) { send(["message": message]) }

  /// Runs the named experiment and exits; never returns.
  public static func main(arguments: [String], entries: [LabEntry]) -> Never {
    // A lab child is bounded whatever its request says: no core files unless
    // asked, and a CPU-time cap so a runaway loop ends by itself.
    CoreDumps.disable()
    ResourceLimits.lower(ResourceLimits.cpu, to: 120)
    if ProcessInfo.processInfo.environment["PROCLAB_TRACE"] == "1" { Trace.isEnabled = true }
    guard arguments.count >= 2, let entry = entries.first(where: { $0.name == arguments[0] }) else {
      FileHandle.standardError.write("lab: unknown experiment\n".data(using: .utf8)!)
      exit(70)
    }
    let request = JSON.parse(arguments[1]) ?? [:]
    do {
      let result = try entry.run(request)
      send(["result": result, "trace": .array(Trace.drain().map(\.json))])
      exit(0)
    } catch {
      send(["error": .string("\(error)"), "trace": .array(Trace.drain().map(\.json))])
      exit(71)
    }
  }
}
