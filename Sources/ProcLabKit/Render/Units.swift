/// Numbers with units, at a precision a person can read.
public enum Units {
  /// `412 ns`, `12.4 µs`, `3.21 ms`, `1.50 s`.
  public static func duration(_ d: Duration) -> String { duration(seconds: d.seconds) }

  public static func duration(seconds s: Double) -> String {
    let a = abs(s)
    if a < 1e-6 { return "\(Int((s * 1e9).rounded())) ns" }
    if a < 1e-3 { return significant(s * 1e6) + " µs" }
    if a < 1 { return significant(s * 1e3) + " ms" }
    return NumberFormat.fixed(s, digits: 2) + " s"
  }

  /// Three significant digits: 1.23, 12.3, 123.
  static func significant(_ x: Double) -> String {
    let a = abs(x)
    if a >= 100 { return NumberFormat.fixed(x, digits: 0) }
    if a >= 10 { return NumberFormat.fixed(x, digits: 1) }
    return NumberFormat.fixed(x, digits: 2)
  }

  /// `512 B`, `64.0 KiB`, `12.3 MiB`.
  public static func bytes(_ n: Int) -> String {
    let x = Double(n)
    if n < 1024 { return "\(n) B" }
    if x < 1024 * 1024 { return NumberFormat.fixed(x / 1024, digits: 1) + " KiB" }
    if x < 1024 * 1024 * 1024 { return NumberFormat.fixed(x / 1024 / 1024, digits: 1) + " MiB" }
    return NumberFormat.fixed(x / 1024 / 1024 / 1024, digits: 2) + " GiB"
  }

  /// `0x7ffd5a3c1a2c`
  public static func address(_ a: UInt) -> String { "0x" + String(a, radix: 16) }

  public static func fixed(_ x: Double, digits: Int) -> String { NumberFormat.fixed(x, digits: digits) }

  /// A number without a trailing `.0` when it is whole.
  public static func plain(_ x: Double) -> String {
    x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : String(x)
  }

  /// `14×`, `1.3×`.
  public static func ratio(_ x: Double) -> String {
    if !x.isFinite { return "∞×" }
    return (x >= 10 ? NumberFormat.fixed(x, digits: 0) : NumberFormat.fixed(x, digits: 1)) + "×"
  }

  /// `1 child`, `3 children`.
  public static func plural(_ n: Int, _ one: String, _ many: String? = nil) -> String {
    "\(n) " + (n == 1 ? one : (many ?? one + "s"))
  }

  public static func percent(_ x: Double) -> String { NumberFormat.fixed(x * 100, digits: 1) + "%" }
}
