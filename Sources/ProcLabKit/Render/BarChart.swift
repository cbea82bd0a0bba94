import Glibc

/// Horizontal bars for comparing a few measurements:
/// ```
/// thread       ▏██                      21.3 µs
/// fork         ▏████████████           480 µs
/// ```
public struct BarChart: Sendable {
  public struct Bar: Sendable {
    public var label: String
    public var value: Double
    public var text: String
  }
  public var bars: [Bar] = []
  public var width = 32
  /// Draw lengths on a logarithmic scale (for values spanning orders of magnitude).
  public var logarithmic = false

  public init(width: Int = 32, logarithmic: Bool = false) {
    self.width = width
    self.logarithmic = logarithmic
  }

  public mutating func add(_ label: String, _ value: Double, _ text: String) {
    bars.append(Bar(label: label, value: value, text: text))
  }

  /// The chart at its natural width (what lessons and transcripts match).
  public var lines: [String] { lines(barWidth: width) }

  /// The chart as it fits `width` columns: shorter bars (never under 8 columns), the
  /// labels and figures whole. Nil: its natural width.
  public func lines(fitting columns: Int?) -> [String] {
    guard let columns else { return lines }
    let labelWidth = bars.map { Style.width($0.label) }.max() ?? 0
    let textWidth = bars.map { Style.width($0.text) }.max() ?? 0
    let room = columns - 2 - labelWidth - 1 - 1 - textWidth
    let fitted = lines(barWidth: max(8, min(width, room)))
    return TextWrap.wrap(fitted, width: columns)
  }

  func lines(barWidth width: Int) -> [String] {
    let labelWidth = bars.map { Style.width($0.label) }.max() ?? 0
    let maxValue = bars.map(\.value).max() ?? 0
    let minPositive = bars.map(\.value).filter { $0 > 0 }.min() ?? 1
    return bars.map { bar in
      var fraction = maxValue > 0 ? bar.value / maxValue : 0
      if logarithmic && maxValue > minPositive && bar.value > 0 {
        fraction = 0.1 + 0.9 * log(bar.value / minPositive) / log(maxValue / minPositive)
      }
      let eighths = Int((fraction * Double(width) * 8).rounded())
      var bar2 = String(repeating: "█", count: eighths / 8)
      let partial = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"][eighths % 8]
      bar2 += partial
      if bar2.isEmpty && bar.value > 0 { bar2 = "▏" }
      return "  " + Style.pad(bar.label, labelWidth) + " " + Style.cyan(Style.pad(bar2, width)) + " "
        + bar.text
    }
  }
}
