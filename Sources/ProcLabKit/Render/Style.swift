import Synchronization

/// Colour and emphasis: ANSI escapes on a terminal only, never with NO_COLOR or `--no-color`.
public enum Style {
  private static let colour = Atomic<Bool>(false)
  /// Whether the helpers below emit escapes (set by the renderers from the session's settings).
  public static var enabled: Bool {
    get { colour.load(ordering: .relaxed) }
    set { colour.store(newValue, ordering: .relaxed) }
  }

  static func wrap(_ s: String, _ code: String) -> String { enabled ? "\u{1B}[\(code)m\(s)\u{1B}[0m" : s }
  public static func bold(_ s: String) -> String { wrap(s, "1") }
  public static func dim(_ s: String) -> String { wrap(s, "2") }
  public static func red(_ s: String) -> String { wrap(s, "31") }
  public static func green(_ s: String) -> String { wrap(s, "32") }
  public static func yellow(_ s: String) -> String { wrap(s, "33") }
  public static func cyan(_ s: String) -> String { wrap(s, "36") }

  /// Text without ANSI escapes (for JSON, matching and width).
  public static func stripped(_ s: String) -> String {
    guard s.contains("\u{1B}") else { return s }
    var out = ""
    var inEscape = false
    for ch in s {
      if inEscape {
        if ch.isLetter { inEscape = false }
        continue
      }
      if ch == "\u{1B}" {
        inEscape = true
        continue
      }
      out.append(ch)
    }
    return out
  }

  /// Display width in terminal columns: escapes take none, wide characters two (`DisplayWidth`).
  public static func width(_ s: String) -> Int { DisplayWidth.columns(s) }

  public static func pad(_ s: String, _ width: Int, right: Bool = false) -> String {
    let w = Style.width(s)
    if w >= width { return s }
    let fill = String(repeating: " ", count: width - w)
    return right ? fill + s : s + fill
  }
}
