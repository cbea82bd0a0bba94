import CLab
import Glibc

/// One system call (or libc call) the OS layer made, for `set trace on`.
public struct TraceCall: Sendable, Equatable {
  public var pid: Int32
  public var tid: Int32
  public var name: String
  public var arguments: String
  public var result: String
  public var nanoseconds: Int64

  public init(pid: Int32, tid: Int32, name: String, arguments: String, result: String, nanoseconds: Int64) {
    self.pid = pid
    self.tid = tid
    self.name = name
    self.arguments = arguments
    self.result = result
    self.nanoseconds = nanoseconds
  }

  public var json: JSON {
    [
      "pid": .int(Int(pid)), "tid": .int(Int(tid)), "call": .string(name), "args": .string(arguments),
      "result": .string(result), "ns": .int(Int(nanoseconds)),
    ]
  }

  public init?(json: JSON) {
    guard let name = json["call"]?.stringValue else { return nil }
    self.init(
      pid: Int32(json["pid"]?.intValue ?? 0), tid: Int32(json["tid"]?.intValue ?? 0), name: name,
      arguments: json["args"]?.stringValue ?? "", result: json["result"]?.stringValue ?? "",
      nanoseconds: Int64(json["ns"]?.intValue ?? 0))
  }

  /// `wait4(4312) = exited 0 (0.41 ms)`
  public var rendered: String {
    "\(name)(\(arguments)) = \(result) (\(Units.duration(.nanoseconds(nanoseconds))))"
  }
}

/// The record of calls made while tracing is on. Every OS wrapper reports here;
/// when tracing is off, `record` returns after one relaxed flag check.
public enum Trace {
  nonisolated(unsafe) private static var enabledFlag = false
  nonisolated(unsafe) private static var calls: [TraceCall] = []
  nonisolated(unsafe) private static var lock = pthread_mutex_t()
  nonisolated(unsafe) private static var lockReady = false
  /// getpid(2) once per process: Swift code never runs in a forked child
  /// before exec, so the value cannot go stale.
  private static let processID = getpid()

  /// Keeps memory bounded when a command makes millions of calls.
  public static let limit = 10_000
  nonisolated(unsafe) public private(set) static var dropped = 0

  public static var isEnabled: Bool {
    get { enabledFlag }
    set {
      if !lockReady {
        pthread_mutex_init(&lock, nil)
        lockReady = true
      }
      enabledFlag = newValue
    }
  }

  /// Records a call that started at `since` (MonotonicClock.nanoseconds()).
  @inline(__always)
  public static func record(
    _ name: String, _ arguments: @autoclosure () -> String, result: @autoclosure () -> String,
    since start: UInt64
  ) {
    guard enabledFlag else { return }
    let elapsed = Int64(MonotonicClock.nanoseconds() &- start)
    let call = TraceCall(
      pid: processID, tid: clab_gettid(), name: name, arguments: arguments(), result: result(),
      nanoseconds: elapsed)
    append(call)
  }

  public static func append(_ call: TraceCall) {
    guard lockReady && enabledFlag else { return }
    pthread_mutex_lock(&lock)
    if calls.count < limit { calls.append(call) } else { dropped += 1 }
    pthread_mutex_unlock(&lock)
  }

  public static func append(contentsOf more: [TraceCall]) {
    for c in more { append(c) }
  }

  /// Takes every call recorded so far and starts a fresh record.
  public static func drain() -> [TraceCall] {
    guard lockReady else { return [] }
    pthread_mutex_lock(&lock)
    defer { pthread_mutex_unlock(&lock) }
    let taken = calls
    calls = []
    dropped = 0
    return taken
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
