import CLab
import Glibc
import Synchronization

/// One library call proclab made (through its OS layer), for `set trace on`,
/// with the system calls the kernel ran for it once the kernel trace is joined.
public struct TraceCall: Sendable, Equatable {
  public var pid: Int32
  public var tid: Int32
  public var name: String
  public var arguments: String
  public var result: String
  public var nanoseconds: Int64
  /// When it began (MonotonicClock, the same clock in every process); 0 when unknown.
  public var start: UInt64
  /// A summary of many calls made elsewhere (`×4000 turns (in the workers)`): its
  /// duration is the whole run's, not one call's.
  public var aggregate: Bool
  /// What the kernel ran for it: filled in by the kernel trace (KernelTraceJoin).
  public var kernel: [KernelCall] = []

  public init(
    pid: Int32, tid: Int32, name: String, arguments: String, result: String, nanoseconds: Int64,
    start: UInt64 = 0, aggregate: Bool = false
  ) {
    self.pid = pid
    self.tid = tid
    self.name = name
    self.arguments = arguments
    self.result = result
    self.nanoseconds = nanoseconds
    self.start = start
    self.aggregate = aggregate
  }

  public var end: UInt64 { start &+ UInt64(max(0, nanoseconds)) }

  public var json: JSON {
    var o: JSON = [
      "pid": .int(Int(pid)), "tid": .int(Int(tid)), "call": .string(name), "args": .string(arguments),
      "result": .string(result), "ns": .int(Int(nanoseconds)), "start_ns": .int(Int(clamping: start)),
    ]
    if case .object(var fields) = o {
      if aggregate { fields["aggregate"] = .bool(true) }
      if !kernel.isEmpty { fields["kernel"] = .array(kernel.map(\.json)) }
      o = .object(fields)
    }
    return o
  }

  public init?(json: JSON) {
    guard let name = json["call"]?.stringValue else { return nil }
    self.init(
      pid: Int32(json["pid"]?.intValue ?? 0), tid: Int32(json["tid"]?.intValue ?? 0), name: name,
      arguments: json["args"]?.stringValue ?? "", result: json["result"]?.stringValue ?? "",
      nanoseconds: Int64(json["ns"]?.intValue ?? 0), start: UInt64(max(0, json["start_ns"]?.intValue ?? 0)),
      aggregate: json["aggregate"]?.boolValue ?? false)
    kernel = (json["kernel"]?.arrayValue ?? []).compactMap(KernelCall.init(json:))
  }

  /// `wait4(4312) = exited 0 (0.41 ms)`; an aggregate says its time is the whole run's.
  public var rendered: String {
    let time = Units.duration(.nanoseconds(nanoseconds))
    return "\(name)(\(arguments)) = \(result) (\(aggregate ? "whole run \(time)" : time))"
  }
}

/// One system call the kernel ran, as the kernel trace saw it.
public struct KernelCall: Sendable, Equatable {
  public var pid: Int32
  public var tid: Int32
  public var name: String
  /// Decoded: `clone3(CLONE_VM|CLONE_VFORK, exit SIGCHLD, …) = 4312`.
  public var text: String
  public var start: UInt64
  public var nanoseconds: Int64

  public init(pid: Int32, tid: Int32, name: String, text: String, start: UInt64, nanoseconds: Int64) {
    self.pid = pid
    self.tid = tid
    self.name = name
    self.text = text
    self.start = start
    self.nanoseconds = nanoseconds
  }

  public var end: UInt64 { start &+ UInt64(max(0, nanoseconds)) }

  public var json: JSON {
    [
      "pid": .int(Int(pid)), "tid": .int(Int(tid)), "call": .string(name), "text": .string(text),
      "start_ns": .int(Int(clamping: start)), "ns": .int(Int(nanoseconds)),
    ]
  }

  public init?(json: JSON) {
    guard let name = json["call"]?.stringValue, let tid = json["tid"]?.intValue else { return nil }
    self.init(
      pid: Int32(json["pid"]?.intValue ?? tid), tid: Int32(tid), name: name,
      text: json["text"]?.stringValue ?? name,
      start: UInt64(max(0, json["start_ns"]?.intValue ?? 0)), nanoseconds: Int64(json["ns"]?.intValue ?? 0))
  }
}

/// The record of calls made while tracing is on. Every OS wrapper reports here;
/// when tracing is off, `record` returns after one relaxed atomic load.
public enum Trace {
  private struct State {
    var calls: [TraceCall] = []
    var dropped = 0
    /// Windows of the shell's own bookkeeping (saving progress): hidden from the trace,
    /// and the kernel calls inside them too.
    var hidden: [(tid: Int32, start: UInt64, end: UInt64)] = []
  }
  private static let state = Mutex(State())
  private static let enabled = Atomic<Bool>(false)
  /// getpid(2) once per process: Swift code never runs in a forked child
  /// before exec, so the value cannot go stale.
  private static let processID = getpid()

  /// Keeps memory bounded when a command makes millions of calls.
  public static let limit = 10_000

  public static var dropped: Int { state.withLock { $0.dropped } }

  public static var isEnabled: Bool {
    get { enabled.load(ordering: .relaxed) }
    set { enabled.store(newValue, ordering: .relaxed) }
  }

  /// Records a call that started at `since` (MonotonicClock.nanoseconds()).
  @inline(__always)
  public static func record(
    _ name: String, _ arguments: @autoclosure () -> String, result: @autoclosure () -> String,
    since start: UInt64
  ) {
    guard isEnabled else { return }
    let elapsed = Int64(MonotonicClock.nanoseconds() &- start)
    append(
      TraceCall(
        pid: processID, tid: clab_cached_tid(), name: name, arguments: arguments(), result: result(),
        nanoseconds: elapsed, start: start))
  }

  /// Records a summary of many calls made elsewhere (by worker threads or processes,
  /// in C) between `since` and now: shown with its count, its time marked as the whole run's.
  public static func recordAggregate(
    _ name: String, _ arguments: @autoclosure () -> String, result: @autoclosure () -> String,
    since start: UInt64
  ) {
    guard isEnabled else { return }
    append(
      TraceCall(
        pid: processID, tid: clab_cached_tid(), name: name, arguments: arguments(), result: result(),
        nanoseconds: Int64(MonotonicClock.nanoseconds() &- start), start: start, aggregate: true))
  }

  public static func append(_ call: TraceCall) {
    guard isEnabled else { return }
    state.withLock { s in
      if s.calls.count < limit { s.calls.append(call) } else { s.dropped += 1 }
    }
  }

  public static func append(contentsOf more: [TraceCall]) {
    for c in more { append(c) }
  }

  /// Runs the shell's own bookkeeping (saving progress, reading lesson files) without
  /// recording it: the trace shows the learner's command, not the shell's housekeeping.
  public static func withoutRecording<T>(_ body: () throws -> T) rethrows -> T {
    let was = isEnabled
    guard was else { return try body() }
    isEnabled = false
    let start = MonotonicClock.nanoseconds()
    defer {
      let end = MonotonicClock.nanoseconds()
      let tid = clab_cached_tid()
      state.withLock { $0.hidden.append((tid, start, end)) }
      isEnabled = was
    }
    return try body()
  }

  /// Whether a kernel call on `tid` at `time` happened inside the shell's bookkeeping.
  public static func isHidden(
    tid: Int32, at time: UInt64, in windows: [(tid: Int32, start: UInt64, end: UInt64)]
  )
    -> Bool
  {
    windows.contains { $0.tid == tid && $0.start <= time && time <= $0.end }
  }

  /// Takes every call recorded so far and starts a fresh record.
  public static func drain() -> [TraceCall] { drainAll().calls }

  /// Takes the calls and the hidden windows.
  public static func drainAll() -> (calls: [TraceCall], hidden: [(tid: Int32, start: UInt64, end: UInt64)]) {
    state.withLock { s in
      let taken = (s.calls, s.hidden)
      s = State()
      return taken
    }
  }

  /// Runs `body`, a call that returns -1 with errno on failure, and records it.
  @discardableResult
  public static func call<T: BinaryInteger>(
    _ name: String, _ arguments: @autoclosure () -> String, retryOnInterrupt: Bool = true,
    describe: (T) -> String = { "\($0)" }, _ body: () -> T
  ) throws -> T {
    let start = MonotonicClock.nanoseconds()
    do {
      let r = try systemCall(name, retryOnInterrupt: retryOnInterrupt, body)
      record(name, arguments(), result: describe(r), since: start)
      return r
    } catch let e as SystemError {
      record(name, arguments(), result: "-1 \(e.name)", since: start)
      throw e
    }
  }
}
