/// Writes a session as an asciicast v2 file (https://docs.asciinema.org/manual/asciicast/v2/):
/// a header line (`{"version": 2, "width": …, "height": …}`), then one event per
/// line, `[seconds, "o", text]` for what the terminal showed and
/// `[seconds, "m", label]` for a marker (the narration), with the real timing, so
/// `asciinema play` or the web player shows the demo as it ran.
public final class CastWriter {
  public let path: String
  public let width: Int
  public let height: Int
  private var events: [String] = []
  private let header: String
  private let start = MonotonicClock.nanoseconds()

  public init(path: String, width: Int, height: Int, title: String? = nil, timestamp: Int? = nil) {
    self.path = path
    self.width = width
    self.height = height
    var o = JSONObject()
    o["version"] = .int(2)
    o["width"] = .int(width)
    o["height"] = .int(height)
    if let timestamp { o["timestamp"] = .int(timestamp) }
    if let title { o["title"] = .string(title) }
    var env = JSONObject()
    env["TERM"] = .string("xterm-256color")
    env["SHELL"] = .string("proclab")
    o["env"] = .object(env)
    header = JSON.object(o).serialized
  }

  /// Seconds since the cast started.
  var now: Double { Double(MonotonicClock.nanoseconds() - start) / 1e9 }

  /// What the terminal showed; a newline is written as the terminal moves: `\r\n`.
  public func output(_ text: String) {
    guard !text.isEmpty else { return }
    var terminal = ""
    var previous: Character?
    for ch in text {
      if ch == "\n" && previous != "\r" { terminal += "\r\n" } else { terminal.append(ch) }
      previous = ch
    }
    // Rounded to microseconds, as asciinema writes them.
    let t = (now * 1e6).rounded() / 1e6
    events.append(JSON.array([.double(t), .string("o"), .string(terminal)]).serialized)
  }

  /// What was typed, as the terminal received it (an `i` event: the line and its Enter).
  public func input(_ text: String) {
    let t = (now * 1e6).rounded() / 1e6
    events.append(JSON.array([.double(t), .string("i"), .string(text)]).serialized)
  }

  /// A marker (a chapter a player can jump to): the narration of the next command.
  public func marker(_ label: String) {
    let t = (now * 1e6).rounded() / 1e6
    events.append(JSON.array([.double(t), .string("m"), .string(label)]).serialized)
  }

  public var text: String { ([header] + events).joined(separator: "\n") + "\n" }

  public func save() throws { try StateDirectory.writeAtomically(text, to: path) }
}
