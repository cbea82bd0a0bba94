import Glibc

/// Resource limits (getrlimit(2), setrlimit(2)): how much of a resource a
/// process may use. The soft limit is what the kernel enforces; the hard limit
/// is the ceiling an unprivileged process may raise its soft limit to.
public enum ResourceLimits {
  public typealias Resource = __rlimit_resource
  public static let core = RLIMIT_CORE
  public static let cpu = RLIMIT_CPU
  public static let addressSpace = RLIMIT_AS
  public static let processes = __RLIMIT_NPROC
  public static let stack = RLIMIT_STACK
  /// RLIM_INFINITY (all bits set; the C macro does not import).
  static let unlimited = rlim_t.max

  /// Soft and hard limits; nil means unlimited (RLIM_INFINITY).
  public struct Limit: Sendable, Equatable {
    public var soft: UInt64?
    public var hard: UInt64?
    public init(soft: UInt64?, hard: UInt64?) {
      self.soft = soft
      self.hard = hard
    }
  }

  /// getrlimit(resource).
  public static func get(_ resource: Resource) -> Limit {
    var current = rlimit()
    let start = MonotonicClock.nanoseconds()
    let rc = getrlimit(__rlimit_resource_t(resource.rawValue), &current)
    func value(_ v: rlim_t) -> UInt64? { v == unlimited ? nil : UInt64(v) }
    let limit =
      rc == 0 ? Limit(soft: value(current.rlim_cur), hard: value(current.rlim_max)) : Limit(soft: 0, hard: 0)
    Trace.record(
      "getrlimit", name(resource), result: "soft \(describe(limit.soft)), hard \(describe(limit.hard))",
      since: start)
    return limit
  }

  /// setrlimit(resource, {soft, hard}); nil is unlimited. Raising the hard
  /// limit needs CAP_SYS_RESOURCE: the error (EPERM) is thrown.
  public static func set(_ resource: Resource, _ limit: Limit) throws {
    var next = rlimit(
      rlim_cur: limit.soft.map { rlim_t($0) } ?? unlimited,
      rlim_max: limit.hard.map { rlim_t($0) } ?? unlimited)
    try Trace.call("setrlimit", "\(name(resource)), {\(describe(limit.soft)), \(describe(limit.hard))}") {
      setrlimit(__rlimit_resource_t(resource.rawValue), &next)
    }
  }

  /// setrlimit(resource, {value, value}), lowering only: a limit already below
  /// `value` stays, and neither limit is ever raised. Failure is ignored (a
  /// lab child that cannot lower a limit runs with the one it has).
  public static func lower(_ resource: Resource, to value: UInt64) {
    let current = get(resource)
    let hard = min(current.hard ?? .max, value)
    let soft = min(current.soft ?? .max, hard)
    try? set(resource, Limit(soft: soft, hard: hard))
  }

  /// getrlimit(resource): the soft limit (UInt64.max when unlimited).
  public static func soft(_ resource: Resource) -> UInt64 { get(resource).soft ?? .max }

  /// `0`, `unlimited`, `64.0 MiB`.
  public static func describe(_ value: UInt64?) -> String {
    guard let value else { return "unlimited" }
    return value == 0 ? "0" : Units.bytes(Int(clamping: value))
  }

  static func name(_ resource: Resource) -> String {
    switch resource {
    case core: "RLIMIT_CORE"
    case cpu: "RLIMIT_CPU"
    case addressSpace: "RLIMIT_AS"
    case processes: "RLIMIT_NPROC"
    case stack: "RLIMIT_STACK"
    default: "resource \(resource.rawValue)"
    }
  }
}
