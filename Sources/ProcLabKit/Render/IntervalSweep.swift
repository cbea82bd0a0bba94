/// What a set of time intervals did together, found by sweeping their starts and
/// ends in time order: how many were open at once at most, and for how long at
/// least two were. An end and a start at the same instant do not overlap.
public struct IntervalSweep: Sendable, Equatable {
  public var maxConcurrent = 0
  /// Nanoseconds during which two or more intervals were open.
  public var overlapTime: UInt64 = 0

  public init(_ intervals: [(start: UInt64, end: UInt64)]) {
    var events: [(time: UInt64, delta: Int)] = []
    for (a, b) in intervals {
      events.append((a, 1))
      events.append((b, -1))
    }
    events.sort { $0.time != $1.time ? $0.time < $1.time : $0.delta < $1.delta }
    var open = 0
    var last: UInt64 = 0
    for e in events {
      if open >= 2 { overlapTime += e.time - last }
      open += e.delta
      last = e.time
      maxConcurrent = max(maxConcurrent, open)
    }
  }
}
