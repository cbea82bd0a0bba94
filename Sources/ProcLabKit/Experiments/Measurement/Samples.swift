/// Timings of one kind of work, and the summary `cost` and `switch` print:
/// the median (robust against a busy machine's outliers) and the spread.
///
/// Percentiles use the nearest rank on the sorted samples (index
/// round(p × (n − 1))), and the median of an even count is the mean of the two
/// middle samples; Benchmarks/reference.c computes them the same way.
public struct Samples: Sendable {
  public private(set) var nanoseconds: [Double] = []
  public init() {}

  public mutating func add(_ ns: Double) { nanoseconds.append(ns) }
  public var count: Int { nanoseconds.count }

  private var sorted: [Double] { nanoseconds.sorted() }

  public var median: Double {
    let s = sorted
    guard !s.isEmpty else { return 0 }
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
  }

  public func percentile(_ p: Double) -> Double {
    let s = sorted
    guard !s.isEmpty else { return 0 }
    return s[Int((Double(s.count - 1) * p).rounded())]
  }

  public var minimum: Double { nanoseconds.min() ?? 0 }
  public var maximum: Double { nanoseconds.max() ?? 0 }

  /// `{"median_ns": …, "p10_ns": …, "p90_ns": …, "min_ns": …, "max_ns": …, "samples": …}`
  public var json: JSON {
    [
      "median_ns": .double(median), "p10_ns": .double(percentile(0.1)), "p90_ns": .double(percentile(0.9)),
      "min_ns": .double(minimum), "max_ns": .double(maximum), "samples": .int(count),
    ]
  }
}

extension Report {
  /// A duration in nanoseconds, noted as varying.
  func ns(_ ns: Double) -> String { seconds(ns / 1e9) }
  /// A ratio like `14×`, noted as varying.
  func ratio(_ x: Double) -> String { note(Units.ratio(x), .text) }
}
