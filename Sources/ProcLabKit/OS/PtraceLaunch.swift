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

/// Attaching to a running process's threads, the way `strace -p` does: each
/// thread is seized (PTRACE_SEIZE) and stopped (PTRACE_INTERRUPT), so the
/// tracer can turn on syscall stops at its first stop. Threads created while
/// listing are caught by listing /proc/PID/task again until nothing is new;
/// threads created after that are followed by PTRACE_O_TRACECLONE.
public enum PtraceAttach {
  /// Seizes and interrupts every thread of `pid`; returns their TIDs. A refusal
  /// right after start is retried briefly: under Yama the traced process allows
  /// its tracer with PR_SET_PTRACER a moment after starting it.
  public static func seizeAll(_ pid: Int32, options: Ptrace.Options) throws -> [Int32] {
    // A thread has one tracer: under strace or gdb, PTRACE_SEIZE can only fail (EPERM).
    if let tracer = ProcFS.status(pid, field: "TracerPid").flatMap({ Int32($0) }), tracer != 0 {
      throw AlreadyTraced(tracer: tracer)
    }
    var seized: [Int32] = []
    var rounds = 0
    while rounds < 20 {
      rounds += 1
      let fresh = ProcFS.threads(of: pid).filter { !seized.contains($0) }
      if fresh.isEmpty && !seized.isEmpty { break }
      for tid in fresh {
        var tries = 0
        while true {
          do {
            try Ptrace.seize(tid, options: options)
            break
          } catch let e as SystemError where e.errno == EPERM && tries < 20 {
            tries += 1
            MonotonicClock.pause(.milliseconds(10))
          } catch let e as SystemError where e.errno == ESRCH {
            _ = e  // the thread ended meanwhile
            break
          }
        }
        if (try? Ptrace.interrupt(tid)) != nil { seized.append(tid) }
      }
    }
    if seized.isEmpty { throw SystemError("ptrace(seize)", errno: ESRCH) }
    return seized
  }
}

/// The process already has a tracer (strace, gdb): a thread can have only one.
public struct AlreadyTraced: Error, CustomStringConvertible {
  public let tracer: Int32
  public var description: String {
    let name = ProcFS.stat(tracer)?.command ?? "another process"
    return
      "proclab is already traced by \(Printable.word(name)) (\(tracer)), and a thread can have only one tracer"
  }
}
