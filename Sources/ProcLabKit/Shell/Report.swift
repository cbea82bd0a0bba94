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
  /// Runs of lines (indices into `lines`) whose order varies between runs (which child
  /// ended first): a recording writes them as an unordered block.
  public var unorderedRuns: [Range<Int>] = []

  /// How many values had been noted when the last line was added: values noted after it that an
  /// explanation then prints are the explanation's, not the next line's (see `explain`).
  private var notedAtLastLine = 0

  public init() {}

  public func line(_ text: String = "") {
    lines.append(text)
    notedAtLastLine = variables.count
  }
  /// A line that, wrapped on a narrow terminal, goes on under `continuation` (spaces).
  public func line(_ text: String, continuation: String) {
    tables.append(TableBlock(start: lines.count, count: 1, content: .prose(text, continuation: continuation)))
    lines.append(text)
    notedAtLastLine = variables.count
  }
  public func lines(_ more: [String]) {
    lines.append(contentsOf: more)
    notedAtLastLine = variables.count
  }
  /// A table that adapts to a narrow terminal (shorter headings, columns moved under their row).
  /// With `rowsInAnyOrder`, its rows (not the heading) are a run whose order varies (`linesInAnyOrder`).
  public func table(_ t: Table, rowsInAnyOrder: Bool = false) {
    let rendered = t.lines
    tables.append(TableBlock(start: lines.count, count: rendered.count, table: t))
    let heading = t.headers.isEmpty ? 0 : 1
    lines.append(contentsOf: rendered.prefix(heading))
    if rowsInAnyOrder {
      linesInAnyOrder(Array(rendered.dropFirst(heading)))
    } else {
      lines.append(contentsOf: rendered.dropFirst(heading))
    }
    notedAtLastLine = variables.count
  }
  /// A bar chart whose bars shorten on a narrow terminal (labels and figures stay whole).
  public func chart(_ c: BarChart) {
    let rendered = c.lines
    tables.append(TableBlock(start: lines.count, count: rendered.count, content: .bars(c)))
    lines.append(contentsOf: rendered)
    notedAtLastLine = variables.count
  }
  /// A timeline that takes fewer columns on a narrow terminal (each column then stands for more time).
  public func timeline(_ t: Timeline) {
    let rendered = t.lines
    tables.append(TableBlock(start: lines.count, count: rendered.count, content: .timeline(t)))
    lines.append(contentsOf: rendered)
    notedAtLastLine = variables.count
  }

  /// Adds lines whose order varies from run to run (rows of children in the order they
  /// ended): the values in them are noted as usual, and a recording lets them come in any order.
  public func linesInAnyOrder(_ more: [String]) {
    let start = lines.count
    lines.append(contentsOf: more)
    notedAtLastLine = variables.count
    if more.count > 1 { unorderedRuns.append(start..<lines.count) }
  }

  public func fact(_ key: String, _ value: some JSONRepresentable) { facts[key] = value.json }

  /// Short explanation: a sentence or two shown after the facts.
  public func explain(_ short: String, more: String? = nil) {
    explanation.short.append(short)
    if let more { explanation.full.append(more) }
    forgetNotes(printedIn: short + "\n" + (more ?? ""))
  }
  /// Extra paragraphs only shown with `set explain full` or `explain`.
  public func explainMore(_ text: String) {
    explanation.full.append(text)
    forgetNotes(printedIn: text)
  }

  /// Values noted while building an explanation vary in it, not in any output line: a recording
  /// writes explanations as `...`, and the note must not loosen the same value on a line
  /// added later (`holding 3 threads` after an explanation that counted 3).
  private func forgetNotes(printedIn text: String) {
    guard variables.count > notedAtLastLine else { return }
    let kept = variables[notedAtLastLine...].filter { !text.contains($0.text) }
    variables.replaceSubrange(notedAtLastLine..., with: kept)
  }

  // MARK: values that vary between runs

  /// Notes a value of the line being built (the next line added) that varies between runs.
  @discardableResult
  public func note(_ text: String, _ kind: Variable.Kind) -> String {
    if !text.isEmpty { variables.append(Variable(text: text, kind: kind, line: lines.count)) }
    return text
  }

  /// A value that varies among known choices with timing (a process state: `S` or `R`;
  /// `Z zombie` or `S sleeping`): a recording accepts any of them, and nothing else.
  @discardableResult
  public func varying(_ text: String, among choices: [String]) -> String {
    var all = choices
    if !all.contains(text) { all.insert(text, at: 0) }
    let kind: Variable.Kind = all.contains { $0.contains(" ") || $0.isEmpty } ? .text : .word
    variables.append(Variable(text: text, kind: kind, line: lines.count, variation: .oneOf(all)))
    return text
  }

  /// A value that depends on the machine or on how proclab was started rather than on the
  /// command (the parent's name, inherited descriptors, paths): anything of its kind matches.
  /// (As text unless told: one machine's parent is `bash`, another's `tmux: server`.)
  @discardableResult
  public func machine(_ text: String, _ kind: Variable.Kind = .text) -> String {
    guard !text.isEmpty else { return text }
    variables.append(Variable(text: text, kind: kind, line: lines.count, variation: .machine))
    return text
  }
  /// A value the command's arguments or the experiment fix, printed where a recording would
  /// otherwise loosen it as a measurement (`sleeps 20 s` for `--hold 20`, `exited 7`): it stays
  /// literal, so the transcript checks it.
  @discardableResult
  public func fixed(_ text: String) -> String {
    guard !text.isEmpty else { return text }
    variables.append(Variable(text: text, kind: .text, line: lines.count, variation: .fixed))
    return text
  }

  /// A value that varies between runs but always within a bound that holds on every Linux
  /// run, not just usually (a buffer of 4 slots is never fuller than 4: `1..4`): a recording
  /// writes the bound (`{{:int 1..4}}`), so the transcript checks what the lesson claims.
  @discardableResult
  public func bounded(_ text: String, _ kind: Variable.Kind, _ bound: String) -> String {
    variables.append(Variable(text: text, kind: kind, line: lines.count, variation: .bounded(bound)))
    return text
  }

  /// A value that varies between runs but is one value wherever it appears in this output
  /// (`pipe:[5522654]` for a's stdout and b's stdin): a recording checks they are equal.
  @discardableResult
  public func same(_ text: String, _ kind: Variable.Kind) -> String {
    if !text.isEmpty {
      variables.append(Variable(text: text, kind: kind, line: lines.count, variation: .same))
    }
    return text
  }

  public func pid(_ pid: Int32) -> String { note(String(pid), .pid) }
  public func tid(_ tid: Int32) -> String { note(String(tid), .tid) }
  public func addr(_ address: UInt) -> String { note(Units.address(address), .addr) }
  public func duration(_ d: Duration) -> String { note(Units.duration(d), .duration) }
  public func seconds(_ s: Double) -> String { note(Units.duration(seconds: s), .duration) }
  public func count(_ n: Int) -> String { note(String(n), .int) }
  /// A count that varies and its noun, which follows it into the plural: `1 voluntary switch`,
  /// `2 voluntary switches` (a recording accepts either form, with any count).
  public func count(_ n: Int, _ singular: String, _ plural: String) -> String {
    "\(count(n)) \(varying(n == 1 ? singular : plural, among: [singular, plural]))"
  }
  public func number(_ x: Double, digits: Int = 1) -> String {
    note(Units.fixed(x, digits: digits), .float)
  }
}

/// A printed value that varies between runs, what kind of value it is, where it
/// was printed and how it varies.
public struct Variable: Sendable, Equatable {
  public enum Kind: String, Sendable, CaseIterable {
    case int, float, duration, pid, tid, addr, word, text
  }
  /// How a value varies, beyond its kind.
  public enum Variation: Sendable, Equatable {
    /// Any value of the kind (a measurement, a PID).
    case anyOfKind
    /// One of these (a state that timing decides).
    case oneOf([String])
    /// Fixed on one machine, different on another (a parent's name, a descriptor list).
    case machine
    /// Fixed by the command (its arguments, the experiment): written literally.
    case fixed
    /// Varies, always within this bound (`1..4`, `>0`, `<0`).
    case bounded(String)
    /// Varies, but wherever it appears again in this output it is the same value (both ends
    /// of one pipe): a recording names it (`{{V1:word}}`, then `{{V1}}`), so the check checks that.
    case same
  }
  public var text: String
  public var kind: Kind
  /// The index of the report line the value was noted for (the line being built when
  /// it was noted); nil when unknown. A recording looks for the value from that line on,
  /// so a varying "2" never loosens a fixed "2" printed elsewhere.
  public var line: Int?
  public var variation: Variation
  public init(text: String, kind: Kind, line: Int? = nil, variation: Variation = .anyOfKind) {
    self.text = text
    self.kind = kind
    self.line = line
    self.variation = variation
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
