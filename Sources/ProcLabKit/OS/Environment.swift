import Glibc

/// This process's environment variables (the `environ` block the kernel copied in at exec).
public enum Environment {
  /// getenv(3): the value of `name`, or nil when it is not set.
  public static func value(_ name: String) -> String? {
    guard let raw = getenv(name) else { return nil }
    return String(cString: raw)
  }

  /// `$TMPDIR`, or `/tmp` when it is unset or empty: where private temporary directories go.
  public static var temporaryDirectory: String {
    guard let dir = value("TMPDIR"), !dir.isEmpty else { return "/tmp" }
    return dir
  }
}
