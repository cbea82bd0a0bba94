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

  /// The calls of a command, grouped by process and thread:
  /// ```
  /// trace: 6 calls
  ///   pid 4100 (this shell)
  ///     posix_spawn(proclab, …) = pid 4312 (0.41 ms)
  /// ```
  public static func trace(_ calls: [TraceCall], color: Bool) -> String {
    Style.enabled = color
    let me = ThisProcess.id
    var out = [Style.dim("trace: \(Units.plural(calls.count, "call"))")]
    var order: [Int32] = []
    var byPID: [Int32: [TraceCall]] = [:]
    for c in calls {
      if byPID[c.pid] == nil { order.append(c.pid) }
      byPID[c.pid, default: []].append(c)
    }
    for pid in order {
      let group = byPID[pid]!
      out.append("  pid \(pid)" + (pid == me ? " (this shell)" : " (child)"))
      let threads = Set(group.map(\.tid))
      for c in group {
        let who = threads.count > 1 ? Style.dim("[tid \(c.tid)] ") : ""
        out.append("    " + who + c.rendered)
      }
    }
    return out.joined(separator: "\n")
  }
}
