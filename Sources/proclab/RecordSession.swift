import ArgumentParser
import Glibc
import ProcLabKit

/// `proclab record FILE`: the interactive shell, recording from the first command.
struct RecordSession: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "record",
    abstract:
      "Start the shell and record the session as a checkable transcript ('# …' lines become narration).")

  @Argument(help: "The transcript to write.")
  var file: String

  @Flag(help: "Overwrite FILE (and the cast) if it exists; only a regular file is ever replaced.")
  var force = false

  @Option(help: "Also write the session as an asciicast v2 file (asciinema play FILE, or the web player).")
  var cast: String?

  @OptionGroup var options: GlobalOptions

  func run() throws {
    let interactive = Terminal.isInteractive
    let session = options.makeSession(interactive: interactive)
    do { _ = try Recorder.begin(session: session, path: file, force: force, cast: cast) } catch let e
      as UsageError
    {
      Output.err("proclab: \(e.message)\n")
      throw ExitCode(2)
    }
    Output.out(
      "recording to \(Printable.line(file))\(cast.map { " and \(Printable.line($0))" } ?? ""); '# …' adds narration, 'record stop' or Ctrl-D ends\n"
    )
    let source: LineSource = interactive ? ReadlineSource(session: session) : FileLines(fd: 0)
    let status = ShellLoop.run(session: session, source: source)
    if let recorder = Recorder.active(in: session) {
      recorder.finish(session: session)
      do {
        try recorder.save()
        try recorder.cast?.save()
      } catch {
        Output.err("proclab: could not write \(file): \(error)\n")
        throw ExitCode(2)
      }
      Output.out(
        "recorded \(Units.plural(recorder.steps, "command")) to \(file); check it with: proclab check \(file)\n"
      )
    }
    throw ExitCode(status)
  }
}
