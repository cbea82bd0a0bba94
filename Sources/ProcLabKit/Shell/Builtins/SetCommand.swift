enum SetCommand {
  static let command = Command(
    name: "set", area: .shell, summary: "change a setting: explain, color, trace",
    usage: "set [explain off|short|full | color on|off | trace on|off]",
    examples: ["set", "set explain full", "set trace on"],
    completion: .words(["explain", "color", "trace", "on", "off", "short", "full"])
  ) { args, session in
    try args.expectPositionals(atMost: 2)
    let r = Report()
    guard let key = args.positional(0) else {
      r.line("explain  \(session.settings.explain.rawValue)")
      r.line("color    \(session.settings.color ? "on" : "off")")
      r.line("trace    \(session.settings.trace ? "on" : "off")")
      r.fact("explain", session.settings.explain.rawValue)
      r.fact("color", session.settings.color)
      r.fact("trace", session.settings.trace)
      return r
    }
    guard let value = args.positional(1) else {
      throw UsageError("set: \(Printable.word(key)) needs a value; usage: set explain|color|trace VALUE")
    }
    func onOff() throws -> Bool {
      switch value.lowercased() {
      case "on", "true", "yes", "1": return true
      case "off", "false", "no", "0": return false
      default: throw UsageError("set: \(key) takes on or off, got '\(Printable.word(value))'")
      }
    }
    switch key.lowercased() {
    case "explain":
      guard let level = Settings.ExplainLevel(rawValue: value.lowercased()) else {
        throw UsageError("set: explain takes off, short or full, got '\(Printable.word(value))'")
      }
      session.settings.explain = level
    case "color", "colour":
      session.settings.color = try onOff()
    case "trace":
      session.settings.trace = try onOff()
    default:
      throw UsageError("set: no setting '\(Printable.word(key))'; settings: explain, color, trace")
    }
    r.line("\(key.lowercased()) is now \(value.lowercased())")
    r.fact(key.lowercased(), value.lowercased())
    return r
  }
}

enum TraceCommand {
  static let command = Command(
    name: "trace", area: .shell, summary: "show the system calls behind the last command",
    usage: "trace [--summary]", options: [.init("--summary", "count the calls by name")],
    examples: ["set trace on", "spawn", "trace --summary"]
  ) { args, session in
    try args.expectPositionals(atMost: 0)
    let r = Report()
    guard let last = session.lastOutcome else {
      r.line("No command has run yet.")
      return r
    }
    if last.trace.isEmpty {
      r.line(
        session.settings.trace
          ? "'\(last.input)' made no traced calls."
          : "No trace for '\(last.input)': turn it on with 'set trace on' and run it again.")
      return r
    }
    if args.flag("--summary") {
      var counts: [String: (Int, Int64)] = [:]
      for c in last.trace {
        counts[c.name, default: (0, 0)].0 += 1
        counts[c.name, default: (0, 0)].1 += c.nanoseconds
      }
      var t = Table(["call", "count", "total time"], rightAligned: [1, 2])
      for (name, v) in counts.sorted(by: {
        $0.value.0 > $1.value.0 || ($0.value.0 == $1.value.0 && $0.key < $1.key)
      }) {
        t.add([name, String(v.0), Units.duration(.nanoseconds(v.1))])
      }
      r.line("calls made by '\(last.input)':")
      r.lines(t.lines)
      r.fact(
        "summary",
        JSON.object(
          {
            var o = JSONObject()
            for (k, v) in counts { o[k] = .int(v.0) }
            return o
          }()))
    } else {
      r.line(Render.trace(last.trace, color: session.settings.color))
      r.fact("calls", JSON.array(last.trace.map(\.json)))
    }
    return r
  }
}
