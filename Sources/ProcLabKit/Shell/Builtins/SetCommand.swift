/// `set [SETTING VALUE]`: show or change a setting (explain, color, trace).
enum SetCommand {
  enum Setting: String, OptionChoice {
    case explain, color, colour, trace
  }

  struct Options: CommandOptions {
    var setting: Setting?
    var value: String?

    static var declarations: [OptionDeclaration<Self>] {
      [
        .positional("setting", \.setting, "SETTING", "explain, color or trace (none: show them all)"),
        .positional(
          "value", \.value, "VALUE", "explain: off, short or full; color and trace: on or off",
          completion: .words(["on", "off", "short", "full"])),
      ]
    }
  }

  static let command = Command(
    name: "set", area: .shell, summary: "change a setting: explain, color, trace",
    examples: ["set", "set explain full", "set trace on"], options: Options.self
  ) { options, session in
    let r = Report()
    guard let setting = options.setting else {
      r.line("explain  \(session.settings.explain.rawValue)")
      r.line("color    \(session.settings.color ? "on" : "off")")
      r.line("trace    \(session.settings.trace ? "on" : "off")")
      r.fact("explain", session.settings.explain.rawValue)
      r.fact("color", session.settings.color)
      r.fact("trace", session.settings.trace)
      return r
    }
    guard let value = options.value?.lowercased() else {
      throw UsageError("set: \(setting.rawValue) needs a value; usage: set explain|color|trace VALUE")
    }
    func onOff() throws -> Bool {
      switch value {
      case "on", "true", "yes", "1": return true
      case "off", "false", "no", "0": return false
      default: throw UsageError("set: \(setting.rawValue) takes on or off, got '\(Printable.word(value))'")
      }
    }
    switch setting {
    case .explain:
      guard let level = Settings.ExplainLevel(rawValue: value) else {
        throw UsageError("set: explain takes off, short or full, got '\(Printable.word(value))'")
      }
      session.settings.explain = level
    case .color, .colour:
      session.settings.color = try onOff()
    case .trace:
      session.settings.trace = try onOff()
      if session.settings.trace {
        r.explain(
          "after each command the shell lists the library calls it made and, beneath each, the system calls the kernel ran for it (a tracer, a copy of proclab, follows the shell with ptrace while the command runs)"
        )
      }
    }
    let key = setting == .colour ? "color" : setting.rawValue
    r.line("\(key) is now \(value)")
    r.fact(key, value)
    return r
  }
}

/// `trace [--summary]`: the calls behind the last command, again.
enum TraceCommand {
  struct Options: CommandOptions {
    var summary = false
    static var declarations: [OptionDeclaration<Self>] {
      [.flag("--summary", \.summary, "count the calls by name, with the time spent in each")]
    }
  }

  static let command = Command(
    name: "trace", area: .shell, summary: "show the library and system calls behind the last command",
    examples: ["set trace on", "spawn", "trace --summary"], options: Options.self
  ) { options, session in
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
    guard options.summary else {
      r.line(TraceRender.text(last.trace, kernel: last.kernel, color: session.settings.color))
      r.fact("calls", JSON.array(last.trace.map(\.json)))
      if let kernel = last.kernel { r.fact("kernel_trace", kernel.json) }
      return r
    }
    r.line("library calls made by '\(last.input)':")
    r.lines(summaryTable(last.trace.map { ($0.name, $0.aggregate ? 0 : $0.nanoseconds) }))
    var facts = JSONObject()
    for (name, count) in counts(last.trace.map(\.name)) { facts[name] = .int(count) }
    r.fact("summary", JSON.object(facts))
    let kernelCalls = last.trace.flatMap(\.kernel) + (last.kernel?.tasks.flatMap(\.calls) ?? [])
    if !kernelCalls.isEmpty {
      r.line("system calls the kernel ran for them:")
      r.lines(summaryTable(kernelCalls.map { ($0.name, $0.nanoseconds) }))
      var k = JSONObject()
      for (name, count) in counts(kernelCalls.map(\.name)) { k[name] = .int(count) }
      r.fact("kernel_summary", JSON.object(k))
    }
    return r
  }

  static func counts(_ names: [String]) -> [(String, Int)] {
    names.reduce(into: [String: Int]()) { $0[$1, default: 0] += 1 }.sorted {
      $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key)
    }
  }

  /// call, count, total time: most frequent first.
  static func summaryTable(_ calls: [(String, Int64)]) -> [String] {
    var totals: [String: (Int, Int64)] = [:]
    for (name, ns) in calls {
      totals[name, default: (0, 0)].0 += 1
      totals[name, default: (0, 0)].1 += ns
    }
    var t = Table(["call", "count", "total time"], rightAligned: [1, 2])
    for (name, v) in totals.sorted(by: {
      $0.value.0 > $1.value.0 || ($0.value.0 == $1.value.0 && $0.key < $1.key)
    }) {
      t.add([name, String(v.0), Units.duration(.nanoseconds(v.1))])
    }
    return t.lines
  }
}
