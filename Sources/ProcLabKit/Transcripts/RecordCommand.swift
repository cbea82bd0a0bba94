/// `record FILE` / `record stop`: writes what follows as a transcript (and, with
/// `--cast`, as an asciicast).
enum RecordCommand {
  struct Options: CommandOptions {
    var target: String?
    var force = false
    var cast: String?

    static var declarations: [OptionDeclaration<Self>] {
      [
        .positional(
          "file", \.target, "FILE|stop", "the transcript to write, or 'stop' to end the recording",
          completion: .files),
        .flag(
          "--force", \.force,
          "overwrite FILE (and the cast) if it exists; only a regular file is ever replaced"),
        .value(
          "--cast", \.cast, "FILE", "also write the session as an asciicast v2 file (asciinema play FILE)",
          completion: .files),
      ]
    }
  }

  static let command = Command(
    name: "record", area: .transcripts,
    summary: "record the commands that follow, with their output, as a checkable transcript",
    examples: [
      "record demo.txt", "record demo.txt --cast demo.cast", "record demo.txt --force", "record stop",
    ],
    options: Options.self
  ) { options, session in try run(options, session) }

  static func run(_ options: Options, _ session: Session) throws -> Report {
    guard let target = options.target else {
      throw UsageError("record: name a file to record to (record demo.txt), or 'record stop'")
    }
    let r = Report()
    if target == "stop" {
      guard let recorder = Recorder.active(in: session) else {
        throw UsageError("record: nothing is being recorded; start with 'record FILE'")
      }
      guard try stop(recorder, session: session) else {
        r.line("nothing recorded: no command was run, so \(Printable.line(recorder.path)) was removed")
        r.fact("file", recorder.path)
        r.fact("commands", 0)
        return r
      }
      r.line("recorded \(Units.plural(recorder.steps, "command")) to \(Printable.line(recorder.path))")
      if let cast = recorder.cast {
        r.line("and the session as an asciicast to \(Printable.line(cast.path))")
      }
      r.fact("file", recorder.path)
      r.fact("commands", recorder.steps)
      r.explain(
        "PIDs, TIDs, addresses, measurements and values that timing decides were written as placeholders, so the file passes 'proclab check \(Printable.line(recorder.path))' although they change from run to run."
      )
      return r
    }
    // Commands read from a file (run, replay, check, a lesson's skip) write nothing outside
    // proclab's own state unless the person allowed it on the command line.
    if session.isPlayingFile {
      throw UsageError(
        "record: cannot start recording from a file of commands (a transcript, lesson or 'proclab run' file); type it at the prompt, or pass --allow-record to 'proclab run'"
      )
    }
    // A file of commands may start a recording (--allow-record) but never overwrite one: the
    // person who ran it typed no --force.
    if options.force && (session.commandsFromFile || session.isPlayingFile) {
      throw UsageError(
        "record: --force is refused in commands read from a file (a file never overwrites one); record to a new name, or type 'record FILE --force' at the prompt"
      )
    }
    if let recorder = Recorder.active(in: session) {
      throw UsageError(
        "record: already recording to \(Printable.word(recorder.path)); type 'record stop' first")
    }
    let path = try checkedPath(target, force: options.force, what: "record")
    var castPath: String?
    if let cast = options.cast {
      castPath = try checkedPath(cast, force: options.force, what: "record --cast")
      if castPath == path { throw UsageError("record: the transcript and the cast must be different files") }
    }
    let recorder = Recorder(path: path)
    try recorder.save()  // proves the file can be written before anything is recorded
    if let castPath {
      let size = TerminalWindow.size(fd: 1) ?? (columns: 80, rows: 24)
      recorder.cast = CastWriter(
        path: castPath, width: size.columns, height: size.rows, title: "proclab session", timestamp: nil)
      try recorder.cast?.save()
    }
    recorder.start(session: session)
    session.recorder = recorder
    if recorder.cast != nil {
      session.lineObserver = { [weak recorder, unowned session] line in
        recorder?.castLine(line, session: session)
      }
    }
    session.observers[.recorder] = { session, outcome in
      guard let recorder = Recorder.active(in: session) else { return [] }
      if outcome.command == "record" { return [] }
      if outcome.command == "quit" || outcome.command == "exit" {
        _ = try? stop(recorder, session: session)
        return []
      }
      recorder.record(outcome, session: session)
      recorder.castOutcome(outcome, session: session)
      do {
        try recorder.save()
        try recorder.cast?.save()
      } catch {
        session.observers[.recorder] = nil
        session.lineObserver = nil
        session.recorder = nil
        return ["record: could not write \(Printable.line(recorder.path)): \(error); recording stopped"]
      }
      return []
    }
    r.line(
      "recording to \(Printable.line(path))"
        + (castPath.map { " (and as an asciicast to \(Printable.line($0)))" } ?? ""))
    r.line("lines typed as '# …' become narration; 'record stop' ends the recording")
    r.fact("file", path)
    if let castPath { r.fact("cast", castPath) }
    return r
  }

  /// Ends the recording; false when it recorded no command and its file was removed.
  @discardableResult
  static func stop(_ recorder: Recorder, session: Session) throws -> Bool {
    session.observers[.recorder] = nil
    session.lineObserver = nil
    session.recorder = nil
    recorder.finish(session: session)
    return try recorder.saveAtEnd()
  }

  /// Refuses folders, missing folders, anything but a regular file, and an existing
  /// file unless `force`: a recording never replaces a link, a device or a FIFO.
  static func checkedPath(_ path: String, force: Bool, what: String) throws -> String {
    let shown = Printable.word(path)
    if path.isEmpty { throw UsageError("\(what): name a file") }
    if let kind = FileKind.of(path) {
      switch kind {
      case .directory: throw UsageError("\(what): \(shown) is a folder; name a file inside it")
      case .regular:
        if !force {
          throw UsageError("\(what): \(shown) exists; add --force to overwrite it, or choose another name")
        }
      default:
        throw UsageError(
          "\(what): \(shown) is \(kind.rawValue), not a regular file; a recording replaces only regular files (even with --force)"
        )
      }
    }
    let folder = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
    let dir = folder.isEmpty ? "/" : folder
    guard FileKind.isFolder(dir) else {
      throw UsageError("\(what): the folder \(Printable.word(dir)) does not exist; create it first")
    }
    guard FileKind.canWrite(in: dir) else {
      throw UsageError("\(what): cannot write in \(Printable.word(dir))")
    }
    return path
  }
}

extension Recorder {
  /// A path a recording (or `replay --cast`) may write: see `RecordCommand.checkedPath`.
  public static func checkedPath(_ path: String, force: Bool, what: String) throws -> String {
    try RecordCommand.checkedPath(path, force: force, what: what)
  }

  /// The recorder of a session, if one is recording.
  public static func active(in session: Session) -> Recorder? {
    session.recorder
  }

  /// Starts recording a session to `path` (what `record FILE` and `proclab record FILE` do).
  public static func begin(session: Session, path: String, force: Bool, cast: String? = nil) throws
    -> Recorder
  {
    let words = ["record", path] + (force ? ["--force"] : []) + (cast.map { ["--cast", $0] } ?? [])
    let outcome = session.run(words: words)
    if let error = outcome.error { throw UsageError(error) }
    guard let recorder = active(in: session) else { throw UsageError("record: the recording did not start") }
    return recorder
  }

  /// A line as it is entered (`Session.lineObserver`): narration as a marker, a command as
  /// typed, each at its own moment; the command's output follows when it is done.
  func castLine(_ line: String, session: Session) {
    guard let cast else { return }
    let words = (try? WordSplitter.split(line))?.first ?? []
    if words.first == "record" { return }
    cast.input(line + "\r")
    cast.output(session.prompt + Printable.line(line) + "\n")
    if line.hasPrefix("#") { cast.marker(String(line.dropFirst().drop { $0 == " " })) }
  }

  /// The cast sees what the terminal saw: after the command (written as it was entered), its output.
  func castOutcome(_ outcome: Outcome, session: Session) {
    guard let cast else { return }
    let text = Render.outcome(outcome, explain: session.settings.explain, color: session.settings.color)
    if !text.isEmpty { cast.output(text + "\n") }
    Style.enabled = session.settings.color
  }
}

/// The transcript verbs of the shell.
public enum TranscriptArea {
  public static let commands: [Command] = [RecordCommand.command]
}
