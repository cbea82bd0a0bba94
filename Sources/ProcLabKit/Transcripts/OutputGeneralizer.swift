/// Turns one outcome's output lines into expected lines, from what the command
/// said about its values (`Outcome.variables`, `Outcome.unorderedRuns`):
///
/// - a value noted while building report line L is looked for from line L on,
///   and each note claims one occurrence: the varying "2" of one line never
///   loosens a fixed "2" (`siblings: 2 of 2`) or a word (`core dump`) elsewhere;
/// - PIDs and TIDs are named wherever they appear, also where the command did
///   not note them (`kill 24503 CONT` in a sentence, in `history`);
/// - choices (`Report.varying`) become `{{:word S|R}}`, machine-dependent
///   values (`Report.machine`) `{{:word}}`/`{{:text}}`;
/// - explanation lines become `...` (their wording branches on the numbers).
struct OutputGeneralizer {
  let names: RecordedNames
  let historyBeforeStart: Int

  fileprivate struct Claim {
    var start: Int
    var end: Int
    var kind: Variable.Kind
    var value: String
    var choices: [String]?
    var named: Bool
    /// Written literally (`Report.fixed`).
    var fixed = false
    /// `{{:int 1..4}}` (`Report.bounded`).
    var bound: String?
  }

  /// Where each value of one outcome's lines is, before any line is written: `--update`
  /// writes only the lines no hand-written line covers, naming values as it goes.
  struct Plan {
    fileprivate var chars: [[Character]]
    fileprivate var claims: [[Claim]]
    fileprivate var isExplanation: [Bool]
    var shown: [String]
    var blocks: [Int?]
    var command: String
  }

  /// Every line of an outcome, generalized (what the recorder writes).
  func generalize(_ outcome: Outcome, shown: [String]) -> [GeneralizedLine] {
    let plan = self.plan(outcome, shown: shown)
    let out = plan.shown.indices.map { GeneralizedLine(text: write(plan, line: $0), block: plan.blocks[$0]) }
    return outcome.command == "history" ? history(out) : out
  }

  /// Line j of a plan as an expected line.
  /// (An explanation is prose computed from the numbers: its wording, and how many lines
  /// it takes, branch on them (`All ended…` or `They ended in different ways…`), so a
  /// recording writes `...` where explanations were shown.)
  func write(_ plan: Plan, line j: Int) -> String {
    plan.isExplanation[j] ? ExpectedOutput.skipMarker : write(plan.chars[j], plan.claims[j])
  }

  /// Line j as a person wrote it: an explanation line too (`--update` rewrites a hand-written
  /// explanation line in place rather than dropping it), its PIDs, TIDs and addresses named.
  func writeAsShown(_ plan: Plan, line j: Int) -> String {
    guard plan.isExplanation[j] else { return write(plan, line: j) }
    var claims: [Claim] = []
    for (kind, values) in names.byKind {
      for value in values.keys {
        for r in Tokens.ranges(Array(value), in: plan.chars[j])
        where !claims.contains(where: { $0.start < r.upperBound && r.lowerBound < $0.end }) {
          claims.append(Claim(start: r.lowerBound, end: r.upperBound, kind: kind, value: value, named: true))
        }
      }
    }
    return write(plan.chars[j], claims)
  }

  func plan(_ outcome: Outcome, shown: [String]) -> Plan {
    names.forgetPerCommandNames()
    let chars = shown.map { Array(LinePattern.trimTrailing($0)) }
    // Where each report line starts among the shown lines (a report line may hold newlines).
    var reportStart: [Int] = []
    var index = 0
    for line in outcome.lines {
      reportStart.append(index)
      index += line.reduce(1) { $1 == "\n" ? $0 + 1 : $0 }
    }
    let reportEnd = min(index, chars.count)
    func startLine(_ v: Variable) -> Int {
      guard let l = v.line else { return 0 }
      return l < reportStart.count ? reportStart[l] : reportEnd
    }
    let isExplanation = chars.indices.map { j in
      j >= reportEnd && shown[j].hasPrefix(OutputGeneralizer.explanationMark)
    }
    var claims = Array(repeating: [Claim](), count: chars.count)
    func free(_ j: Int, _ r: Range<Int>) -> Bool {
      !claims[j].contains { $0.start < r.upperBound && r.lowerBound < $0.end }
    }
    // One pass in the order the values were noted: each claims its next occurrence after the
    // previous claim (a line's values are noted left to right as its text is built, a table's
    // row by row), from the line it was noted for; a text (a list, a phrase) covers the values
    // inside it. Then PIDs, TIDs and addresses claim every free occurrence of themselves (a
    // value noted both as a PID and as a TID, the main thread's, is named as the PID).
    let named = outcome.variables.filter(\.isNamedWhenRecorded).enumerated().sorted {
      ($0.element.kind == .pid ? 0 : 1, $0.offset) < ($1.element.kind == .pid ? 0 : 1, $1.offset)
    }.map(\.element)
    // PIDs, TIDs and addresses take part in the pass (their cells move the cursor along a table's
    // row, so the row's next note is looked for after them, not in the heading).
    let pidValues = Set(outcome.variables.filter { $0.kind == .pid }.map(\.text)).union(
      names.processValues.filter { $0.value == .pid }.keys)
    var cursor = (line: 0, column: 0)
    func claimOne(_ v: Variable) {
      let value = Array(v.text)
      var choices: [String]?
      var bound: String?
      if case .oneOf(let list) = v.variation { choices = list }
      if case .bounded(let b) = v.variation { bound = b }
      let from = startLine(v)
      // From the cursor when it is at or past the note's line; else from the note's line; else
      // anywhere (a note made just after its line). A note made after the last line belongs to
      // the explanation, which is written as `...`: it claims nothing.
      guard from < reportEnd else { return }
      var starts: [(line: Int, column: Int)] = []
      if cursor.line >= from && cursor.line < reportEnd { starts.append(cursor) }
      starts.append((from, 0))
      starts.append((0, 0))
      for start in starts where start.line < reportEnd {
        for j in start.line..<reportEnd where !isExplanation[j] {
          let minColumn = j == start.line ? start.column : 0
          if let r = Tokens.ranges(value, in: chars[j]).first(where: {
            $0.lowerBound >= minColumn && free(j, $0)
          }) {
            let isNamed = v.isNamedWhenRecorded
            // The main thread's TID is the process's PID: named as the PID.
            let kind = v.kind == .tid && pidValues.contains(v.text) ? .pid : v.kind
            claims[j].append(
              Claim(
                start: r.lowerBound, end: r.upperBound, kind: kind, value: v.text, choices: choices,
                named: isNamed, fixed: v.variation == .fixed, bound: bound))
            cursor = (j, r.upperBound)
            return
          }
        }
      }
    }
    for v in outcome.variables { claimOne(v) }
    for v in named {
      let value = Array(v.text)
      let kind = v.kind == .tid && pidValues.contains(v.text) ? .pid : v.kind
      // A PID is named wherever it is; a value the same only within this output, from its line on.
      let lines = v.variation == .same ? max(0, min(startLine(v), chars.count))..<chars.count : chars.indices
      for j in lines where !isExplanation[j] {
        for r in Tokens.ranges(value, in: chars[j]) where free(j, r) {
          claims[j].append(
            Claim(start: r.lowerBound, end: r.upperBound, kind: kind, value: v.text, named: true))
        }
      }
    }
    // PIDs and TIDs named earlier (or in this output), wherever they appear unnoted.
    var known = names.processValues
    for v in outcome.variables where v.kind == .pid || v.kind == .tid { known[v.text] = v.kind }
    let notedHere = Set(outcome.variables.map(\.text))
    for j in chars.indices where !isExplanation[j] {
      for r in Tokens.numbers(in: chars[j]) where free(j, r) {
        let value = String(chars[j][r])
        // A short number is more likely a count than a PID nobody noted here.
        guard let kind = known[value], value.count >= 3 || notedHere.contains(value) else { continue }
        claims[j].append(Claim(start: r.lowerBound, end: r.upperBound, kind: kind, value: value, named: true))
      }
    }
    // Rows whose order varies: an unordered block.
    var blocks = [Int?](repeating: nil, count: chars.count)
    for (b, run) in outcome.unorderedRuns.enumerated() where run.lowerBound < reportStart.count {
      let first = reportStart[run.lowerBound]
      let last = run.upperBound < reportStart.count ? reportStart[run.upperBound] : reportEnd
      for j in first..<min(last, chars.count) { blocks[j] = b }
    }
    return Plan(
      chars: chars, claims: claims, isExplanation: isExplanation, shown: shown, blocks: blocks,
      command: outcome.command)
  }

  /// One line: literal text escaped, claimed values as placeholders (named in reading order).
  /// Text between claims is loosened where it holds unnoted measurements and drawings
  /// (`generalizeUnnoted`, `drawnAsWords`); a value the command called fixed is not.
  private func write(_ line: [Character], _ claims: [Claim]) -> String {
    var out = ""
    var at = 0
    var literal: [Character] = []
    func flushLiteral() {
      out += OutputGeneralizer.generalizeUnnoted(
        OutputGeneralizer.drawnAsWords(Recorder.escape(String(literal))))
      literal = []
    }
    // A value right after a literal `{` stays literal: `{{{:int}}` would read as a broken placeholder.
    for c in claims.sorted(by: { $0.start < $1.start }) where c.start == 0 || line[c.start - 1] != "{" {
      literal += line[at..<c.start]
      flushLiteral()
      if c.fixed {
        out += Recorder.escape(String(line[c.start..<c.end]))
      } else if c.named {
        if let name = names.name(of: c.value, kind: c.kind) {
          out += "{{\(name)}}"
        } else {
          out += "{{\(names.newName(for: c.value, kind: c.kind)):\(c.kind.rawValue)}}"
        }
      } else if let choices = c.choices {
        out += "{{:\(c.kind.rawValue) \(choices.joined(separator: "|"))}}"
      } else {
        // A value noted as a number with a unit of its own (`1.0×`): the number is the placeholder,
        // the rest stays literal; a value that is not of its kind at all becomes text.
        let (kind, length) = OutputGeneralizer.fit(Array(c.value), c.kind)
        out += "{{:\(kind.rawValue)\(c.bound.map { " " + $0 } ?? "")}}"
        if length < c.end - c.start {
          at = c.start + length
          continue
        }
        // A small count's noun follows it into the plural or out of it (`1 voluntary switch`,
        // `2 voluntary switches`): both forms are accepted.
        if kind == .int, let n = Int(c.value.replacing(",", with: "")), (0...3).contains(n),
          let (forms, end) = OutputGeneralizer.nounForms(after: c.end, in: line, count: n),
          !claims.contains(where: { $0.start > c.start && $0.start < end })
        {
          out += " {{:word \(forms.joined(separator: "|"))}}"
          at = end
          continue
        }
      }
      at = c.end
    }
    literal += line[at...]
    flushLiteral()
    if OutputGeneralizer.markup.contains(where: { out.hasPrefix($0) }) { out = "\\" + out }
    return out
  }

  /// The singular and plural of the word after a count (` tasks` → tasks|task), and where
  /// the word ends; nil when no plain word follows or it has no other form.
  static func nounForms(after start: Int, in line: [Character], count: Int) -> ([String], Int)? {
    guard start < line.count, line[start] == " " else { return nil }
    var end = start + 1
    while end < line.count, line[end].isLetter, line[end].isASCII { end += 1 }
    guard end - start - 1 >= 3, end == line.count || !(line[end].isLetter || line[end].isNumber) else {
      return nil
    }
    // An adjective before the noun (`1 voluntary switch`) is the command's to note (Report.count(_:_:_:)).
    if end + 1 < line.count, line[end] == " ", line[end + 1].isLetter, line[end + 1].isLowercase,
      ["al", "ary", "ed", "ive", "ing"].contains(where: { String(line[(start + 1)..<end]).hasSuffix($0) })
    {
      return nil
    }
    let word = String(line[(start + 1)..<end])
    let irregular = ["child": "children", "process": "processes"]
    if let plural = irregular[word] { return ([word, plural], end) }
    if let singular = irregular.first(where: { $0.value == word })?.key { return ([word, singular], end) }
    let sibilant = ["s", "x", "ch", "sh"].contains { word.hasSuffix($0) }
    if count == 1 {
      // `1 reads`: a plural after 1 (a slip in the command's wording) takes the singular too.
      if word.hasSuffix("s") && !word.hasSuffix("ss") { return ([word, String(word.dropLast())], end) }
      return ([word, word + (sibilant ? "es" : "s")], end)
    }
    guard word.hasSuffix("s") else { return nil }
    let stem = String(word.dropLast(2))
    if word.hasSuffix("es") && ["s", "x", "ch", "sh"].contains(where: { stem.hasSuffix($0) }) {
      return ([word, stem], end)
    }
    return ([word, String(word.dropLast())], end)
  }

  /// The kind a noted value is written as, and how much of it the placeholder covers.
  static func fit(_ value: [Character], _ kind: Variable.Kind) -> (Variable.Kind, Int) {
    let ends = ValueScanner.candidates(kind, in: value, from: 0)
    if ends.count > 0 {
      var longest = 0
      for k in 0..<ends.count { longest = max(longest, ends[k]) }
      if longest == value.count { return (kind, value.count) }
      if longest > 0 && !value[longest...].contains(where: { $0.isNumber }) { return (kind, longest) }
    }
    if kind == .word || kind == .text { return (kind, value.count) }
    return (value.contains(where: \.isWhitespace) ? .text : .word, value.count)
  }

  static let markup = ["...", "~~~", "#", "proclab>", ExpectedOutput.failureMarker]

  /// `history` lists the lines typed: those from before the recording are not in a
  /// replay's history, so they become `...` and the numbers placeholders.
  private func history(_ lines: [GeneralizedLine]) -> [GeneralizedLine] {
    guard historyBeforeStart > 0 else { return lines }
    var out: [GeneralizedLine] = []
    var skipped = false
    for line in lines {
      let number = line.text.drop { $0 == " " }.prefix { $0.isNumber }
      if let n = Int(number), n <= historyBeforeStart {
        if !skipped { out.append(GeneralizedLine(text: ExpectedOutput.skipMarker, block: nil)) }
        skipped = true
        continue
      }
      if !number.isEmpty, let r = line.text.firstRange(of: number) {
        var text = line.text
        text.replaceSubrange(r, with: "{{:int}}")
        out.append(GeneralizedLine(text: text, block: line.block))
      } else {
        out.append(line)
      }
    }
    return out
  }

  /// Measured values a command printed without noting them (often in an
  /// explanation: `14.9 ms CPU in all, 26.1% of it in the kernel`): durations
  /// and decimal numbers vary between runs, so they become anonymous placeholders.
  /// Whole numbers stay: they are mostly counts the learner asked for.
  static func generalizeUnnoted(_ line: String) -> String {
    var out = ""
    var last = line.startIndex
    for m in UnnotedValues.ranges(in: line) {
      let text = line[m]
      out += line[last..<m.lowerBound]
      if text.hasPrefix("{{") || text.hasPrefix("\\{{") {
        out += text
      } else if text.allSatisfy({ $0.isASCII && $0.isNumber }) {
        // Seven digits or more, not noted: a random suffix or a large measured number.
        out += "{{:int}}"
      } else if ValueScanner.durationSeconds(String(text), requireUnit: true) != nil {
        out += "{{:duration}}"
      } else {
        out += "{{:float}}"
      }
      last = m.upperBound
    }
    return out + line[last...]
  }

  /// Bars and timelines (`█████▏`, `··111111░░██`) are drawn from measurements: each is one word.
  /// A legend's glyph (`█ inside  ░ waiting`: one glyph before a word) is fixed, and stays.
  static func drawnAsWords(_ line: String) -> String {
    let tokens = line.split(separator: " ", omittingEmptySubsequences: false)
    return tokens.indices.map { i -> String in
      let token = tokens[i]
      let glyphs = token.filter { chartGlyphs.contains($0) }.count
      let drawn = token.allSatisfy { chartGlyphs.contains($0) || ($0.isASCII && $0.isNumber) }
      let next = tokens[(i + 1)...].first { !$0.isEmpty }
      let legend = token.count == 1 && glyphs == 1 && next?.first?.isLetter == true
      // (A bar may be one glyph long, `▏`, and longer in another run: a figure follows it, not a word.)
      return drawn && !legend && (glyphs > 0 || token.count >= 16) && !token.isEmpty
        ? "{{:word}}" : String(token)
    }.joined(separator: " ")
  }

  static let chartGlyphs: Set<Character> = Set("█▉▊▋▌▍▎▏░▒▓·▁▂▃▄▅▆▇")

  static let explanationMark = "→ "

}

/// Whole-token search in a line: a value is found where it stands alone, not inside a
/// longer number, word or decimal (`43` is not found in `4312`, `1,234` or `4.3`).
enum Tokens {
  static func isWordChar(_ c: Character) -> Bool { c.isLetter || c.isNumber || c == "." || c == "_" }

  static func ranges(_ value: [Character], in s: [Character]) -> [Range<Int>] {
    guard let first = value.first, let last = value.last, value.count <= s.count else { return [] }
    var out: [Range<Int>] = []
    var i = 0
    while i + value.count <= s.count {
      let e = i + value.count
      if s[i] == first && s[i..<e].elementsEqual(value) && before(s, i, first) && after(s, e, last) {
        out.append(i..<e)
        i = e
      } else {
        i += 1
      }
    }
    return out
  }

  private static func before(_ s: [Character], _ i: Int, _ first: Character) -> Bool {
    guard isWordChar(first), i > 0 else { return true }
    let c = s[i - 1]
    if c == "," && first.isNumber && i >= 2 && s[i - 2].isNumber { return false }
    return !isWordChar(c)
  }

  private static func after(_ s: [Character], _ e: Int, _ last: Character) -> Bool {
    guard isWordChar(last), e < s.count else { return true }
    let c = s[e]
    // A sentence's full stop after a value is still a boundary (`took 3.2 ms.`).
    if c == "." { return e + 1 == s.count || s[e + 1] == " " }
    if c == "," && last.isNumber && e + 1 < s.count && s[e + 1].isNumber { return false }
    return !isWordChar(c)
  }

  /// Every standalone run of digits.
  static func numbers(in s: [Character]) -> [Range<Int>] {
    var out: [Range<Int>] = []
    var i = 0
    while i < s.count {
      guard s[i].isASCII, s[i].isNumber else {
        i += 1
        continue
      }
      var e = i
      while e < s.count, s[e].isASCII, s[e].isNumber { e += 1 }
      if before(s, i, s[i]) && after(s, e, s[e - 1]) { out.append(i..<e) }
      i = e
    }
    return out
  }

  /// Replaces every standalone occurrence of `value` in `s`.
  static func replace(_ value: String, with replacement: String, in s: String) -> String {
    let chars = Array(s)
    var out = ""
    var at = 0
    for r in ranges(Array(value), in: chars) {
      out += String(chars[at..<r.lowerBound]) + replacement
      at = r.upperBound
    }
    return out + String(chars[at...])
  }
}

extension Variable {
  /// A recording names it (`{{P1:pid}}`, `{{V2:word}}`) and refers to it after: a PID, TID or
  /// address, or a value the command said is the same wherever it appears (`Report.same`).
  fileprivate var isNamedWhenRecorded: Bool { RecordedNames.namedKinds.contains(kind) || variation == .same }
}
