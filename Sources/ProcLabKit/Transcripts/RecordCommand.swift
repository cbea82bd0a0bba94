import Foundation
import Glibc

/// `record FILE` / `record stop`: writes what follows as a transcript.
enum RecordCommand {

  static let command = Command(
    name: "record", area: .transcripts,
    summary: "record the commands that follow, with their output, as a checkable transcript",
    usage: "record FILE [--force] | record stop",
    options: [.init("--force", "overwrite FILE if it exists")],
    examples: ["record demo.txt", "record demo.txt --force", "record stop"],
    completion: .files
  ) { args, session in
    try args.expectPositionals(atMost: 1)
    guard let target = args.positional(0) else {
      throw UsageError("record: name a file to record to (record demo.txt), or 'record stop'")
    }
    let r = Report()
    if target == "stop" {
      guard let recorder = Recorder.active(in: session) else {
        throw UsageError("record: nothing is being recorded; start with 'record FILE'")
      }
      try stop(recorder, session: session)
      r.line("recorded \(Units.plural(recorder.steps, "command")) to \(recorder.path)")
      r.fact("file", recorder.path)
      r.fact("commands", recorder.steps)
      r.explain(
        "PIDs, TIDs, addresses, durations and counts were written as placeholders, so the file passes 'proclab check \(recorder.path)' although they change from run to run."
      )
      return r
    }
    if session.isPlayingFile {
      throw UsageError("record: cannot start recording from a transcript or lesson being played")
    }
    if let recorder = Recorder.active(in: session) {
      throw UsageError("record: already recording to \(recorder.path); type 'record stop' first")
    }
    let path = try checkedPath(target, force: args.flag("--force"))
    let recorder = Recorder(path: path)
    try recorder.save()  // proves the file can be written before anything is recorded
    recorder.start(session: session)
    session.recorder = recorder
    session.observers[.recorder] = { session, outcome in
      guard let recorder = Recorder.active(in: session) else { return [] }
      if outcome.command == "record" { return [] }
      if outcome.command == "quit" || outcome.command == "exit" {
        try? stop(recorder, session: session)
        return []
      }
      recorder.record(outcome, session: session)
      do { try recorder.save() } catch {
        return ["record: could not write \(recorder.path): \(error); recording stopped"]
      }
      return []
    }
    r.line("recording to \(path)")
    r.line("lines typed as '# …' become narration; 'record stop' ends the recording")
    r.fact("file", path)
    return r
  }

  static func stop(_ recorder: Recorder, session: Session) throws {
    session.observers[.recorder] = nil
    session.recorder = nil
    recorder.finish(session: session)
    try recorder.save()
  }

  /// Refuses directories, missing folders and existing files (unless `--force`).
  static func checkedPath(_ path: String, force: Bool) throws -> String {
    let shown = Printable.word(path)
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
      if isDirectory.boolValue { throw UsageError("record: \(shown) is a folder; name a file inside it") }
      if !force {
        throw UsageError("record: \(shown) exists; add --force to overwrite it, or choose another name")
      }
    }
    let folder = (path as NSString).deletingLastPathComponent
    let dir = folder.isEmpty ? "." : folder
    var dirIsDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: dir, isDirectory: &dirIsDirectory), dirIsDirectory.boolValue
    else {
      throw UsageError("record: the folder \(Printable.word(dir)) does not exist; create it first")
    }
    guard access(dir, W_OK) == 0 else {
      throw UsageError("record: cannot write in \(Printable.word(dir))")
    }
    return path
  }
}

extension Recorder {
  /// The recorder of a session, if one is recording.
  public static func active(in session: Session) -> Recorder? {
    session.recorder
  }

  /// Starts recording a session to `path` (what `record FILE` and `proclab record FILE` do).
  public static func begin(session: Session, path: String, force: Bool) throws -> Recorder {
    let words = ["record", path] + (force ? ["--force"] : [])
    let outcome = session.run(words: words)
    if let error = outcome.error { throw UsageError(error) }
    return active(in: session)!
  }
}

/// The transcript verbs of the shell.
public enum TranscriptArea {
  public static let commands: [Command] = [RecordCommand.command]
}
