import Glibc

/// This process's environment variables (the `environ` block the kernel copied in at exec).
public enum Environment {
  /// getenv(3): the value of `name`, or nil when it is not set.
  public static func value(_ name: String) -> String? {
    guard let raw = getenv(name) else { return nil }
    return String(cString: raw)
  }

  /// getenv(3), treating an empty value like an unset one (`TMPDIR=`).
  public static func nonEmpty(_ name: String) -> String? {
    value(name).flatMap { $0.isEmpty ? nil : $0 }
  }

  /// Every variable, read from the `environ` array the C library keeps.
  public static func current() -> [String: String] {
    var env: [String: String] = [:]
    var p = environ
    while let entry = p.pointee {
      let s = String(cString: entry)
      if let eq = s.firstIndex(of: "=") { env[String(s[..<eq])] = String(s[s.index(after: eq)...]) }
      p += 1
    }
    return env
  }

  /// `$TMPDIR`, or `/tmp` when it is unset or empty: where private temporary directories go.
  public static var temporaryDirectory: String {
    guard let dir = value("TMPDIR"), !dir.isEmpty else { return "/tmp" }
    return dir
  }
}
