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
    Descriptors.writeQuietly(1, Array((message.serialized + "\n").utf8))
  }

  /// Sends an intermediate message (`ready`, progress) before the result.
  public static func announce(_ message: JSON) { send(["message": message]) }

  /// Runs the named experiment and exits; never returns.
  public static func main(arguments: [String], entries: [LabEntry]) -> Never {
    // A lab child is bounded whatever its request says: no core files unless
    // asked (the hard limit stays, so `crash --core` can raise it again), a
    // CPU-time cap so a runaway loop ends by itself, an address-space cap so no
    // experiment can take the machine's memory, and a task cap a little above
    // today's system-wide count (from /proc/loadavg) against fork bombs.
    // Dies with the shell: a shell killed by SIGKILL cannot clean up its children
    // itself. The expected parent comes from the shell: this child's own getppid()
    // would already be init's if the shell died before the prctl.
    ParentDeath.killWithParent(
      expectedParent: Environment.value(ParentDeath.parentVariable).flatMap { Int32($0) })
    CoreDumps.disable()
    ResourceLimits.lower(ResourceLimits.cpu, to: 120)
    if !Sanitizers.addressSanitizer {
      ResourceLimits.lower(ResourceLimits.addressSpace, to: 4 << 30)
    }
    if let loadavg = ProcFS.read("/proc/loadavg"),
      let field = loadavg.split(separator: " ").dropFirst(3).first,
      let total = field.split(separator: "/").last.flatMap({ Int($0) })
    {
      ResourceLimits.lower(ResourceLimits.processes, to: UInt64(total + 512))
    }
    if Environment.value("PROCLAB_TRACE") == "1" { Trace.isEnabled = true }
    guard arguments.count >= 2, let entry = entries.first(where: { $0.name == arguments[0] }) else {
      Output.err("lab: unknown experiment\n")
      ThisProcess.exit(70)
    }
    let request = JSON.parse(arguments[1]) ?? [:]
    do {
      let result = try entry.run(request)
      send(["result": result, "trace": .array(Trace.drain().map(\.json))])
      ThisProcess.exit(0)
    } catch {
      send(["error": .string("\(error)"), "trace": .array(Trace.drain().map(\.json))])
      ThisProcess.exit(71)
    }
  }
}
