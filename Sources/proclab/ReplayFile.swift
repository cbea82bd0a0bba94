import ArgumentParser
import Glibc
import ProcLabKit

/// `proclab replay FILE`: re-runs a transcript live, typing each command at a
/// human pace, with the narration as captions; for demonstrations in class.
struct ReplayFile: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "replay",
    abstract: "Replay a transcript live: commands typed at a human pace, narration as captions.",
    discussion: """
      Keys while it plays: space pauses and resumes, q quits (status 0), Ctrl-C ends the replay \
      and everything it started. With --step, each command waits: Enter or space runs it, b runs \
      the previous command again, s skips this one, q quits.
      """)

  @Argument(help: "The transcript to replay.")
  var file: String

  @Option(help: "Typing speed: 1 is a person typing, 2 twice as fast, 0 instantly.")
  var speed: Double = 1

  @Flag(
    help:
      "Wait for a key before each command (Enter/space run it, b runs the previous one again, s skips, q quits)."
  )
  var step = false

  @Flag(
    name: .customLong("pause-after"),
    help: "Wait for a key after each command's output (Enter/space go on, q quits).")
  var pauseAfter = false

  // .unconditional: `--from -1` is a value to refuse with a reason, not a missing value.
  @Option(
    parsing: .unconditional,
    help:
      "Start at command N: the commands before it run first without being shown, to set up what they set up.")
  var from: Int = 1

  @Flag(help: "Compare each command's output with the transcript and report mismatches at the end.")
  var check = false

  @Option(help: "Also write the replay as an asciicast v2 file (asciinema play FILE, or the web player).")
  var cast: String?

  @Flag(help: "With --cast: overwrite the file if it exists.")
  var force = false

  @OptionGroup var options: GlobalOptions

  func validate() throws {
    guard speed >= 0 && speed <= 100 && speed.isFinite else {
      throw ValidationError("--speed must be 0…100 (0 types instantly), got \(speed)")
    }
    guard from >= 1 else {
      throw ValidationError("--from must be 1 or more (the first command is 1), got \(from)")
    }
  }

  func run() throws {
    guard let text = Paths.readText(file) else {
      Output.err("proclab: cannot read \(Printable.word(file))\n")
      throw ExitCode(2)
    }
    let transcript: Transcript
    do { transcript = try Transcript.parse(text, file: file) } catch {
      Output.err("\(error)\n")
      throw ExitCode(2)
    }
    if transcript.steps.isEmpty {
      Output.err(
        "\(Printable.word(file)): no commands to replay (a transcript needs lines 'proclab> COMMAND')\n")
      throw ExitCode(2)
    }
    guard from <= transcript.steps.count else {
      Output.err(
        "replay: --from \(from), but \(Printable.word(file)) has \(Units.plural(transcript.steps.count, "command"))\n"
      )
      throw ExitCode(2)
    }
    var castWriter: CastWriter?
    if let cast {
      do {
        let path = try Recorder.checkedPath(cast, force: force, what: "replay --cast")
        let size = TerminalWindow.size(fd: 1) ?? (columns: 80, rows: 24)
        castWriter = CastWriter(
          path: path, width: size.columns, height: size.rows, title: "proclab replay \(file)",
          timestamp: WallClock.secondsSinceEpoch)
        try castWriter?.save()
      } catch let e as UsageError {
        Output.err("proclab: \(e.message)\n")
        throw ExitCode(2)
      }
    }
    Interrupt.install()
    Interrupt.installTermination()
    Interrupt.ignoreBrokenPipe()
    let env = Environment.current()
    let color = !options.noColor && env["NO_COLOR"] == nil && Terminal.isTerminal(1) && env["TERM"] != "dumb"
    Layout.showFitted(columns: TerminalSize.columns(fd: 1))  // tables fitted as shown, matched as recorded
    let session = Session.forFile(allowExec: options.allowExec, color: color)
    session.settings.trace = options.trace
    if options.strict { session.strict = true }
    defer { session.cleanUp() }
    let replayer = Replayer(
      file: file, transcript: transcript, session: session, speed: speed, stepMode: step,
      pauseAfter: pauseAfter, from: from, check: check, color: color, cast: castWriter)
    let status = replayer.run()
    if let castWriter {
      do { try castWriter.save() } catch {
        Output.err("proclab: could not write \(Printable.word(castWriter.path)): \(error)\n")
      }
    }
    throw ExitCode(status)
  }
}
