import CLab
import Foundation
import Glibc

/// Starting programs with posix_spawn(3): the way proclab creates lab children
/// and runs `spawn --exec` programs.
public enum Spawn {
  public struct Options: Sendable {
    /// Put the child in a process group of its own (POSIX_SPAWN_SETPGROUP), so
    /// Ctrl-C at the terminal reaches only the shell, which then stops the group.
    public var ownProcessGroup = true
    /// Descriptors the child gets: (child's fd number, parent's fd to dup2 onto it).
    public var descriptors: [(Int32, Int32)] = []
    /// Extra environment entries, added to (or replacing) the shell's.
    public var environment: [String: String] = [:]
    public init() {}
  }

  /// posix_spawn(&pid, path, file_actions, attr, argv, envp): returns the child's PID.
  /// Signal dispositions are reset to default and the signal mask cleared in the child.
  public static func spawn(path: String, arguments: [String], options: Options = Options()) throws -> Int32 {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    for (childFD, parentFD) in options.descriptors {
      posix_spawn_file_actions_adddup2(&actions, parentFD, childFD)
    }

    var attr = posix_spawnattr_t()
    posix_spawnattr_init(&attr)
    defer { posix_spawnattr_destroy(&attr) }
    var flags = Int32(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK)
    if options.ownProcessGroup {
      flags |= Int32(POSIX_SPAWN_SETPGROUP)
      posix_spawnattr_setpgroup(&attr, 0)
    }
    posix_spawnattr_setflags(&attr, Int16(flags))
    var defaults = sigset_t()
    sigemptyset(&defaults)
    for s in [SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGCHLD, SIGQUIT, SIGSEGV, SIGUSR1, SIGUSR2] {
      sigaddset(&defaults, s)
    }
    posix_spawnattr_setsigdefault(&attr, &defaults)
    var empty = sigset_t()
    sigemptyset(&empty)
    posix_spawnattr_setsigmask(&attr, &empty)

    var env = Spawn.currentEnvironment()
    for (k, v) in options.environment { env[k] = v }
    let envStrings = env.map { "\($0.key)=\($0.value)" }

    let argv = arguments.map { strdup($0) } + [nil]
    let envp = envStrings.map { strdup($0) } + [nil]
    defer {
      argv.forEach { free($0) }
      envp.forEach { free($0) }
    }
    var pid: pid_t = 0
    let start = MonotonicClock.nanoseconds()
    let rc = argv.withUnsafeBufferPointer { a in
      envp.withUnsafeBufferPointer { e in
        posix_spawn(&pid, path, &actions, &attr, a.baseAddress!, e.baseAddress!)
      }
    }
    let shown =
      arguments.count > 1 ? "\(path), \(arguments.dropFirst().prefix(3).joined(separator: " "))" : path
    Trace.record(
      "posix_spawn", shown, result: rc == 0 ? "pid \(pid)" : "-1 \(SystemError.name(of: rc))", since: start)
    if rc != 0 { throw SystemError("posix_spawn", errno: rc) }
    return pid
  }

  static func currentEnvironment() -> [String: String] {
    var env: [String: String] = [:]
    var p = environ
    while let entry = p.pointee {
      let s = String(cString: entry)
      if let eq = s.firstIndex(of: "=") { env[String(s[..<eq])] = String(s[s.index(after: eq)...]) }
      p += 1
    }
    return env
  }

  /// Finds a program on PATH the way execvp would, or nil.
  public static func resolve(program: String) -> String? {
    if program.contains("/") { return access(program, X_OK) == 0 ? program : nil }
    let path = String(cString: getenv("PATH") ?? strdup("/usr/bin:/bin"))
    for dir in path.split(separator: ":") {
      let candidate = "\(dir)/\(program)"
      var isDirectory: ObjCBool = false
      if access(candidate, X_OK) == 0
        && FileManager.default.fileExists(atPath: candidate, isDirectory: &isDirectory)
        && !isDirectory.boolValue
      {
        return candidate
      }
    }
    return nil
  }
}

/// Sending signals (kill(2)).
public enum SignalSender {
  /// kill(pid, sig), ignoring failure (the process may be gone already). Used in cleanup.
  public static func sendQuietly(_ signal: Int32, to pid: Int32) {
    let start = MonotonicClock.nanoseconds()
    let rc = Glibc.kill(pid, signal)
    Trace.record(
      "kill", "\(pid), \(Signals.name(signal))", result: rc == 0 ? "0" : "-1 \(SystemError.name(of: errno))",
      since: start)
  }

  /// Ends a process and everything in its process group: SIGKILL to the group and to the
  /// process, SIGCONT in case it was stopped.
  public static func killGroup(_ pid: Int32) {
    sendQuietly(SIGKILL, to: -pid)
    sendQuietly(SIGKILL, to: pid)
  }

  /// kill(pid, sig). A negative pid names a process group.
  public static func send(_ signal: Int32, to pid: Int32) throws {
    try Trace.call("kill", "\(pid), \(Signals.name(signal))", describe: { _ in "0" }) {
      Glibc.kill(pid, signal)
    }
  }
}

/// Resource limits (setrlimit(2)) a lab child applies to itself before the experiment.
public enum ResourceLimits {
  public static let core = Int32(RLIMIT_CORE.rawValue)
  public static let cpu = Int32(RLIMIT_CPU.rawValue)
  public static let addressSpace = Int32(RLIMIT_AS.rawValue)
  public static let processes = Int32(__RLIMIT_NPROC.rawValue)
  public static let stack = Int32(RLIMIT_STACK.rawValue)

  /// setrlimit(resource, {value, value}); lowers only, never raises.
  public static func lower(_ resource: Int32, to value: UInt64) {
    _ = clab_lower_limit(resource, value)
  }

  /// getrlimit(resource): the soft limit (UInt64.max when unlimited).
  public static func soft(_ resource: Int32) -> UInt64 { clab_soft_limit(resource) }
}
