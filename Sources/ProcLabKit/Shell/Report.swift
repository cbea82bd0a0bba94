/// What a command builds while it runs: the lines it prints, the values in
/// those lines that vary from run to run (so a recorder can turn them into
/// placeholders), its facts for `--json`, and its explanation.
///
/// A class so that `report.line("pid \(report.pid(p))")` can note the
/// variable value while building the line.
public final class Report {
  public var lines: [String] = []
  public var variables: [Variable] = []
  public var facts = JSONObject()
  public var explanation = Explanation()
  /// Tables among the lines, laid out again for a narrow terminal (`table(_:)`).
  public var tables: [TableBlock] = []
  /// False when the command failed (bad input, refused, interrupted).
  public var succeeded = true

  public init() {}

  public func line(_ text: String = "") { lines.append(text) }
  public func lines(_ more: [String]) { lines.append(contentsOf: more) }
  /// A table that adapts to a narrow terminal (shorter headings, columns moved under their row).
  public func table(_ t: Table) {
    let rendered = t.lines
    tables.append(TableBlock(start: lines.count, count: rendered.count, table: t))
    lines.append(contentsOf: rendered)
  }

  public func fact(_ key: String, _ value: some JSONRepresentable) { facts[key] = value.json }

  /// Short explanation: a sentence or two shown after the facts.
  public func explain(_ short: String, more: String? = nil) {
    explanation.short.append(short)
    if let more { explanation.full.append(more) }
  }
  /// Extra paragraphs only shown with `set explain full` or `explain`.
  public func explainMore(_ text: String) { explanation.full.append(text) }

  // MARK: values that vary between runs

  @discardableResult
  public func note(_ text: String, _ kind: Variable.Kind) -> String {
    if !text.isEmpty { variables.append(Variable(text: text, kind: kind)) }
    return text
  }
  public func pid(_ pid: Int32) -> String { note(String(pid), .pid) }
  public func tid(_ tid: Int32) -> String { note(String(tid), .tid) }
  public func addr(_ address: UInt) -> String { note(Units.address(address), .addr) }
  public func duration(_ d: Duration) -> String { note(Units.duration(d), .duration) }
  public func seconds(_ s: Double) -> String { note(Units.duration(seconds: s), .duration) }
  public func count(_ n: Int) -> String { note(String(n), .int) }
  public func number(_ x: Double, digits: Int = 1) -> String {
    note(Units.fixed(x, digits: digits), .float)
  }
}

/// A printed value that varies between runs, and what kind of value it is.
public struct Variable: Sendable, Equatable {
  public enum Kind: String, Sendable, CaseIterable {
    case int, float, duration, pid, tid, addr, word, text
  }
  public var text: String
  public var kind: Kind
  public init(text: String, kind: Kind) {
    self.text = text
    self.kind = kind
  }
}

/// The explanation of an outcome: a short form shown by default and a full
/// form shown with `set explain full` or by `explain`.
public struct Explanation: Sendable, Equatable {
  public var short: [String] = []
  public var full: [String] = []
  public var isEmpty: Bool { short.isEmpty && full.isEmpty }
  public init() {}
}
