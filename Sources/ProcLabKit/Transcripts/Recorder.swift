import Foundation

/// Writes a session as a transcript while it runs. Values the shell knows vary
/// between runs (Outcome.variables) become placeholders: PIDs and TIDs get names
/// (`{{P1:pid}}` the first time, `{{P1}}` after, also in later commands:
/// `kill {{P1}}`), addresses too (`{{A1:addr}}`), and durations, counts and
/// other varying values become anonymous (`{{:duration}}`, `{{:int}}`), so the
/// recording passes `check` as it stands.
public final class Recorder {
  public let path: String
  public private(set) var text = ""
  public private(set) var steps = 0
  /// Named values seen so far: value text → placeholder name, per kind.
  private var names: [Variable.Kind: [String: String]] = [:]
  private var counters: [Variable.Kind: Int] = [:]
  private var pendingNarration: [String] = []
  private var seenHistory = 0
  private var lastHistoryEntry: String?

  public init(path: String) { self.path = path }

  /// Starts counting typed lines from now (narration is found in the session's history).
  public func start(session: Session) {
    seenHistory = session.history.count
    lastHistoryEntry = session.history.last
  }

  /// Adds narration (a `# …` line typed at the prompt).
  public func narrate(_ text: String) { pendingNarration.append(text) }

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
    for entry in fresh where entry.hasPrefix("#") {
      pendingNarration.append(String(entry.dropFirst().drop { $0 == " " }))
    }
    seenHistory = history.count
    lastHistoryEntry = history.last
  }

  /// Records one outcome as it was shown (settings of the session: explanations, trace).
  public func record(_ outcome: Outcome, session: Session) {
    collectNarration(from: session)
    let rendered = Render.outcome(outcome, explain: session.settings.explain, color: false)
    var shown =
      rendered.isEmpty
      ? [] : rendered.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    if session.settings.trace && !outcome.trace.isEmpty {
      shown += Render.trace(outcome.trace, color: false).split(separator: "\n").map(String.init)
    }
    Style.enabled = session.settings.color
    let lines = TranscriptPlayer.lines(of: shown)
    append(command: outcome.input, lines: lines, variables: outcome.variables)
  }

  /// Adds a step: narration so far, the command (known values as references) and its generalized output.
  public func append(command: String, lines: [String], variables: [Variable]) {
    for n in pendingNarration { text += n.isEmpty ? "#\n" : "# \(n)\n" }
    pendingNarration = []
    text += Transcript.prompt + generalizeCommand(command) + "\n"
    // An address equal to one of an earlier command is a coincidence of mmap reusing a place, not a
    // fact worth checking: address names hold within one command's output only.
    names[.addr] = [:]
    for line in generalize(lines, variables: variables) { text += line + "\n" }
    steps += 1
  }

  /// Narration typed after the last command.
  public func finish(session: Session) {
    collectNarration(from: session)
    for n in pendingNarration { text += n.isEmpty ? "#\n" : "# \(n)\n" }
    pendingNarration = []
  }

  public func save() throws { try StateDirectory.writeAtomically(text, to: path) }

  /// Seeds names from captures a transcript already has (`--update` reuses them).
  public func know(_ captures: Captures) {
    for (name, value) in captures.values {
      guard let kind = captures.kinds[name], Recorder.namedKinds.contains(kind) else { continue }
      names[kind, default: [:]][value] = name
      if let n = Int(name.dropFirst(Recorder.prefix(kind).count)), name.hasPrefix(Recorder.prefix(kind)) {
        counters[kind] = max(counters[kind] ?? 0, n)
      }
    }
  }

  static let namedKinds: [Variable.Kind] = [.pid, .tid, .addr]
  static func prefix(_ kind: Variable.Kind) -> String {
    switch kind {
    case .pid: "P"
    case .tid: "T"
    default: "A"
    }
  }

  /// A command with every known PID/TID/address replaced by its name.
  func generalizeCommand(_ command: String) -> String {
    var out = Recorder.escape(command)
    for kind in Recorder.namedKinds {
      for (value, name) in (names[kind] ?? [:]).sorted(by: { $0.key.count > $1.key.count }) {
        out = Recorder.replaceTokens(value, with: "{{\(name)}}", in: out)
      }
    }
    return out
  }

  /// Output lines with varying values as placeholders and markup-like lines escaped.
  public func generalize(_ lines: [String], variables: [Variable]) -> [String] {
    // Longest first, so `4312` inside `43121` or `1.2 ms` inside `11.2 ms` is never taken for a value.
    let unique = Dictionary(
      variables.map { ($0.text, $0) },
      uniquingKeysWith: { a, b in Recorder.rank(a.kind) >= Recorder.rank(b.kind) ? a : b }
    )
    .values.sorted { $0.text.count != $1.text.count ? $0.text.count > $1.text.count : $0.text < $1.text }
    return lines.map { line in
      // An explanation is prose computed from the numbers, and its wording branches on them
      // ("mostly user space" or "mostly kernel work"): its first words stay, the rest may vary.
      if line.hasPrefix(Recorder.explanationMark) { return Recorder.explanationPattern(line) }
      var out = Recorder.drawnAsWords(Recorder.escape(line))
      if ["...", "~~~", "#", "proclab>"].contains(where: { out.hasPrefix($0) }) { out = "\\" + out }
      // Named values already seen (the shell's PID in `info` after `spawn`) are references.
      var pieces: [(String, String)] = []
      for v in unique {
        let token: String
        if Recorder.namedKinds.contains(v.kind) {
          if let name = names[v.kind]?[v.text] {
            token = "{{\(name)}}"
          } else if out.contains(v.text) && Recorder.containsToken(v.text, in: out) {
            let n = (counters[v.kind] ?? 0) + 1
            counters[v.kind] = n
            let name = Recorder.prefix(v.kind) + String(n)
            names[v.kind, default: [:]][v.text] = name
            // The first occurrence captures; the rest refer back.
            let placeholderToken = "\u{1}\(pieces.count)\u{1}"
            pieces.append((placeholderToken, "{{\(name):\(v.kind.rawValue)}}"))
            out = Recorder.replaceFirstToken(v.text, with: placeholderToken, in: out)
            token = "{{\(name)}}"
          } else {
            continue
          }
        } else {
          token = "{{:\(v.kind.rawValue)}}"
        }
        let marker = "\u{1}\(pieces.count)\u{1}"
        pieces.append((marker, token))
        out = Recorder.replaceTokens(v.text, with: marker, in: out)
      }
      for (marker, token) in pieces { out = out.replacingOccurrences(of: marker, with: token) }
      return Recorder.generalizeUnnoted(out)
    }
  }

  /// Measured values a command printed without noting them (often in an
  /// explanation: `14.9 ms CPU in all, 26.1% of it in the kernel`): durations
  /// and decimal numbers vary between runs, so they become anonymous placeholders.
  /// Whole numbers stay: they are mostly counts the learner asked for.
  static func generalizeUnnoted(_ line: String) -> String {
    let pattern =
      #"\{\{.*?\}\}|(?<![\w.{])-?\d+(?:\.\d+)? ?(?:ns|µs|us|ms|s)(?![\w])|(?<![\w.{])-?\d+\.\d+(?![\w]|\.\d)|(?<![\w.{])\d+(?:\.\d+)?(?=×)|(?<![\w.{,])\d{7,}(?![\w.,])"#
    guard let regex = try? NSRegularExpression(pattern: pattern) else { return line }
    let ns = line as NSString
    var out = ""
    var last = 0
    for m in regex.matches(in: line, range: NSRange(location: 0, length: ns.length)) {
      let text = ns.substring(with: m.range)
      out += ns.substring(with: NSRange(location: last, length: m.range.location - last))
      if text.hasPrefix("{{") {
        out += text
      } else if text.allSatisfy({ $0.isASCII && $0.isNumber }) {
        // Seven digits or more, not noted: a random suffix or a large measured number.
        out += "{{:int}}"
      } else if ValueScanner.durationSeconds(text, requireUnit: true) != nil {
        out += "{{:duration}}"
      } else {
        out += "{{:float}}"
      }
      last = m.range.location + m.range.length
    }
    return out + ns.substring(from: last)
  }

  /// Bars and timelines (`█████▏`, `··111111░░██`) are drawn from measurements: each is one word.
  static func drawnAsWords(_ line: String) -> String {
    line.split(separator: " ", omittingEmptySubsequences: false).map { token -> String in
      let glyphs = token.filter { Recorder.chartGlyphs.contains($0) }.count
      let drawn = token.allSatisfy { Recorder.chartGlyphs.contains($0) || ($0.isASCII && $0.isNumber) }
      return drawn && (glyphs > 0 || token.count >= 16) && token.count >= 2 ? "{{:word}}" : String(token)
    }.joined(separator: " ")
  }

  static let chartGlyphs: Set<Character> = Set("█▉▊▋▌▍▎▏░▒▓·▁▂▃▄▅▆▇")

  static let explanationMark = "→ "

  /// `→ Reaped with wait4, which also …` becomes `→ Reaped with wait4{{:text}}`: the words up to the
  /// first number or punctuation mark, which name the subject, and any text after them.
  static func explanationPattern(_ line: String) -> String {
    let body = line.dropFirst(explanationMark.count)
    var kept = ""
    var words = 0
    for ch in body {
      if (ch.isNumber && (kept.isEmpty || kept.last == " ")) || ",.:;—(".contains(ch) || words >= 4 { break }
      if ch == " " { words += 1 }
      kept.append(ch)
    }
    return explanationMark + Recorder.escape(kept) + "{{:text}}"
  }

  static func rank(_ kind: Variable.Kind) -> Int {
    switch kind {
    case .pid: 7
    case .tid: 6
    case .addr: 5
    case .duration: 4
    case .float: 3
    case .int: 2
    case .word: 1
    case .text: 0
    }
  }

  /// A literal `{{` in output is written `\{{`.
  static func escape(_ s: String) -> String { s.replacingOccurrences(of: "{{", with: "\\{{") }

  static func isBoundary(_ c: Character?) -> Bool {
    guard let c else { return true }
    return !(c.isLetter || c.isNumber || c == "." || c == "_" || c == "\u{1}")
  }

  static func tokenRanges(_ value: String, in s: String) -> [Range<String.Index>] {
    guard !value.isEmpty else { return [] }
    var ranges: [Range<String.Index>] = []
    var from = s.startIndex
    while let r = s.range(of: value, range: from..<s.endIndex) {
      let before = r.lowerBound == s.startIndex ? nil : s[s.index(before: r.lowerBound)]
      let after = r.upperBound == s.endIndex ? nil : s[r.upperBound]
      // A sentence's full stop after a value is still a boundary (`took 3.2 ms.`).
      let afterOK =
        isBoundary(after)
        || (after == "."
          && (s.index(after: r.upperBound) == s.endIndex || s[s.index(after: r.upperBound)] == " "))
      if isBoundary(before) && afterOK { ranges.append(r) }
      from = r.upperBound
    }
    return ranges
  }

  static func containsToken(_ value: String, in s: String) -> Bool { !tokenRanges(value, in: s).isEmpty }

  static func replaceTokens(_ value: String, with replacement: String, in s: String) -> String {
    var out = s
    for r in tokenRanges(value, in: s).reversed() { out.replaceSubrange(r, with: replacement) }
    return out
  }

  static func replaceFirstToken(_ value: String, with replacement: String, in s: String) -> String {
    guard let r = tokenRanges(value, in: s).first else { return s }
    var out = s
    out.replaceSubrange(r, with: replacement)
    return out
  }
}
