import Glibc

/// Running a program to its end and keeping what it printed: the C compiler for
/// `verify`, and the repeated untraced runs of an exercise.
public enum ProgramRun {
  public struct Result: Sendable {
    public var status: TerminationStatus
    /// Standard output and error together, as the program wrote them (at most `limit` bytes).
    public var output: String
    public var timedOut: Bool
    public var elapsed: Duration
  }

  /// posix_spawn(path, arguments) with /dev/null as stdin and one pipe for stdout and stderr,
  /// read with poll(2) until end of file; wait4 reaps it. At the timeout or on Ctrl-C its
  /// process group is killed (SIGKILL) and reaped, and Ctrl-C throws `Interrupted`.
  public static func run(
    _ path: String, _ arguments: [String], timeout: Duration, limit: Int = 64 * 1024,
    environment: [String: String] = [:]
  ) throws -> Result {
    let null = try Descriptors.openNull()
    defer { Descriptors.close(null) }
    let pipe = try Descriptors.pipe()
    var options = Spawn.Options()
    options.descriptors = [(0, null), (1, pipe.write), (2, pipe.write)]
    options.environment = environment
    let started = MonotonicClock.nanoseconds()
    let pid: Int32
    do { pid = try Spawn.spawn(path: path, arguments: arguments, options: options) } catch {
      Descriptors.close(pipe.read)
      Descriptors.close(pipe.write)
      throw error
    }
    Descriptors.close(pipe.write)
    defer { Descriptors.close(pipe.read) }
    var output: [UInt8] = []
    var open = true
    var timedOut = false
    let deadline = started + UInt64(max(0, timeout.nanoseconds))
    while open {
      if Interrupt.isRequested || MonotonicClock.nanoseconds() >= deadline {
        timedOut = !Interrupt.isRequested
        SignalSender.killGroup(pid)
        break
      }
      guard !Descriptors.readable([pipe.read], timeout: .milliseconds(50)).isEmpty else { continue }
      guard let bytes = Descriptors.readSome(pipe.read) else {
        open = false
        continue
      }
      output.append(contentsOf: bytes.prefix(max(0, limit - output.count)))
    }
    let reaped: ReapedChild?
    if timedOut || Interrupt.isRequested {
      reaped = Wait.reap(pid)
    } else {
      // The pipe closed: the program (or the last holder of its output) is done.
      reaped =
        try Wait.wait4(pid, timeout: .seconds(max(1, Int64(timeout.seconds))))
        ?? {
          SignalSender.killGroup(pid)
          return Wait.reap(pid)
        }()
    }
    if Interrupt.isRequested { throw Interrupted() }
    return Result(
      status: reaped?.status ?? .signaled(SIGKILL, coreDumped: false),
      output: String(decoding: output, as: UTF8.self), timedOut: timedOut,
      elapsed: MonotonicClock.since(started))
  }
}
