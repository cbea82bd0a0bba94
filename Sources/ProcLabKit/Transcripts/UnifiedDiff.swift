/// A unified diff of two texts (`diff -u` shape: `---`/`+++` headers, `@@` hunks
/// with three lines of context), so `check --update` shows exactly what it changed.
public enum UnifiedDiff {
  public static func make(old: String, new: String, oldName: String, newName: String, context: Int = 3)
    -> String
  {
    let a = lines(old)
    let b = lines(new)
    if a == b { return "" }
    let ops = script(a, b)
    // Group the edit script into hunks: runs of changes with `context` equal lines around them.
    var hunks: [[(Character, String, Int, Int)]] = []
    var current: [(Character, String, Int, Int)] = []
    var ai = 0
    var bi = 0
    var pendingEqual: [(Character, String, Int, Int)] = []
    for op in ops {
      switch op {
      case .equal(let text):
        let entry: (Character, String, Int, Int) = (" ", text, ai, bi)
        ai += 1
        bi += 1
        if current.isEmpty {
          pendingEqual.append(entry)
          if pendingEqual.count > context { pendingEqual.removeFirst() }
        } else {
          pendingEqual.append(entry)
          if pendingEqual.count > 2 * context {
            current += pendingEqual.prefix(context)
            hunks.append(current)
            current = []
            pendingEqual = Array(pendingEqual.suffix(context))
          }
        }
      case .delete(let text):
        if current.isEmpty { current = pendingEqual } else { current += pendingEqual }
        pendingEqual = []
        current.append(("-", text, ai, bi))
        ai += 1
      case .insert(let text):
        if current.isEmpty { current = pendingEqual } else { current += pendingEqual }
        pendingEqual = []
        current.append(("+", text, ai, bi))
        bi += 1
      }
    }
    if !current.isEmpty {
      current += pendingEqual.prefix(context)
      hunks.append(current)
    }
    var out = "--- \(oldName)\n+++ \(newName)\n"
    for hunk in hunks {
      let aStart = hunk.first.map { $0.2 } ?? 0
      let bStart = hunk.first.map { $0.3 } ?? 0
      let aCount = hunk.filter { $0.0 != "+" }.count
      let bCount = hunk.filter { $0.0 != "-" }.count
      out += "@@ -\(range(aStart, aCount)) +\(range(bStart, bCount)) @@\n"
      for (mark, text, _, _) in hunk { out += String(mark) + text + "\n" }
    }
    return out
  }

  static func range(_ start: Int, _ count: Int) -> String {
    count == 1 ? "\(start + 1)" : "\(count == 0 ? start : start + 1),\(count)"
  }

  static func lines(_ text: String) -> [String] {
    var l = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    if l.last == "" { l.removeLast() }
    return l
  }

  enum Op: Equatable {
    case equal(String)
    case delete(String)
    case insert(String)
  }

  /// The edit script by longest common subsequence over the lines between the common
  /// head and tail (transcripts are small; a huge middle is replaced as one block).
  static func script(_ a: [String], _ b: [String]) -> [Op] {
    var head = 0
    while head < a.count && head < b.count && a[head] == b[head] { head += 1 }
    var tail = 0
    while tail < a.count - head && tail < b.count - head && a[a.count - 1 - tail] == b[b.count - 1 - tail] {
      tail += 1
    }
    let am = Array(a[head..<(a.count - tail)])
    let bm = Array(b[head..<(b.count - tail)])
    var ops = a[..<head].map { Op.equal($0) }
    if am.count * bm.count > 4_000_000 {
      ops += am.map { .delete($0) } + bm.map { .insert($0) }
    } else {
      // lcs[i][j]: the longest common subsequence of am[i...] and bm[j...].
      var lcs = Array(repeating: Array(repeating: 0, count: bm.count + 1), count: am.count + 1)
      for i in stride(from: am.count - 1, through: 0, by: -1) {
        for j in stride(from: bm.count - 1, through: 0, by: -1) {
          lcs[i][j] = am[i] == bm[j] ? lcs[i + 1][j + 1] + 1 : max(lcs[i + 1][j], lcs[i][j + 1])
        }
      }
      var i = 0
      var j = 0
      while i < am.count || j < bm.count {
        if i < am.count && j < bm.count && am[i] == bm[j] {
          ops.append(.equal(am[i]))
          i += 1
          j += 1
        } else if i < am.count && (j == bm.count || lcs[i + 1][j] >= lcs[i][j + 1]) {
          ops.append(.delete(am[i]))
          i += 1
        } else {
          ops.append(.insert(bm[j]))
          j += 1
        }
      }
    }
    ops += a[(a.count - tail)...].map { Op.equal($0) }
    return ops
  }
}
