/// Every command the shell knows, found by name or alias.
public struct Registry: Sendable {
  public let commands: [Command]
  private let byName: [String: Int]

  public init(_ commands: [Command]) {
    self.commands = commands
    var index: [String: Int] = [:]
    for (i, c) in commands.enumerated() {
      index[c.name] = i
      for a in c.aliases { index[a] = i }
    }
    byName = index
  }

  public func command(named name: String) -> Command? { byName[name].map { commands[$0] } }

  /// Every name and alias, sorted: what Tab completes at the start of a line.
  public var allNames: [String] { byName.keys.sorted() }

  /// The closest known name to a mistyped one, if it is close enough to be a typo.
  public func suggestion(for word: String) -> String? {
    if byName[word.lowercased()] != nil { return word.lowercased() }
    return Registry.closest(to: word, among: Array(byName.keys))
  }

  /// The closest of `names` to a mistyped word (`--thread` → `--threads`), if close enough to be a typo.
  public static func closest(to word: String, among names: [String]) -> String? {
    // Names are short: a long word is no typo of one, and the edit distance grows with its length.
    // Nor is one character a typo of anything (`e` is not `?`).
    guard word.count <= 32, word.count >= 2, !names.isEmpty else { return nil }
    let lowered = word.lowercased()
    var best: (name: String, distance: Int)?
    for name in names.sorted() {
      let d = editDistance(lowered, name)
      if d < (best?.distance ?? Int.max) { best = (name, d) }
    }
    guard let best else { return nil }
    let allowed = max(1, min(2, word.count / 3))
    if best.distance <= allowed { return best.name }
    // A prefix of exactly one name (`cond` → condvar); a bare `e` or `-` is no hint at all.
    let stem = lowered.drop { $0 == "-" }
    if stem.count >= 2 {
      let hits = names.filter { $0.drop { $0 == "-" }.hasPrefix(stem) }
      if hits.count == 1 { return hits[0] }
    }
    return nil
  }

  /// Levenshtein distance, counting a swap of two neighbours as one edit.
  static func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a)
    let b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var d = Array(repeating: Array(repeating: 0, count: b.count + 1), count: a.count + 1)
    for i in 0...a.count { d[i][0] = i }
    for j in 0...b.count { d[0][j] = j }
    for i in 1...a.count {
      for j in 1...b.count {
        let cost = a[i - 1] == b[j - 1] ? 0 : 1
        d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
        if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
          d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
        }
      }
    }
    return d[a.count][b.count]
  }
}
