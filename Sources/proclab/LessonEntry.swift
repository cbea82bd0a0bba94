import ArgumentParser
import Glibc
import ProcLabKit

/// `proclab lesson [NAME]`: the interactive shell, with the lesson started (or resumed).
struct LessonEntry: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "lesson", abstract: "Start or resume a lesson (by name or number) in the interactive shell.")

  @Argument(help: "The lesson's name or number (default: the one you were in, or the first not done).")
  var name: String?

  @Option(name: .customLong("lessons"), help: "Load the course from this directory.")
  var lessonsDirectory: String?

  @OptionGroup var options: GlobalOptions

  func run() throws {
    let interactive = Terminal.isInteractive
    let session = options.makeSession(interactive: interactive)
    session.installLessons(directory: lessonsDirectory)
    let source: LineSource = interactive ? ReadlineSource(session: session) : FileLines(fd: 0)
    // The first line the shell runs is the `lesson` command itself, so its output goes
    // through the same loop (and the same writer) as everything after it.
    let start = "lesson" + (name.map { " " + WordSplitter.quote($0) } ?? "")
    throw ExitCode(ShellLoop.run(session: session, source: FirstLine(start, then: source)))
  }
}

/// A line source that yields one line first, then everything from another source.
final class FirstLine: LineSource {
  private var first: String?
  private let rest: LineSource
  init(_ first: String, then rest: LineSource) {
    self.first = first
    self.rest = rest
  }
  func readLine(prompt: String) -> String? {
    if let line = first {
      first = nil
      return line
    }
    return rest.readLine(prompt: prompt)
  }
  func close() { rest.close() }
}
