extension Completer {
  /// What Tab offers in bash, zsh or fish for the value of `proclab -c`: that value is
  /// a whole command line (`race --th`), so each candidate is the line with its last
  /// word completed the way the shell's own Tab completes it (`race --threads`).
  /// `typed` is the value as far as the cursor, possibly still behind an opening quote
  /// (`'race --th`), which is dropped: the shell quotes the candidates again. Where
  /// the shell's Tab would complete file names, nothing is offered.
  public static func commandString(_ typed: String, session: Session) -> [String] {
    var line = Substring(typed)
    if let quote = line.first, quote == "'" || quote == "\"" { line = line.dropFirst() }
    let wordStart = line.lastIndex { $0 == " " || $0 == "\t" || $0 == ";" }.map { line.index(after: $0) }
    let before = String(line[..<(wordStart ?? line.startIndex)])
    let word = String(line[(wordStart ?? line.startIndex)...])
    guard case .words(let words) = complete(before: before, word: word, session: session) else { return [] }
    return words.map { before + $0 }
  }
}
