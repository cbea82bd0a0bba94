import Glibc

/// Starting programs with posix_spawn(3): the way proclab creates lab children
/// and runs `spawn --exec` programs.
public enum Spawn {
  /// Which process group the child starts in (POSIX_SPAWN_SETPGROUP).
  public enum ProcessGroup: Sendable, Equatable {
    /// A group of its own, led by the child: Ctrl-C at the terminal reaches only
    /// the shell, which then stops the group.
    case own
    /// An existing group of the same session (an `ExecGroup` the shell keeps).
    case join(Int32)
  }

  public struct Options: Sendable {
    public var processGroup = ProcessGroup.own
    /// Descriptors the child gets: (child's fd number, parent's fd to dup2 onto it).
    public var descriptors: [(Int32, Int32)] = []
    /// Extra environment entries, added to (or replacing) the shell's.
    public var environment: [String: String] = [:]
    public init() {}
  }

  /// posix_spawn(&pid, path, file_actions, attr, argv, envp): returns the child's PID.
  /// Signal dispositions the shell changed are reset to default and the signal mask
  /// cleared in the child (POSIX_SPAWN_SETSIGDEF, POSIX_SPAWN_SETSIGMASK).
  /// glibc runs the child with clone(CLONE_VM|CLONE_VFORK) and returns after its execve.
  public static func spawn(path: String, arguments: [String], options: Options = Options()) throws -> Int32 {
    var actions = posix_spawn_file_actions_t()
    try check("posix_spawn_file_actions_init", posix_spawn_file_actions_init(&actions))
    defer { posix_spawn_file_actions_destroy(&actions) }
    for (childFD, parentFD) in options.descriptors {
      try check(
        "posix_spawn_file_actions_adddup2", posix_spawn_file_actions_adddup2(&actions, parentFD, childFD))
    }

    var attr = posix_spawnattr_t()
    try check("posix_spawnattr_init", posix_spawnattr_init(&attr))
    defer { posix_spawnattr_destroy(&attr) }
    let group: Int32
    switch options.processGroup {
    case .own: group = 0
    case .join(let leader): group = leader
    }
    try check("posix_spawnattr_setpgroup", posix_spawnattr_setpgroup(&attr, group))
    let flags = Int32(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP)
    try check("posix_spawnattr_setflags", posix_spawnattr_setflags(&attr, Int16(flags)))
    var defaults = sigset_t()
    sigemptyset(&defaults)
    for s in [SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGCHLD, SIGQUIT, SIGSEGV, SIGUSR1, SIGUSR2] {
      sigaddset(&defaults, s)
    }
    try check("posix_spawnattr_setsigdefault", posix_spawnattr_setsigdefault(&attr, &defaults))
    var empty = sigset_t()
    sigemptyset(&empty)
    try check("posix_spawnattr_setsigmask", posix_spawnattr_setsigmask(&attr, &empty))

    var env = Environment.current()
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

  /// The posix_spawn family returns an error number instead of setting errno.
  private static func check(_ call: String, _ rc: Int32) throws {
    if rc != 0 { throw SystemError(call, errno: rc) }
  }

  /// Finds a program on PATH the way execvp would (access(2) X_OK and stat(2):
  /// an executable that is not a directory), or nil.
  public static func resolve(program: String) -> String? {
    if program.contains("/") { return FileSystem.isExecutableFile(program) ? program : nil }
    let path = Environment.value("PATH") ?? "/usr/bin:/bin"
    for dir in path.split(separator: ":", omittingEmptySubsequences: false) {
      let candidate = "\(dir.isEmpty ? "." : String(dir))/\(program)"
      if FileSystem.isExecutableFile(candidate) { return candidate }
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

  /// Ends a process and everything in its process group: kill(-pid, SIGKILL) for
  /// the group it leads (if it leads one) and kill(pid, SIGKILL) for itself.
  /// SIGKILL ends a stopped process too.
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
