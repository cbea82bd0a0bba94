import Foundation

/// How `check` prints its verdicts: text for people, JUnit XML for CI, JSON for
/// the parallel runner (`--jobs`) to read back from its children.
public enum CheckReport {
  public static func json(_ r: FileCheckResult) -> String {
    var o = JSONObject()
    o["file"] = .string(r.file)
    o["status"] = .string(r.status.rawValue)
    o["report"] = .string(r.report)
    o["steps"] = .int(r.steps)
    o["seconds"] = .double(r.seconds)
    o["updated"] = .bool(r.updated)
    return JSON.object(o).serialized
  }

  public static func parse(_ line: String) -> FileCheckResult? {
    guard let j = JSON.parse(line), let file = j["file"]?.stringValue,
      let status = j["status"]?.stringValue.flatMap(FileCheckResult.Status.init(rawValue:))
    else { return nil }
    return FileCheckResult(
      file: file, status: status, report: j["report"]?.stringValue ?? "", steps: j["steps"]?.intValue ?? 0,
      seconds: j["seconds"]?.doubleValue ?? 0, updated: j["updated"]?.boolValue ?? false)
  }

  public static func text(_ r: FileCheckResult) -> String {
    let time = Units.duration(seconds: r.seconds)
    switch r.status {
    case .passed:
      return Style.green("PASS") + " \(r.file) (\(Units.plural(r.steps, "command")), \(time))"
        + (r.updated ? " — updated" : "")
    case .failed:
      return Style.red("FAIL") + " \(r.file) (\(Units.plural(r.steps, "command")), \(time))\n" + r.report
    case .unreadable:
      return Style.red("ERROR") + " " + r.report
    }
  }

  public static func summary(_ results: [FileCheckResult]) -> String {
    let passed = results.filter { $0.status == .passed }.count
    let failed = results.filter { $0.status == .failed }.count
    let broken = results.filter { $0.status == .unreadable }.count
    var parts = ["\(passed) passed"]
    if failed > 0 { parts.append("\(failed) failed") }
    if broken > 0 { parts.append("\(broken) could not be read or parsed") }
    return "\(Units.plural(results.count, "file")): " + parts.joined(separator: ", ")
  }

  /// 0 all passed, 2 any file unreadable or unparsable, else 1 any mismatch.
  public static func exitStatus(_ results: [FileCheckResult]) -> Int32 {
    if results.contains(where: { $0.status == .unreadable }) { return 2 }
    if results.contains(where: { $0.status == .failed }) { return 1 }
    return 0
  }

  /// JUnit XML: one test suite, one test case per file, a failure or error with the report.
  public static func junit(_ results: [FileCheckResult]) -> String {
    let failures = results.filter { $0.status == .failed }.count
    let errors = results.filter { $0.status == .unreadable }.count
    let total = results.reduce(0) { $0 + $1.seconds }
    var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    out +=
      "<testsuites tests=\"\(results.count)\" failures=\"\(failures)\" errors=\"\(errors)\" time=\"\(String(format: "%.3f", total))\">\n"
    out +=
      "  <testsuite name=\"proclab check\" tests=\"\(results.count)\" failures=\"\(failures)\" errors=\"\(errors)\" time=\"\(String(format: "%.3f", total))\">\n"
    for r in results {
      let name = escape(r.file)
      out +=
        "    <testcase classname=\"proclab.check\" name=\"\(name)\" time=\"\(String(format: "%.3f", r.seconds))\""
      switch r.status {
      case .passed: out += "/>\n"
      case .failed:
        let first = escape(r.report.split(separator: "\n").first.map(String.init) ?? "mismatch")
        out += ">\n      <failure message=\"\(first)\">\(escape(r.report))</failure>\n    </testcase>\n"
      case .unreadable:
        out +=
          ">\n      <error message=\"\(escape(r.report))\">\(escape(r.report))</error>\n    </testcase>\n"
      }
    }
    out += "  </testsuite>\n</testsuites>\n"
    return out
  }

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
