import Synchronization

/// Turns outcomes and traces into terminal text.
public enum Render {
  /// Facts first, then the explanation at the chosen level; errors as one line.
  ///
  /// Laid out for `width` columns (by default the terminal's, see `Layout`): tables
  /// adapt (`TableBlock`), every other line that is too wide is wrapped at word
  /// boundaries, explanations (`→`) with a hanging indent.
  public static func outcome(
    _ o: Outcome, explain: Settings.ExplainLevel, color: Bool, width: Int? = Layout.width
  ) -> String {
    if width == nil, let shownWidth = Layout.displayWidth {
      let natural = laidOut(o, explain: explain, color: color, width: nil)
      lastShown.withLock { $0 = (natural, laidOut(o, explain: explain, color: color, width: shownWidth)) }
      return natural
    }
    return laidOut(o, explain: explain, color: color, width: width)
  }

  /// Text as a person should see it at `width`: the fitted form of the outcome just rendered
  /// at its natural width (`Layout.showFitted`), else every line wrapped at word boundaries.
  public static func shown(_ text: String, width: Int?) -> String {
    if let (natural, fitted) = lastShown.withLock({ $0 }), natural == text {
      return fitted
    }
    return TextWrap.wrap(
      text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init), width: width
    )
    .joined(separator: "\n")
  }
  private static let lastShown = Mutex<(String, String)?>(nil)

  static func laidOut(_ o: Outcome, explain: Settings.ExplainLevel, color: Bool, width: Int?) -> String {
    Style.enabled = color
    var out = fit(o.lines, tables: o.tables, width: width)
    if let error = o.error { out += TextWrap.wrap(Style.red(error), width: width, continuation: "  ") }
    let explanation: [String]
    switch explain {
    case .off: explanation = []
    case .short: explanation = o.explanation.short
    case .full: explanation = o.explanation.short + o.explanation.full
    }
    for line in explanation {
      out += TextWrap.wrap(Style.dim("→ ") + line, width: width, continuation: "  ")
    }
    return out.joined(separator: "\n")
  }

  /// Output lines laid out for `width`: each table block as it fits, other lines wrapped.
  public static func fit(_ lines: [String], tables: [TableBlock] = [], width: Int?) -> [String] {
    guard let width else { return lines }
    var out: [String] = []
    var i = 0
    while i < lines.count {
      if let block = tables.first(where: { $0.start == i && $0.count > 0 }),
        block.start + block.count <= lines.count
      {
        out += block.lines(fitting: width)
        i += block.count
        continue
      }
      out += TextWrap.wrap(lines[i], width: width)
      i += 1
    }
    return out
  }

  /// The calls of a command, grouped by process and thread (TraceRender has the whole picture).
  public static func trace(_ calls: [TraceCall], color: Bool, width: Int? = Layout.width) -> String {
    TraceRender.text(calls, kernel: nil, color: color, width: width)
  }
}
