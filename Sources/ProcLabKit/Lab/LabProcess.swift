/// A running lab child: its PID, the pipe it reports on, and the pipe its
/// standard error goes to. `finish` always kills what is left and reaps it.
public final class LabProcess {
  public let pid: Int32
  public let started: UInt64
  private var reportFD: Int32
  private var errorFD: Int32
  private var pendingReport: [UInt8] = []
  private var errorText: [UInt8] = []
  public private(set) var messages: [JSON] = []
  /// How many messages `nextMessage` has handed out so far.
  private var delivered = 0
  private var reaped: ReapedChild?

  private init(pid: Int32, reportFD: Int32, errorFD: Int32, started: UInt64) {
    self.pid = pid
    self.reportFD = reportFD
    self.errorFD = errorFD
    self.started = started
  }

  deinit {
    if reaped == nil { killAndReap() }
    closePipes()
  }

  /// Starts `proclab __lab EXPERIMENT REQUEST-JSON` with posix_spawn; its stdout
  /// is the report pipe, its stderr is captured.
  public static func start(_ experiment: String, _ request: JSON = [:], environment: [String: String] = [:])
    throws -> LabProcess
  {
    let report = try Descriptors.pipe()
    let errors: (read: Int32, write: Int32)
    do { errors = try Descriptors.pipe() } catch {
      Descriptors.close(report.read)
      Descriptors.close(report.write)
      throw error
    }
    var options = Spawn.Options()
    options.descriptors = [(1, report.write), (2, errors.write)]
    options.environment = Lab.environment(extra: environment)
    let started = MonotonicClock.nanoseconds()
    let pid: Int32
    do {
      pid = try Spawn.spawn(
        path: Lab.executable, arguments: ["proclab", Lab.modeArgument, experiment, request.serialized],
        options: options)
    } catch {
      for fd in [report.read, report.write, errors.read, errors.write] { Descriptors.close(fd) }
      throw error
    }
    Descriptors.close(report.write)
    Descriptors.close(errors.write)
    return LabProcess(pid: pid, reportFD: report.read, errorFD: errors.read, started: started)
  }

  /// Waits for the child's next message (one JSON line), up to `timeout`.
  /// Returns nil if the child ended or the time ran out first; throws on Ctrl-C.
  public func nextMessage(timeout: Duration) throws -> JSON? {
    let deadline = MonotonicClock.nanoseconds() + UInt64(max(0, timeout.nanoseconds))
    // Several messages may arrive in one read: hand them out one by one, in order.
    while delivered >= messages.count {
      if reportFD < 0 { return nil }
      let now = MonotonicClock.nanoseconds()
      if now >= deadline { return nil }
      if Interrupt.isRequested { throw Interrupted() }
      pump(for: .nanoseconds(Int64(min(deadline - now, 20_000_000))))
    }
    delivered += 1
    return messages[delivered - 1]
  }

  /// Reads whatever the child has written within `slice`.
  private func pump(for slice: Duration) {
    let open = [reportFD, errorFD].filter { $0 >= 0 }
    if open.isEmpty { return }
    let ready = Descriptors.readable(open, timeout: slice)
    for fd in ready {
      guard let chunk = Descriptors.readSome(fd) else {
        Descriptors.close(fd)
        if fd == reportFD { reportFD = -1 } else { errorFD = -1 }
        continue
      }
      if fd == reportFD {
        pendingReport.append(contentsOf: chunk)
        while let nl = pendingReport.firstIndex(of: 10) {
          let line = String(decoding: pendingReport[..<nl], as: UTF8.self)
          pendingReport.removeSubrange(...nl)
          if let message = JSON.parse(line) { messages.append(message) }
        }
      } else {
        errorText.append(contentsOf: chunk)
        if errorText.count > 65536 { errorText.removeFirst(errorText.count - 65536) }
      }
    }
  }

  /// Waits for the child to end (reading its reports), killing its whole
  /// process group at the timeout or on Ctrl-C, then reaps it with wait4.
  /// Throws `Interrupted` (after cleaning up) if Ctrl-C stopped it.
  public func finish(timeout: Duration) throws -> LabRun {
    let deadline = started + UInt64(max(0, timeout.nanoseconds))
    var timedOut = false
    var interrupted = false
    while reaped == nil {
      if Interrupt.isRequested {
        interrupted = true
        break
      }
      if MonotonicClock.nanoseconds() >= deadline {
        timedOut = true
        break
      }
      if reportFD >= 0 || errorFD >= 0 {
        pump(for: .milliseconds(20))
      } else {
        reaped = try? Wait.wait4(pid, timeout: .milliseconds(20))
      }
    }
    if reaped == nil { killAndReap() }
    // Whatever was written before the end is still worth reading.
    while reportFD >= 0 || errorFD >= 0 { pump(for: .milliseconds(5)) }
    closePipes()
    if interrupted { throw Interrupted() }
    return run(timedOut: timedOut)
  }

  /// Sends a signal to the child alone (kill(2)).
  public func signal(_ sig: Int32) throws { try SignalSender.send(sig, to: pid) }

  /// Kills the child's process group with SIGKILL and reaps the child.
  public func killAndReap() {
    guard reaped == nil else { return }
    SignalSender.killGroup(pid)
    reaped = Wait.reap(pid)
  }

  private func closePipes() {
    for fd in [reportFD, errorFD] where fd >= 0 { Descriptors.close(fd) }
    reportFD = -1
    errorFD = -1
  }

  private func run(timedOut: Bool) -> LabRun {
    let final = messages.last
    let trace = (final?["trace"]?.arrayValue ?? []).compactMap(TraceCall.init(json:))
    // The child's calls join the shell's trace, so one trace covers both sides.
    Trace.append(contentsOf: trace)
    let text = String(decoding: errorText, as: UTF8.self)
    let lines = text.split(separator: "\n", omittingEmptySubsequences: true).suffix(5).map(String.init)
    return LabRun(
      pid: pid, result: final?["result"], messages: messages,
      status: reaped?.status ?? .signaled(Signals.kill, coreDumped: false),
      usage: reaped?.usage ?? ResourceUsage(),
      elapsed: MonotonicClock.since(started), lastOutput: lines, timedOut: timedOut, trace: trace)
  }
}
