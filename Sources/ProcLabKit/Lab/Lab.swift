import Synchronization

/// Lab mode: experiments that must not run in the shell's own process
/// (crashes, deadlocks, fork semantics, work measured per process) run in a
/// fresh copy of proclab started with posix_spawn, in a hidden mode that runs
/// one experiment and reports back over a pipe.
public enum Lab {
  /// The first argument that puts proclab into lab mode.
  public static let modeArgument = "__lab"

  private static let cachedExecutable = Mutex<String?>(nil)

  /// The proclab binary lab children run: the running proclab itself
  /// (/proc/self/exe), or in tests the built `proclab` next to the test bundle.
  public static var executable: String {
    get {
      cachedExecutable.withLock { cached in
        if let cached { return cached }
        let found = locateExecutable()
        cached = found
        return found
      }
    }
    set { cachedExecutable.withLock { $0 = newValue } }
  }

  static func locateExecutable() -> String {
    if let env = Environment.nonEmpty("PROCLAB_EXECUTABLE") { return env }
    let selfPath = ThisProcess.executablePath ?? ""
    if selfPath.hasSuffix("/proclab") { return selfPath }
    // Running inside a test bundle: the proclab product sits beside it.
    var dir = selfPath.split(separator: "/", omittingEmptySubsequences: false).dropLast()
    for _ in 0..<4 where !dir.isEmpty {
      let candidate = (dir + ["proclab"]).joined(separator: "/")
      if FileSystem.isExecutableFile(candidate) { return candidate }
      dir = dir.dropLast()
    }
    return "/proc/self/exe"
  }

  /// The environment every lab child gets: the Swift backtracer off, so a
  /// crash is quick and quiet and never waits on the terminal; and the PID of
  /// the process starting it, so the child can tell whether that parent died
  /// before it tied its life to it (ParentDeath).
  static func environment(extra: [String: String]) -> [String: String] {
    var env = [
      "SWIFT_BACKTRACE": "enable=no", "PROCLAB_LAB": "1", ParentDeath.parentVariable: String(ThisProcess.id),
    ]
    if Trace.isEnabled { env["PROCLAB_TRACE"] = "1" }
    for (k, v) in extra { env[k] = v }
    return env
  }

  /// Runs one experiment in a lab child and waits for its result (or its end),
  /// killing it at the timeout or on Ctrl-C.
  public static func run(
    _ experiment: String, _ request: JSON = [:], timeout: Duration = .seconds(30),
    environment: [String: String] = [:]
  ) throws -> LabRun {
    let child = try LabProcess.start(experiment, request, environment: environment)
    return try child.finish(timeout: timeout)
  }
}

/// What the runner learned about a lab child that has ended.
public struct LabRun: Sendable {
  public var pid: Int32
  /// The experiment's final result, if it sent one before it ended.
  public var result: JSON?
  /// Every message the child sent, in order (the result is the last).
  public var messages: [JSON]
  public var status: TerminationStatus
  public var usage: ResourceUsage
  public var elapsed: Duration
  /// The last lines the child wrote to its standard error.
  public var lastOutput: [String]
  public var timedOut: Bool
  /// The system calls the child recorded, when tracing was on.
  public var trace: [TraceCall]
}
