import Glibc

/// Monotonic time for measurements (clock_gettime(CLOCK_MONOTONIC)).
public enum MonotonicClock {
  /// Nanoseconds since an arbitrary fixed point; only differences mean anything.
  @inline(__always)
  public static func nanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
  }

  public static func since(_ start: UInt64) -> Duration {
    .nanoseconds(Int64(bitPattern: nanoseconds() &- start))
  }

  /// Sleeps (nanosleep) for a short, fixed time, whatever Ctrl-C does.
  public static func pause(_ d: Duration) {
    let ns = max(0, d.nanoseconds)
    var request = timespec(tv_sec: Int(ns / 1_000_000_000), tv_nsec: Int(ns % 1_000_000_000))
    var remaining = timespec()
    while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
  }

  /// Sleeps (nanosleep), waking early with `Interrupted` on Ctrl-C.
  public static func sleep(_ d: Duration) throws {
    let end = nanoseconds() &+ UInt64(max(0, d.nanoseconds))
    while true {
      try Interrupt.check()
      let now = nanoseconds()
      if now >= end { return }
      let left = min(end - now, 50_000_000)
      var ts = timespec(tv_sec: Int(left / 1_000_000_000), tv_nsec: Int(left % 1_000_000_000))
      _ = nanosleep(&ts, nil)
    }
  }
}

extension Duration {
  public var nanoseconds: Int64 {
    let (s, atto) = components
    return s * 1_000_000_000 + atto / 1_000_000_000
  }
  public var seconds: Double { Double(nanoseconds) / 1e9 }
  public var milliseconds: Double { Double(nanoseconds) / 1e6 }
  public var microseconds: Double { Double(nanoseconds) / 1e3 }
}

/// The calendar clock, for timestamps a person reads (a recording's start), never for
/// measuring: it jumps when the clock is set.
public enum WallClock {
  /// The corresponding call is `time(NULL)`: whole seconds since 1970-01-01 UTC.
  public static var secondsSinceEpoch: Int { Int(time(nil)) }
}
