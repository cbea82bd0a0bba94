/// Splits a command line into commands (`;`) and words, with quotes and
/// backslashes working as in a POSIX shell: `set prompt 'a b'; help`.
public enum WordSplitter {
  /// Returns one word list per command; empty commands are dropped.
  /// A `#` at the start of a word begins a comment that runs to the end of the line.
  public static func split(_ line: String) throws -> [[String]] {
    var commands: [[String]] = []
    var words: [String] = []
    var word = ""
    var inWord = false
    var quote: Character?
    var escaping = false

    func endWord() {
      if inWord { words.append(word) }
      word = ""
      inWord = false
    }
    func endCommand() {
      endWord()
      if !words.isEmpty { commands.append(words) }
      words = []
    }

    for ch in line {
      if escaping {
        word.append(ch)
        escaping = false
        inWord = true
        continue
      }
      if let q = quote {
        if ch == q {
          quote = nil
        } else if ch == "\\" && q == "\"" {
          escaping = true
        } else {
          word.append(ch)
        }
        continue
      }
      switch ch {
      case "\\": escaping = true
      case "'", "\"":
        quote = ch
        inWord = true
      case ";": endCommand()
      case "#" where !inWord:
        endCommand()
        return commands
      case _ where ch.isWhitespace: endWord()
      default:
        word.append(ch)
        inWord = true
      }
    }
    if let q = quote { throw UsageError("unterminated \(q) quote; close it or remove it") }
    if escaping { word.append("\\") }
    endCommand()
    return commands
  }

  /// Quotes a word so that `split` gives it back unchanged.
  public static func quote(_ word: String) -> String {
    let safe = !word.isEmpty && word.allSatisfy { $0.isLetter || $0.isNumber || "-_./:=,+@%{}".contains($0) }
    if safe { return word }
    return "'" + word.replacing("'", with: "'\\''") + "'"
  }
}
