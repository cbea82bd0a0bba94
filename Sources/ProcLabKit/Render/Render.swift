/// Turns outcomes and traces into terminal text.
public enum Render {
  /// Facts first, then the explanation at the chosen level; errors as one line.
  public static func outcome(_ o: Outcome, explain: Settings.ExplainLevel, color: Bool) -> String {
    Style.enabled = color
    var out: [String] = o.lines
    if let error = o.error { out.append(Style.red(error)) }
    switch explain {
    case .off: break
    case .short:
      if !o.explanation.short.isEmpty { out += o.explanation.short.map { Style.dim("→ ") + $0 } }
    case .full:
      out += (o.explanation.short + o.explanation.full).map { Style.dim("→ ") + $0 }
    }
    return out.joined(separator: "\n")
  }

  /// The calls of a command, grouped by process and thread (TraceRender has the whole picture).
  public static func trace(_ calls: [TraceCall], color: Bool) -> String {
    TraceRender.text(calls, kernel: nil, color: color)
  }
}
