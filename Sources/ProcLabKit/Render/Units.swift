import Foundation

/// Numbers with units, at a precision a person can read.
public enum Units {
  /// `412 ns`, `12.4 µs`, `3.21 ms`, `1.50 s`.
  public static func duration(_ d: Duration) -> String { duration(seconds: d.seconds) }

  public static func duration(seconds s: Double) -> String {
    let a = abs(s)
    if a < 1e-6 { return "\(Int((s * 1e9).rounded())) ns" }
    if a < 1e-3 { return significant(s * 1e6) + " µs" }
    if a < 1 { return significant(s * 1e3) + " ms" }
    return String(format: "%.2f s", s)
  }

  /// Three significant digits: 1.23, 12.3, 123.
  static func significant(_ x: Double) -> String {
    let a = abs(x)
    if a >= 100 { return String(format: "%.0f", x) }
    if a >= 10 { return String(format: "%.1f", x) }
    return String(format: "%.2f", x)
  }

  /// `512 B`, `64.0 KiB`, `12.3 MiB`.
  public static func bytes(_ n: Int) -> String {
    let x = Double(n)
    if n < 1024 { return "\(n) B" }
    if x < 1024 * 1024 { return String(format: "%.1f KiB", x / 1024) }
    if x < 1024 * 1024 * 1024 { return String(format: "%.1f MiB", x / 1024 / 1024) }
    return String(format: "%.2f GiB", x / 1024 / 1024 / 1024)
  }

  /// `0x7ffd5a3c1a2c`
  public static func address(_ a: UInt) -> String { "0x" + String(a, radix: 16) }

  public static func fixed(_ x: Double, digits: Int) -> String { String(format: "%.\(digits)f", x) }

  /// A number without a trailing `.0` when it is whole.
  public static func plain(_ x: Double) -> String {
    x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : String(x)
  }

  /// `14×`, `1.3×`.
  public static func ratio(_ x: Double) -> String {
    if !x.isFinite { return "∞×" }
    return (x >= 10 ? String(format: "%.0f", x) : String(format: "%.1f", x)) + "×"
  }

  /// `1 child`, `3 children`.
  public static func plural(_ n: Int, _ one: String, _ many: String? = nil) -> String {
    "\(n) " + (n == 1 ? one : (many ?? one + "s"))
  }

  public static func percent(_ x: Double) -> String { String(format: "%.1f%%", x * 100) }
}
