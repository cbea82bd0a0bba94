import CLab
import Glibc

/// Starting a program under ptrace, the way strace does with PTRACE_SEIZE: the
/// forked child stops itself (raise(SIGSTOP)) before execve, the tracer seizes
/// it while it is stopped and sends SIGCONT, so the tracer sees the program from
/// its very first call (its execve).
public enum PtraceLaunch {
  /// A seized, running child and how it was set up.
  public struct Child: Sendable {
    public let pid: Int32
    /// Readable once execve succeeded (end of file: the pipe was close-on-exec) or failed (an errno).
    public let execErrors: Int32
  }

  /// fork (clab_observe_start: dup2 onto 0–2, default signals, PR_SET_PDEATHSIG, raise(SIGSTOP),
  /// execve), then waitpid(WUNTRACED) for its stop, PTRACE_SEIZE with `options`, kill(SIGCONT).
  /// On failure the child is killed and reaped before the error is thrown.
  public static func start(
    path: String, arguments: [String], environment: [String], stdin: Int32, stdout: Int32, stderr: Int32,
    options: Ptrace.Options
  ) throws -> Child {
    let errors = try Descriptors.pipe()
    let argv = arguments.map { strdup($0) } + [nil]
    let envp = environment.map { strdup($0) } + [nil]
    defer {
      argv.forEach { free($0) }
      envp.forEach { free($0) }
    }
    let pid: Int32
    do {
      pid = try argv.withUnsafeBufferPointer { a in
        try envp.withUnsafeBufferPointer { e in
          try systemCall("fork") {
            clab_observe_start(path, a.baseAddress!, e.baseAddress!, stdin, stdout, stderr, errors.write)
          }
        }
      }
    } catch {
      Descriptors.close(errors.read)
      Descriptors.close(errors.write)
      throw error
    }
    Descriptors.close(errors.write)
    do {
      let status = try Ptrace.waitForStop(pid)
      guard status == .stopped(SIGSTOP) else {
        throw SystemError("waitpid", errno: ECHILD)
      }
      try Ptrace.seize(pid, options: options)
      try systemCall("kill") { Glibc.kill(pid, SIGCONT) }
    } catch {
      _ = Glibc.kill(pid, SIGKILL)
      _ = Wait.reap(pid)
      Descriptors.close(errors.read)
      throw error
    }
    return Child(pid: pid, execErrors: errors.read)
  }

  /// The errno execve failed with, read from the child's close-on-exec pipe; nil if it succeeded.
  public static func execError(_ child: Child) -> Int32? {
    guard let bytes = try? Descriptors.read(child.execErrors, max: 4), bytes.count == 4 else { return nil }
    return bytes.withUnsafeBytes { $0.loadUnaligned(as: Int32.self) }
  }
}
