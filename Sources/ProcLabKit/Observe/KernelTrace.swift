import Glibc

/// The shell's side of the kernel trace behind `set trace on`: before a command
/// runs, start the tracer (a lab copy of proclab) and wait until it has seized
/// every thread of the shell; after the command, ask it to detach (SIGINT) and
/// join what the kernel ran with the library calls the shell recorded.
///
/// Why a separate tracer and not the command in a traced child: commands keep
/// state in the shell (held children, the process book, lessons), so they must
/// run in the shell itself, and a process cannot ptrace itself or its own threads.
final class KernelTracer {
  let lab: LabProcess
  let attached: UInt64

  private init(lab: LabProcess, attached: UInt64) {
    self.lab = lab
    self.attached = attached
  }

  /// Commands whose kernel side is not traced: `observe` and `verify` trace programs
  /// themselves (a process has one tracer), and the shell's, lessons' and transcripts'
  /// own verbs are bookkeeping, not the learner's experiment.
  static func applies(to command: Command) -> Bool {
    command.area != .programs && TraceWindow.records(command)
  }

  /// Starts the tracer and waits until it traces every thread of the shell;
  /// the reason as text when it cannot (ptrace refused, already traced).
  static func start(limit: Int) -> Result<KernelTracer, KernelTraceFailure> {
    let lab: LabProcess
    do {
      lab = try LabProcess.start("kernel-trace", ["pid": .int(Int(ThisProcess.id)), "limit": .int(limit)])
    } catch {
      return .failure(KernelTraceFailure(reason: "the tracer could not start: \(error)"))
    }
    HelperProcesses.add(lab.pid)
    // Under Yama's ptrace_scope 1 a child may not trace its parent unless allowed.
    Ptrace.allowTracer(lab.pid)
    do {
      if let message = try lab.nextMessage(timeout: .seconds(5)),
        message["message"]?["ready"]?.boolValue == true
      {
        return .success(KernelTracer(lab: lab, attached: MonotonicClock.nanoseconds()))
      }
    } catch {}
    let run = try? lab.finish(timeout: .seconds(30))
    HelperProcesses.remove(lab.pid)
    let reason = run?.messages.last?["error"]?.stringValue ?? "the tracer did not attach in time"
    return .failure(KernelTraceFailure(reason: reason))
  }

  /// Detaches (the tracer lets every thread go at its next stop) and reads the record.
  func stop() -> (calls: [KernelCall], created: [CreatedTask], dropped: Int) {
    try? lab.signal(SIGINT)
    let run = try? lab.finish(timeout: MonotonicClock.since(lab.started) + .seconds(30))
    HelperProcesses.remove(lab.pid)
    let result = run?.result ?? [:]
    let calls = (result["calls"]?.arrayValue ?? []).compactMap(KernelCall.init(json:))
    let created = (result["created"]?.arrayValue ?? []).compactMap(CreatedTask.init(json:))
    return (calls, created, result["dropped"]?.intValue ?? 0)
  }
}

public struct KernelTraceFailure: Error, Sendable {
  public let reason: String
}

/// A process or thread the traced command created.
public struct CreatedTask: Sendable, Equatable {
  public var tid: Int32
  public var pid: Int32
  public var parent: Int32
  /// fork, vfork, clone or clone3.
  public var via: String
  public var isThread: Bool
  public var at: UInt64

  init?(json j: JSON) {
    guard let tid = j["tid"]?.intValue, let pid = j["pid"]?.intValue else { return nil }
    self.tid = Int32(tid)
    self.pid = Int32(pid)
    parent = Int32(j["parent"]?.intValue ?? 0)
    via = j["via"]?.stringValue ?? "clone"
    isThread = j["thread"]?.boolValue ?? false
    at = UInt64(max(0, j["ns"]?.intValue ?? 0))
  }

  var json: JSON {
    [
      "tid": .int(Int(tid)), "pid": .int(Int(pid)), "parent": .int(Int(parent)), "via": .string(via),
      "thread": .bool(isThread),
    ]
  }
}

/// Opens and closes the trace around one command (Session.run).
public struct TraceWindow {
  let tracer: KernelTracer?
  let failure: String?
  let enabled: Bool
  let start: UInt64
  let command: Command

  /// Whether a command's calls are the learner's experiment: the lesson engine's and the
  /// transcripts' verbs, and the shell's settings and help, are its own bookkeeping
  /// (saving progress, reading lesson files), never shown in the trace.
  static func records(_ command: Command) -> Bool {
    switch command.area {
    case .lessons, .transcripts: return false
    case .shell:
      return !["set", "trace", "help", "explain", "history", "quit", "exit"].contains(command.name)
    default: return true
    }
  }

  /// How many system calls the tracer follows before it lets go. A measurement under ptrace
  /// would time the tracer's stops: `cost` and `switch` are followed for their first calls
  /// only (the warm-up, which they discard), then run untraced.
  static func limit(for command: Command) -> Int {
    command.area == .measurement ? 400 : KernelTraceLab.limit
  }

  /// Before the command: the kernel tracer first (its own start is not the command's),
  /// then the library-call record.
  public static func open(_ on: Bool, for command: Command) -> TraceWindow {
    var tracer: KernelTracer?
    var failure: String?
    if on && KernelTracer.applies(to: command) {
      switch KernelTracer.start(limit: limit(for: command)) {
      case .success(let t): tracer = t
      case .failure(let f): failure = f.reason
      }
    }
    let enabled = on && records(command)
    Trace.isEnabled = enabled
    _ = Trace.drain()
    return TraceWindow(
      tracer: tracer, failure: failure, enabled: enabled, start: MonotonicClock.nanoseconds(),
      command: command)
  }

  /// After the command: the library calls, joined with what the kernel ran for them.
  public func close(into outcome: inout Outcome) {
    let end = MonotonicClock.nanoseconds()
    let taken = Trace.drainAll()
    Trace.isEnabled = false
    outcome.trace = taken.calls
    guard enabled else { return }
    guard let tracer else {
      if let failure {
        outcome.kernel = KernelTraceReport(note: "the kernel's side is not shown: \(failure)")
      }
      return
    }
    // After Ctrl-C the record is still worth showing: stop the tracer as usual (LabProcess
    // would kill it at once while the interrupt flag is up), then raise the flag again.
    let interrupted = Interrupt.isRequested
    Interrupt.clear()
    let record = tracer.stop()
    if interrupted { Interrupt.request() }
    var join = KernelTraceJoin(
      library: taken.calls, kernel: record.calls, created: record.created, shell: ThisProcess.id,
      window: (start, end), hidden: taken.hidden)
    join.cut = record.dropped > 0
    join.measurement = KernelTracer.applies(to: command) && command.area == .measurement
    let (calls, report) = join.run()
    outcome.trace = calls
    outcome.kernel = report
  }
}
