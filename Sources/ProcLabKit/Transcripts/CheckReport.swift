/// How `check` prints its verdicts: text for people, one JSON document or JUnit
/// XML for CI (a test suite per file, a test case per command).
public enum CheckReport {
  /// A report longer than this is cut, with a note (one step can print megabytes).
  public static let reportLimit = 16_000

  public static func truncated(_ s: String, limit: Int = reportLimit) -> String {
    guard s.count > limit else { return s }
    let kept = s.prefix(limit)
    return kept + "\n… (report cut here: \(s.count - limit) more characters)"
  }

  // MARK: JSON

  static func json(_ c: CommandResult) -> JSON {
    var o = JSONObject()
    o["line"] = .int(c.line)
    o["command"] = .string(c.command)
    o["status"] = .string(c.status.rawValue)
    o["seconds"] = .double(c.seconds)
    if c.updated { o["updated"] = .bool(true) }
    if !c.report.isEmpty { o["report"] = .string(truncated(c.report)) }
    return .object(o)
  }

  public static func json(_ r: FileCheckResult) -> JSON {
    var o = JSONObject()
    o["file"] = .string(r.file)
    o["status"] = .string(r.status.rawValue)
    o["steps"] = .int(r.steps)
    o["seconds"] = .double(r.seconds)
    o["updated"] = .bool(r.updated)
    o["report"] = .string(truncated(r.report))
    if !r.diff.isEmpty { o["diff"] = .string(truncated(r.diff, limit: 4 * reportLimit)) }
    if r.dryRun { o["dry_run"] = .bool(true) }
    o["commands"] = .array(r.commands.map(json))
    return .object(o)
  }

  /// One JSON document: every file with its commands, and a summary.
  public static func document(_ results: [FileCheckResult]) -> String {
    var summary = JSONObject()
    summary["files"] = .int(results.count)
    for status in [FileCheckResult.Status.passed, .failed, .unreadable, .skipped] {
      summary[status == .unreadable ? "errors" : status.rawValue] = .int(
        results.filter { $0.status == status }.count)
    }
    let commands = results.flatMap(\.commands)
    summary["commands"] = .int(commands.count)
    summary["commands_passed"] = .int(commands.filter { $0.status == .passed }.count)
    summary["commands_failed"] = .int(commands.filter { $0.status == .failed }.count)
    summary["commands_not_run"] = .int(commands.filter { $0.status == .notRun }.count)
    summary["seconds"] = .double(results.reduce(0) { $0 + $1.seconds })
    summary["exit_status"] = .int(Int(exitStatus(results)))
    var o = JSONObject()
    o["summary"] = .object(summary)
    o["files"] = .array(results.map(json))
    return JSON.object(o).serialized
  }

  /// The files of a document (what a checker child hands back to `check --jobs`).
  public static func parseDocument(_ text: String) -> [FileCheckResult]? {
    guard let j = JSON.parse(text.trimmed(newlines: true)),
      case .array(let files)? = j["files"]
    else { return nil }
    return files.compactMap(parse)
  }

  static func parse(_ j: JSON) -> FileCheckResult? {
    guard let file = j["file"]?.stringValue,
      let status = j["status"]?.stringValue.flatMap(FileCheckResult.Status.init(rawValue:))
    else { return nil }
    var commands: [CommandResult] = []
    if case .array(let list)? = j["commands"] {
      for c in list {
        guard let line = c["line"]?.intValue, let command = c["command"]?.stringValue,
          let s = c["status"]?.stringValue.flatMap(CommandResult.Status.init(rawValue:))
        else { continue }
        commands.append(
          CommandResult(
            line: line, command: command, status: s, report: c["report"]?.stringValue ?? "",
            seconds: c["seconds"]?.doubleValue ?? 0, updated: c["updated"]?.boolValue ?? false))
      }
    }
    var result = FileCheckResult(
      file: file, status: status, report: j["report"]?.stringValue ?? "", steps: j["steps"]?.intValue ?? 0,
      seconds: j["seconds"]?.doubleValue ?? 0, updated: j["updated"]?.boolValue ?? false, commands: commands,
      diff: j["diff"]?.stringValue ?? "")
    result.dryRun = j["dry_run"]?.boolValue ?? false
    return result
  }

  // MARK: text

  public static func text(_ r: FileCheckResult) -> String {
    let time = Units.duration(seconds: r.seconds)
    let diff =
      r.diff.isEmpty
      ? "" : "\n" + truncated(r.diff, limit: 4 * reportLimit).trimmed(blanks: false, newlines: true)
    switch r.status {
    case .passed:
      return Style.green("PASS") + " \(r.file) (\(Units.plural(r.steps, "command")), \(time))"
        + (r.updated ? " — updated" : "") + diff
    case .failed:
      let note =
        !r.updated
        ? "" : r.dryRun ? " — would be updated (--dry-run: the file is unchanged)" : " — partly updated"
      return Style.red("FAIL") + " \(r.file) (\(Units.plural(r.steps, "command")), \(time))" + note + "\n"
        + truncated(r.report) + diff
    case .unreadable:
      return Style.red("ERROR") + " " + truncated(r.report)
    case .skipped:
      return Style.dim("SKIP") + " " + r.report
    }
  }

  public static func summary(_ results: [FileCheckResult]) -> String {
    let checked = results.filter { $0.status != .skipped }
    let passed = checked.filter { $0.status == .passed }.count
    let failed = checked.filter { $0.status == .failed }.count
    let broken = checked.filter { $0.status == .unreadable }.count
    let skipped = results.count - checked.count
    var parts = ["\(passed) passed"]
    if failed > 0 { parts.append("\(failed) failed") }
    if broken > 0 { parts.append("\(broken) could not be read or parsed") }
    var out = "\(Units.plural(checked.count, "file")): " + parts.joined(separator: ", ")
    if skipped > 0 { out += " (\(skipped) skipped: not a lesson or transcript)" }
    return out
  }

  /// 0 all passed, 2 any file unreadable or unparsable (or nothing to check), else 1 any mismatch.
  public static func exitStatus(_ results: [FileCheckResult]) -> Int32 {
    if results.contains(where: { $0.status == .unreadable }) { return 2 }
    if results.contains(where: { $0.status == .failed }) { return 1 }
    if !results.isEmpty && results.allSatisfy({ $0.status == .skipped }) { return 2 }
    return 0
  }

  // MARK: JUnit

  /// JUnit XML: a test suite per file, a test case per command (a lesson, or a file that
  /// could not be read, is one test case).
  public static func junit(_ results: [FileCheckResult]) -> String {
    struct Case {
      var name: String
      var seconds: Double
      var status: String
      var report: String
    }
    func cases(_ r: FileCheckResult) -> [Case] {
      switch r.status {
      case .unreadable:
        return [Case(name: "read and parse", seconds: r.seconds, status: "error", report: r.report)]
      case .skipped: return [Case(name: "not checked", seconds: 0, status: "skipped", report: r.report)]
      case .passed, .failed:
        if r.commands.isEmpty {
          return [
            Case(
              name: "whole file", seconds: r.seconds, status: r.status == .passed ? "passed" : "failure",
              report: r.report)
          ]
        }
        return r.commands.map { c in
          let status: String
          switch c.status {
          case .passed: status = "passed"
          case .failed: status = "failure"
          case .notRun: status = "skipped"
          }
          return Case(
            name: "line \(c.line): \(c.command)", seconds: c.seconds, status: status, report: c.report)
        }
      }
    }
    let all = results.map { ($0, cases($0)) }
    func count(_ cs: [Case], _ s: String) -> Int { cs.filter { $0.status == s }.count }
    let every = all.flatMap(\.1)
    let total = results.reduce(0) { $0 + $1.seconds }
    var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    out +=
      "<testsuites name=\"proclab check\" tests=\"\(every.count)\" failures=\"\(count(every, "failure"))\" errors=\"\(count(every, "error"))\" skipped=\"\(count(every, "skipped"))\" time=\"\(seconds(total))\">\n"
    for (r, cs) in all {
      out +=
        "  <testsuite name=\"\(escape(r.file))\" tests=\"\(cs.count)\" failures=\"\(count(cs, "failure"))\" errors=\"\(count(cs, "error"))\" skipped=\"\(count(cs, "skipped"))\" time=\"\(seconds(r.seconds))\">\n"
      for c in cs {
        out +=
          "    <testcase classname=\"\(escape(r.file))\" name=\"\(escape(String(c.name.prefix(200))))\" time=\"\(seconds(c.seconds))\""
        let report = truncated(c.report)
        let first = escape(
          String((report.split(separator: "\n").first.map(String.init) ?? c.status).prefix(200)))
        switch c.status {
        case "passed": out += "/>\n"
        case "skipped": out += ">\n      <skipped message=\"\(first)\"/>\n    </testcase>\n"
        default:
          out +=
            ">\n      <\(c.status) message=\"\(first)\">\(escape(report))</\(c.status)>\n    </testcase>\n"
        }
      }
      out += "  </testsuite>\n"
    }
    out += "</testsuites>\n"
    return out
  }

  static func seconds(_ s: Double) -> String { NumberFormat.fixed(s, digits: 3) }

  static func escape(_ s: String) -> String {
    var out = ""
    for ch in Style.stripped(s).unicodeScalars {
      switch ch {
      case "&": out += "&amp;"
      case "<": out += "&lt;"
      case ">": out += "&gt;"
      case "\"": out += "&quot;"
      case "'": out += "&apos;"
      default:
        // XML 1.0 forbids most control characters.
        if ch.value < 0x20 && ch != "\n" && ch != "\t" && ch != "\r" {
          out += "?"
        } else {
          out.unicodeScalars.append(ch)
        }
      }
    }
    return out
  }
}
