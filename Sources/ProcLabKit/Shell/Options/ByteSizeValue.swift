/// A size in bytes as a learner writes it: `65536`, `64K`, `8M`, `1G` (K, M and G
/// are powers of 1024; `KiB`, `k`, `MB` and a trailing `B` are read the same way),
/// written back in the largest unit that divides it exactly (`64K`).
public struct ByteSize: OptionValue, Comparable, Hashable {
  public let bytes: Int
  public init(_ bytes: Int) { self.bytes = bytes }

  static let units: [(suffix: Character, factor: Int)] = [("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)]

  public static func parse(_ word: String) -> ByteSize? {
    var digits = Substring(word.uppercased())
    if digits.hasSuffix("IB") { digits = digits.dropLast(2) + "B" }
    if digits.hasSuffix("B") { digits = digits.dropLast() }
    var factor = 1
    if let last = digits.last, let unit = units.first(where: { $0.suffix == last }) {
      factor = unit.factor
      digits = digits.dropLast()
    }
    guard !digits.isEmpty, digits.allSatisfy(\.isASCII), let n = Int(digits), n >= 0 else { return nil }
    let (total, overflow) = n.multipliedReportingOverflow(by: factor)
    return overflow ? nil : ByteSize(total)
  }

  public static var expected: String { "a size like 65536, 64K, 8M or 1G" }
  public var canonicalWord: String {
    for unit in Self.units where bytes >= unit.factor && bytes % unit.factor == 0 {
      return "\(bytes / unit.factor)\(unit.suffix)"
    }
    return String(bytes)
  }
  public var json: JSON { .int(bytes) }
  /// A bare number is bytes, but lmbench's `lat_ctx -s 64` means KiB: when a
  /// number under 1K does not fit as bytes and fits as KiB (or MiB), that is the guess.
  public static func nearest(to value: ByteSize, fitting fits: (ByteSize) -> Bool) -> ByteSize? {
    guard value.bytes < 1024 else { return nil }
    return units.reversed().lazy.map { ByteSize(value.bytes * $0.factor) }.first(where: fits)
  }
  public static func < (a: ByteSize, b: ByteSize) -> Bool { a.bytes < b.bytes }
}
