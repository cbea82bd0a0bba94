import Glibc

/// The calling process's environment (environ(7)), read without Foundation.
public enum Environment {
  /// getenv(3): the value of one variable, or nil when it is unset.
  public static func value(_ name: String) -> String? {
    getenv(name).map { String(cString: $0) }
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

  /// Where temporary files go: $TMPDIR, or /tmp.
  public static var temporaryDirectory: String { nonEmpty("TMPDIR") ?? "/tmp" }
}
