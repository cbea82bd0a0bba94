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
      let saved: Bool
      do { saved = try recorder.saveAtEnd() } catch {
        Output.err("proclab: could not write \(Printable.line(file)): \(error)\n")
        throw ExitCode(2)
      }
      // Ctrl-D before any command: a transcript needs one, so none is left behind.
      Output.out(
        saved
          ? "recorded \(Units.plural(recorder.steps, "command")) to \(Printable.line(file)); check it with: proclab check \(Printable.line(file))\n"
          : "nothing recorded: no command was run, so \(Printable.line(file)) was removed\n")
    }
    throw ExitCode(status)
  }
}
