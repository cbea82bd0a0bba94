import ArgumentParser
import ProcLabKit

/// The command line: `proclab` (interactive), `proclab -c '…'`, `proclab run FILE`.
struct ProcLab: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "proclab",
    abstract: "A learning shell for processes, threads, IPC and synchronization, on real system calls.",
    discussion:
      "With no subcommand, proclab starts the interactive shell (readline at a terminal, plain lines from a pipe).",
    version: ProcLabVersion.string,
    subcommands: [RunFile.self, CheckFiles.self, RecordSession.self, ReplayFile.self, LessonEntry.self]
  )

  @Option(
    name: .customShort("c"),
    help: ArgumentHelp("Run these commands (separated by ';') and exit.", valueName: "commands"),
    // bash, zsh and fish complete the shell's verbs and options inside the quotes; the whole
    // word, since zsh counts the cursor from the last space inside an open quote.
    completion: .custom { words, index, _ in
      Completer.commandString(words.indices.contains(index) ? words[index] : "", session: Session())
    })
  var commands: String?

  @Option(
    name: .customLong("lessons"),
    help: ArgumentHelp("Load the course from this directory.", valueName: "dir"),
    completion: .directory)
  var lessonsDirectory: String?

  @OptionGroup var options: GlobalOptions

  func run() throws {
    if let commands {
      let session = options.makeSession(interactive: false)
      if let lessonsDirectory { session.installLessons(directory: lessonsDirectory) }
      let status = ShellLoop.run(session: session, source: StringLines(commands))
      throw ExitCode(status)
    }
    let interactive = Terminal.isInteractive
    let session = options.makeSession(interactive: interactive)
    session.allowExec = true
    if let lessonsDirectory {
      session.installLessons(directory: lessonsDirectory)
    } else {
      // The course is loaded on first use; until then Tab on `lesson ` loads it.
      session.lessonNames = { [weak session] in
        guard let session else { return [] }
        _ = session.lessonEngine
        return session.lessonNames()
      }
    }
    let source: LineSource = interactive ? ReadlineSource(session: session) : FileLines(fd: 0)
    // A person at a terminal is greeted; a pipe or `-c` gets only its commands' output.
    if interactive && !options.json {
      Output.out(
        Greeting.lines(version: ProcLabVersion.string, color: session.settings.color).joined(separator: "\n")
          + "\n")
    }
    throw ExitCode(ShellLoop.run(session: session, source: source))
  }
}

/// Options every entry point shares.
struct GlobalOptions: ParsableArguments {
  @Flag(help: "Print one JSON object per command outcome.")
  var json = false

  @Flag(name: .customLong("no-color"), help: "Never colour the output (also: the NO_COLOR variable).")
  var noColor = false

  @Flag(help: "Show the system calls behind each command (like 'set trace on').")
  var trace = false

  @Flag(
    name: .customLong("allow-exec"),
    help: "Let commands read from a file run external programs (spawn --exec).")
  var allowExec = false

  @Flag(help: .hidden)
  var strict = false

  /// Builds a session configured from the flags and the terminal.
  func makeSession(interactive: Bool) -> Session {
    var settings = Settings()
    settings.json = json
    settings.trace = trace
    settings.color =
      !noColor && Environment.value("NO_COLOR") == nil && Terminal.isTerminal(1)
      && Environment.value("TERM") != "dumb"
    // Prose wraps to the terminal's width (or COLUMNS under a pipe); JSON never wraps.
    if !json { Layout.followTerminal() }
    let session = Session(settings: settings)
    session.isInteractive = interactive
    session.strict = strict || Environment.value("PROCLAB_STRICT") == "1"
    if Terminal.isTerminal(2) && !json {
      session.progressSink = { text in
        Output.err(text)
      }
    }
    return session
  }
}

/// `proclab run FILE`: a file of commands, one or more per line.
struct RunFile: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "run", abstract: "Run the commands in a file and exit.")

  @Argument(help: "A file of proclab commands.")
  var file: String

  @Flag(
    name: .customLong("allow-record"),
    help:
      "Let the file's commands start a recording (record FILE), which writes a file outside proclab's state.")
  var allowRecord = false

  @OptionGroup var options: GlobalOptions

  func run() throws {
    let fd: Int32
    do { fd = try Descriptors.openForReading(file) } catch let e as SystemError {
      Output.err("proclab: cannot read \(Printable.line(file)): \(e.name) (\(e.message))\n")
      throw ExitCode(2)
    }
    let session = options.makeSession(interactive: false)
    session.allowExec = options.allowExec
    // Commands read from a file write nothing outside proclab's state unless allowed here.
    session.isPlayingFile = !allowRecord
    session.commandsFromFile = true
    let status = ShellLoop.run(session: session, source: FileLines(fd: fd))
    if let recorder = Recorder.active(in: session) {
      recorder.finish(session: session)
      try? recorder.save()
      try? recorder.cast?.save()
    }
    Descriptors.close(fd)
    throw ExitCode(status)
  }
}

enum ProcLabVersion {
  static let string = "0.1.0"
}
