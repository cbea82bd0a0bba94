import Glibc

/// Numbers as `printf` writes them, without Foundation's `String(format:)` (which
/// lives in Foundation's international part, with ICU). The decimal forms go through
/// C's own `vsnprintf(3)`, so the digits and the rounding (the exact binary value,
/// rounded to nearest, ties to even: `0.125` → `0.12`) are byte for byte what
/// `String(format: "%.2f")` printed: transcripts that quote them stay true.
public enum NumberFormat {
  /// `fixed(3.14159, digits: 2)` → `3.14`: printf's `%.Nf`. `nan`, `inf` and `-inf` as printf writes them.
  public static func fixed(_ x: Double, digits: Int) -> String {
    let digits = min(max(digits, 0), 40)
    return printf("%.\(digits)f", x)
  }

  /// `hex(0x1f, width: 4)` → `001f`: printf's `%0Nllx` (lower case, zero-padded, no `0x`).
  public static func hex<T: BinaryInteger>(_ value: T, width: Int = 0) -> String {
    let digits = String(value, radix: 16)
    return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
  }

  /// One double through C's `vsnprintf(3)` with a format made of a single `%…f`/`%…g`/`%…e`.
  static func printf(_ format: String, _ x: Double) -> String {
    var buffer = [CChar](repeating: 0, count: 64)
    let needed = withVaList([x]) { vsnprintf(&buffer, buffer.count, format, $0) }
    if needed >= buffer.count {
      // Only a huge %f (1e300 has 301 digits) needs more than 64 bytes.
      buffer = [CChar](repeating: 0, count: Int(needed) + 1)
      _ = withVaList([x]) { vsnprintf(&buffer, buffer.count, format, $0) }
    }
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }
}
