import CLab
import Glibc

/// What a process does with signals, from /proc/PID/status (SigPnd, ShdPnd, SigBlk, SigIgn, SigCgt),
/// and how often it was switched out (voluntary_ctxt_switches).
public struct SignalDispositions: Sendable, Equatable {
  /// Signals waiting to be delivered: SigPnd (to the thread) | ShdPnd (to the whole process).
  public var pending: UInt64
  /// ShdPnd alone: pending for the process as a whole (what kill(2) sends).
  public var sharedPending: UInt64 = 0
  public var blocked: UInt64
  public var ignored: UInt64
  public var caught: UInt64
  public var voluntarySwitches: Int
  public var state: Character?

  /// Reads /proc/PID/status; nil when the process is gone.
  public static func read(_ pid: Int32) -> SignalDispositions? {
    guard let text = ProcFS.read("/proc/\(pid)/status") else { return nil }
    var fields: [String: String] = [:]
    for line in text.split(separator: "\n") {
      guard let colon = line.firstIndex(of: ":") else { continue }
      fields[String(line[..<colon])] = line[line.index(after: colon)...].trimmed()
    }
    func mask(_ key: String) -> UInt64 { UInt64(fields[key] ?? "", radix: 16) ?? 0 }
    return SignalDispositions(
      pending: mask("SigPnd") | mask("ShdPnd"), sharedPending: mask("ShdPnd"), blocked: mask("SigBlk"),
      ignored: mask("SigIgn"),
      caught: mask("SigCgt"), voluntarySwitches: Int(fields["voluntary_ctxt_switches"] ?? "") ?? 0,
      state: fields["State"]?.first)
  }

  static func bit(_ sig: Int32) -> UInt64 { sig >= 1 && sig <= 64 ? UInt64(1) << UInt64(sig - 1) : 0 }
  public func isCaught(_ sig: Int32) -> Bool { caught & Self.bit(sig) != 0 }
  public func isIgnored(_ sig: Int32) -> Bool { ignored & Self.bit(sig) != 0 }
  public func isBlocked(_ sig: Int32) -> Bool { blocked & Self.bit(sig) != 0 }
  public func isPending(_ sig: Int32) -> Bool { pending & Self.bit(sig) != 0 }
  /// The pending signals, lowest number first (the order the kernel delivers standard signals in).
  public var pendingSignals: [Int32] { (1...64).filter { isPending(Int32($0)) }.map(Int32.init) }
  /// A mask as /proc prints it: 16 hex digits.
  public static func hex(_ mask: UInt64) -> String {
    let digits = String(mask, radix: 16)
    return String(repeating: "0", count: max(0, 16 - digits.count)) + digits
  }
}

/// Signal handling a lab child sets up for itself.
public enum ChildSignals {
  /// sigaction(sig, counting handler): the process survives the signal and wakes up.
  public static func catchCounting(_ sig: Int32) {
    let start = MonotonicClock.nanoseconds()
    let rc = (try? SignalHandlers.install(clab_count_signal, for: sig)) == nil ? -1 : 0
    Trace.record("sigaction", "\(Signals.name(sig)), counting handler", result: "\(rc)", since: start)
  }
  /// Signals the counting handler has seen so far.
  public static var caughtCount: Int { clab_caught_count() }

  /// nanosleep(2) for `d`, resuming after each caught signal with the time left.
  public static func sleep(_ d: Duration) {
    let start = MonotonicClock.nanoseconds()
    clab_sleep_ns(d.nanoseconds)
    Trace.record("nanosleep", Units.duration(d), result: "0", since: start)
  }
}
