/// Writes a session as a transcript while it runs, so that the file passes
/// `check` as it stands, on any machine, however fast or loaded.
///
/// What the recording generalizes comes from the commands themselves
/// (`Report` notes, see `OutputGeneralizer`): PIDs and TIDs become named
/// captures wherever they appear (`{{P1:pid}}` the first time, `{{P1}}` after,
/// also in later commands: `kill {{P1}}`), addresses too (`{{A1:addr}}`),
/// measurements anonymous placeholders, values timing decides a list of
/// choices (`{{:word S|R}}`), lines whose order varies an unordered block.
/// Everything else, including values fixed by the command's arguments, stays
/// literal: the transcript still checks what it teaches.
public final class Recorder {
  public let path: String
  public private(set) var text = ""
  public private(set) var steps = 0
  /// Also writes the session as an asciicast (`record --cast`), if set.
  public var cast: CastWriter?
  let names = RecordedNames()
  /// Narration typed since the last command, as typed (`# Threads`).
  private var pendingNarration: [String] = []
  private var seenHistory = 0
  private var lastHistoryEntry: String?
  /// History entries typed before the recording started (they are not in a replay's history).
  private(set) var historyBeforeStart = 0
  /// The session's settings when the line being recorded ran (trace on or off).
  private var settingsAtRecord = Settings()
  /// The outcomes of the line being recorded: a typed line may hold several commands (`spawn 2; ps`).
  private var group: Group?

  struct Group {
    var line: String
    var commands: [[String]]
    var outcomes: [Outcome] = []
    var rendered: [[String]] = []
    var complete: Bool { outcomes.count == commands.count }
  }

  public init(path: String) { self.path = path }

  /// Starts counting typed lines from now (narration is found in the session's history).
  public func start(session: Session) {
    seenHistory = session.history.count
    lastHistoryEntry = session.history.last
    historyBeforeStart = session.history.count
  }

  /// Adds narration (a `# …` line typed at the prompt).
  public func narrate(_ text: String) { pendingNarration.append(text.isEmpty ? "#" : "# " + text) }

  /// Finds `# …` lines typed since the last command: the word splitter drops
  /// them as comments, so they never reach an outcome, but the history has them.
  func collectNarration(from session: Session) {
    let history = session.history
    var fresh: ArraySlice<String>
    if history.count > seenHistory {
      fresh = history[seenHistory...]
    } else if let last = lastHistoryEntry, let i = history.lastIndex(of: last) {
      fresh = history[(i + 1)...]
    } else {
      fresh = []
    }
    for entry in fresh where entry.hasPrefix("#") { pendingNarration.append(entry) }
    seenHistory = history.count
    lastHistoryEntry = history.last
  }

  /// Records one outcome as it was shown (settings of the session: explanations, trace).
  public func record(_ outcome: Outcome, session: Session) {
    settingsAtRecord = session.settings
    let shown = Recorder.rendered(outcome, settings: session.settings)
    Style.enabled = session.settings.color
    let typed = session.history.last
    let words = (try? WordSplitter.split(outcome.input))?.first ?? [outcome.command]
    if var g = group, !g.complete, Recorder.same(g.commands[g.outcomes.count], outcome) {
      g.outcomes.append(outcome)
      g.rendered.append(shown)
      group = g
    } else {
      flush()
      collectNarration(from: session)
      // The line as typed (spaces and quotes kept, several commands on one line kept together),
      // when this outcome is its first command; otherwise the command as the shell ran it.
      if let typed, let commands = try? WordSplitter.split(typed), let first = commands.first,
        Recorder.same(first, outcome)
      {
        group = Group(line: typed, commands: commands, outcomes: [outcome], rendered: [shown])
      } else {
        group = Group(line: outcome.input, commands: [words], outcomes: [outcome], rendered: [shown])
      }
    }
    if group?.complete == true { flush() }
  }

  static func same(_ words: [String], _ outcome: Outcome) -> Bool {
    words.map(WordSplitter.quote).joined(separator: " ") == outcome.input
  }

  /// The lines an outcome showed, as the terminal had them, without colour: a table's dim
  /// headings and a chart's cyan bars are styled as the report is built (`Style.enabled` is
  /// the session's), and a recording is plain text whatever the terminal was.
  static func rendered(_ outcome: Outcome, settings: Settings) -> [String] {
    // Unwrapped: the terminal's width is the recording's, not the check's (which reads the
    // logical lines); a wrapped line would be two expected lines only one width gives.
    let text = Render.outcome(outcome, explain: settings.explain, color: false, width: nil)
    var shown =
      text.isEmpty ? [] : text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    if settings.trace && !outcome.trace.isEmpty {
      shown += Render.trace(outcome.trace, color: false, width: nil).split(separator: "\n").map(String.init)
    }
    return shown.map(Style.stripped)
  }

  /// How many of an outcome's shown lines are its trace (`set trace on`): the calls a command
  /// makes vary with timing (a poll that returned early, a retried read), so a recording writes `...`.
  static func traceLineCount(_ outcome: Outcome, settings: Settings) -> Int {
    guard settings.trace && !outcome.trace.isEmpty else { return 0 }
    return Render.trace(outcome.trace, color: false, width: nil).split(separator: "\n").count
  }

  /// Writes the line being recorded as a step (also when `record stop` or `quit` cut it short).
  func flush() {
    guard let g = group else { return }
    group = nil
    let command = g.complete ? g.line : g.outcomes.map(\.input).joined(separator: "; ")
    var lines: [GeneralizedLine] = []
    for (outcome, shown) in zip(g.outcomes, g.rendered) {
      let trace = Recorder.traceLineCount(outcome, settings: settingsAtRecord)
      lines += OutputGeneralizer(names: names, historyBeforeStart: historyBeforeStart).generalize(
        outcome, shown: Array(shown.dropLast(trace)))
      if trace > 0 { lines.append(GeneralizedLine(text: ExpectedOutput.skipMarker, block: nil)) }
    }
    appendStep(command: command, lines: lines)
  }

  /// Adds a step: narration so far, the command (known values as references) and its generalized output.
  func appendStep(command: String, lines: [GeneralizedLine]) {
    for n in pendingNarration { text += Printable.line(n) + "\n" }
    pendingNarration = []
    text += Transcript.prompt + names.generalizeCommand(command) + "\n"
    for line in GeneralizedLine.written(lines) { text += line + "\n" }
    steps += 1
  }

  /// Narration typed after the last command, and the line being recorded.
  public func finish(session: Session) {
    flush()
    collectNarration(from: session)
    for n in pendingNarration { text += Printable.line(n) + "\n" }
    pendingNarration = []
  }

  public func save() throws { try StateDirectory.writeAtomically(text, to: path) }

  /// Saves the transcript and the cast as the recording ends; one that recorded no command
  /// (Ctrl-D or `record stop` at once) is removed instead, cast too: `check` refuses a
  /// transcript without commands, so a valid file or none is left. True when saved.
  @discardableResult
  public func saveAtEnd() throws -> Bool {
    guard steps == 0 else {
      try save()
      try cast?.save()
      return true
    }
    _ = Leftovers.removeFile(path)
    if let cast { _ = Leftovers.removeFile(cast.path) }
    return false
  }

  /// Seeds names from captures a transcript already has (`--update` reuses them).
  public func know(_ captures: Captures) { names.know(captures) }

  /// A literal `{{` in output is written `\{{`.
  static func escape(_ s: String) -> String { s.replacing("{{", with: "\\{{") }
}

/// One line of generalized output; lines of one unordered run share a block number.
struct GeneralizedLine {
  var text: String
  var block: Int?

  /// The lines as a transcript writes them, unordered runs between `~~~ any order` and `~~~`.
  static func written(_ lines: [GeneralizedLine]) -> [String] {
    var out: [String] = []
    var open: Int?
    for line in lines {
      if line.block != open {
        if open != nil { out.append(ExpectedOutput.blockClose) }
        if line.block != nil { out.append(ExpectedOutput.unorderedOpen) }
        open = line.block
      }
      // One `...` covers any number of lines: no need to write two in a row.
      if line.text == ExpectedOutput.skipMarker && out.last == ExpectedOutput.skipMarker { continue }
      out.append(line.text)
    }
    if open != nil { out.append(ExpectedOutput.blockClose) }
    return out
  }
}

/// The names a recording gave to PIDs, TIDs and addresses (`P1`, `T3`, `A2`).
final class RecordedNames {
  static let namedKinds: [Variable.Kind] = [.pid, .tid, .addr]
  private(set) var byKind: [Variable.Kind: [String: String]] = [:]
  /// The last number handed out per prefix (`V` serves every kind that is not a PID, TID or address).
  private var counters: [String: Int] = [:]

  static func prefix(_ kind: Variable.Kind) -> String {
    switch kind {
    case .pid: "P"
    case .tid: "T"
    case .addr: "A"
    default: "V"
    }
  }

  /// Names a transcript already uses (hand-written captures): never handed out again.
  private var reserved = Set<String>()

  func name(of value: String, kind: Variable.Kind) -> String? { byKind[kind]?[value] }

  /// A fresh name for a value seen for the first time.
  func newName(for value: String, kind: Variable.Kind) -> String {
    let prefix = RecordedNames.prefix(kind)
    var n = (counters[prefix] ?? 0) + 1
    while reserved.contains(prefix + String(n)) { n += 1 }
    counters[prefix] = n
    let name = RecordedNames.prefix(kind) + String(n)
    byKind[kind, default: [:]][value] = name
    return name
  }

  func reserve(_ names: [String]) { reserved.formUnion(names) }

  /// Names that hold within one command's output only: an address equal to one of an earlier
  /// command is a coincidence of mmap reusing a place, and a value a command called the same
  /// (Report.same) is the same there only. PIDs and TIDs stay named for the whole recording.
  func forgetPerCommandNames() {
    for kind in byKind.keys where kind != .pid && kind != .tid { byKind[kind] = [:] }
  }

  /// The PIDs and TIDs named so far, value → kind.
  var processValues: [String: Variable.Kind] {
    var out: [String: Variable.Kind] = [:]
    for kind in [Variable.Kind.pid, .tid] { for value in (byKind[kind] ?? [:]).keys { out[value] = kind } }
    return out
  }

  func know(_ captures: Captures) {
    for (name, value) in captures.values {
      guard let kind = captures.kinds[name], RecordedNames.namedKinds.contains(kind) else { continue }
      byKind[kind, default: [:]][value] = name
      let prefix = RecordedNames.prefix(kind)
      if name.hasPrefix(prefix), let n = Int(name.dropFirst(prefix.count)) {
        counters[prefix] = max(counters[prefix] ?? 0, n)
      }
    }
  }

  /// A command with every known PID/TID/address replaced by its name.
  func generalizeCommand(_ command: String) -> String {
    var out = Recorder.escape(command)
    for kind in RecordedNames.namedKinds {
      for (value, name) in (byKind[kind] ?? [:]).sorted(by: { $0.key.count > $1.key.count }) {
        out = Tokens.replace(value, with: "{{\(name)}}", in: out)
      }
    }
    return out
  }
}
