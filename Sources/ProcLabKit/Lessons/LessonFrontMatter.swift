/// The front matter of a lesson: a deliberately small subset of YAML, read by
/// hand so the shell needs no YAML library (Yams brings Foundation and its ICU
/// data into the binary). Everything outside the subset is an error with its
/// file:line:col, never silently read another way than YAML would.
///
/// Accepted (and nothing else):
///
/// ```
/// ---                          the file's first line, exactly
/// id: races                    key: value, the key at column 1; keys: id, title, order, summary, needs
/// title: "Races: and mutexes"  a value is plain text to the end of the line, or quoted "…" or '…'
/// order: 6  # a comment        ' #' starts a comment after a plain value
/// needs: [race, lock]          a flow list of plain words
/// needs:                       or a block list, one '  - word' per line
///   - race
/// # a comment line, blank lines
/// ---                          closes it
/// ```
///
/// Refused: tabs, indented keys (nesting), block scalars (`|`, `>`), anchors,
/// aliases and tags (`&`, `*`, `!`), flow maps (`{`), escapes in quotes (`\`),
/// unclosed quotes, a key given twice, unknown keys.
struct LessonFrontMatter {
  static let knownKeys = ["id", "title", "order", "summary", "needs"]

  struct Field {
    var value: String
    var line: Int
    var column: Int
  }
  var fields: [String: Field] = [:]
  var needs: [String] = []
  /// The index of the first line after the closing `---`.
  var bodyStart = 0

  let file: String

  func fail(_ line: Int, _ column: Int, _ message: String) -> LessonError {
    LessonError(file: file, line: line, column: column, message: message)
  }

  /// Reads the front matter from the top of `lines`.
  static func read(_ lines: [String], file: String) throws -> LessonFrontMatter {
    var matter = LessonFrontMatter(file: file)
    guard lines.first == "---" else {
      throw matter.fail(1, 1, "expected front matter: the first line must be '---'")
    }
    guard let close = lines.dropFirst().firstIndex(of: "---") else {
      throw matter.fail(1, 1, "front matter is never closed: expected a line '---' after it")
    }
    var listOpen = false
    for index in 1..<close {
      try matter.readLine(lines[index], number: index + 1, listOpen: &listOpen)
    }
    matter.bodyStart = close + 1
    for key in ["id", "title", "order"] where matter.fields[key] == nil {
      throw matter.fail(close + 1, 1, "front matter has no '\(key):'")
    }
    try matter.checkID()
    _ = try matter.order()
    return matter
  }

  mutating func readLine(_ raw: String, number n: Int, listOpen: inout Bool) throws {
    if let tab = raw.firstIndex(of: "\t") {
      throw fail(n, raw.distance(from: raw.startIndex, to: tab) + 1, "a tab in front matter; use spaces")
    }
    let trimmed = raw.trimmingBlanks()
    if trimmed.isEmpty || trimmed.hasPrefix("#") { return }
    let indent = raw.prefix { $0 == " " }.count
    if trimmed.hasPrefix("- ") || trimmed == "-" {
      guard listOpen else { throw fail(n, indent + 1, "a '- item' list only follows 'needs:'") }
      let item = try plainValue(String(trimmed.dropFirst(1)), line: n, column: indent + 2)
      if item.isEmpty { throw fail(n, indent + 2, "expected a command name after '-'") }
      needs.append(Printable.word(item))
      return
    }
    listOpen = false
    guard let colon = raw.firstIndex(of: ":") else {
      throw fail(n, indent + 1, "expected 'key: value' (keys: \(Self.knownKeys.joined(separator: ", ")))")
    }
    if indent > 0 {
      throw fail(n, 1, "an indented key; front matter is flat: every key starts at column 1")
    }
    let key = String(raw[..<colon]).trimmingBlanks()
    guard Self.knownKeys.contains(key) else {
      throw fail(
        n, 1,
        "unknown key '\(Printable.word(key))'; known keys: \(Self.knownKeys.joined(separator: ", "))")
    }
    if fields[key] != nil { throw fail(n, 1, "'\(key)' is given twice") }
    let after = raw[raw.index(after: colon)...]
    let column = raw.distance(from: raw.startIndex, to: colon) + 2 + after.prefix { $0 == " " }.count
    let text = String(after).trimmingBlanks()
    if key == "needs" {
      needs += try listValue(text, line: n, column: column).map(Printable.word)
      listOpen = text.isEmpty
      fields[key] = Field(value: "", line: n, column: column)
      return
    }
    let value = try plainValue(text, line: n, column: column)
    if value.isEmpty { throw fail(n, column, "'\(key)' needs a value") }
    fields[key] = Field(value: Printable.line(value), line: n, column: column)
  }

  /// A scalar: `plain text  # comment`, `"quoted"` or `'quoted'`.
  func plainValue(_ raw: String, line: Int, column: Int) throws -> String {
    let s = raw.trimmingBlanks()
    guard let first = s.first else { return "" }
    if first == "\"" || first == "'" {
      let body = s.dropFirst()
      guard let end = body.firstIndex(of: first) else {
        throw fail(line, column, "the quote \(first) is never closed on this line")
      }
      let inside = String(body[..<end])
      if first == "\"", let slash = inside.firstIndex(of: "\\") {
        throw fail(
          line, column + 1 + inside.distance(from: inside.startIndex, to: slash),
          "escapes (\\) are not supported in front matter; write the character itself")
      }
      let rest = body[body.index(after: end)...].trimmingBlanks()
      if !rest.isEmpty && !rest.hasPrefix("#") {
        throw fail(line, column + s.count - rest.count, "text after the closing quote")
      }
      return inside
    }
    if let refused = "|>&*!{%@`".first(where: { $0 == first }) {
      throw fail(
        line, column,
        "'\(refused)' starts YAML this front matter does not read (block scalars, anchors, tags, maps); "
          + "quote the value: \"\(refused)…\"")
    }
    guard let comment = s.firstRange(of: " #") else { return s }
    return String(s[..<comment.lowerBound]).trimmingBlanks()
  }

  /// `needs:` on its line: nothing (a block list follows), `[a, b]`, or plain words.
  func listValue(_ text: String, line: Int, column: Int) throws -> [String] {
    let s = text.hasPrefix("[") ? text : try plainValue(text, line: line, column: column)
    if s.isEmpty { return [] }
    guard s.hasPrefix("[") else { return s.split(separator: " ").map(String.init) }
    if let inner = s.dropFirst().firstIndex(where: { $0 == "[" || $0 == "{" }),
      inner < (s.firstIndex(of: "]") ?? s.endIndex)
    {
      throw fail(
        line, column + s.distance(from: s.startIndex, to: inner), "a list inside a list is not read here")
    }
    guard let close = s.firstIndex(of: "]") else {
      throw fail(line, column, "the list '[' is never closed on this line")
    }
    let after = s[s.index(after: close)...].trimmingBlanks()
    if !after.isEmpty && !after.hasPrefix("#") {
      throw fail(line, column + s.distance(from: s.startIndex, to: close) + 1, "text after the list's ']'")
    }
    var items: [String] = []
    var offset = 1
    for part in s[s.index(after: s.startIndex)..<close].split(
      separator: ",", omittingEmptySubsequences: false)
    {
      let item = try plainValue(String(part), line: line, column: column + offset)
      if item.hasPrefix("[") {
        throw fail(line, column + offset, "a list inside a list is not read here")
      }
      if !item.isEmpty { items.append(item) }
      offset += part.count + 1
    }
    return items
  }

  func checkID() throws {
    let id = fields["id"]!
    guard let first = id.value.first, first.isLetter,
      id.value.allSatisfy({ $0.isASCII && (($0.isLetter && $0.isLowercase) || $0.isNumber || $0 == "-") })
    else {
      throw fail(
        id.line, id.column,
        "id must be lowercase letters, digits and '-', starting with a letter; got '\(Printable.word(id.value))'"
      )
    }
  }

  func order() throws -> Int {
    let field = fields["order"]!
    guard let order = Int(field.value), (1...10_000).contains(order) else {
      throw fail(
        field.line, field.column,
        "order must be a whole number from 1 to 10000, got '\(Printable.word(field.value))'")
    }
    return order
  }
}
