import Glibc

/// One shell session: settings, the children and threads it answers for, the
/// last outcome, and the loop body that runs a line of commands.
public final class Session {
  public var settings: Settings
  public let registry: Registry
  public let children = ChildTable()
  public var keepers: [String: Keeper] = [:]
  public private(set) var lastOutcome: Outcome?
  public private(set) var history: [String] = []
  /// Whether a person is typing (readline on a terminal).
  public var isInteractive = false
  /// Whether commands may run external programs: true for a person typing,
  /// false for lines read from a transcript or lesson unless `--allow-exec` was given.
  public var allowExec = true
  /// Check the cleanup invariant after every command (tests and `--strict`).
  public var strict = false
  /// Where rendered text goes (stdout by default).
  public var write: (String) -> Void = { print($0) }
  /// Where progress goes while a long command runs (stderr, terminals only).
  public var progressSink: ((String) -> Void)?
  /// Who listens after every command, in this order; each returns extra lines to print.
  public enum Observer: Int, Comparable, Sendable {
    case lesson, recorder
    public static func < (a: Observer, b: Observer) -> Bool { a.rawValue < b.rawValue }
  }
  /// Called after every command with its outcome (the lesson engine and the recorder listen here).
  public var observers: [Observer: (Session, Outcome) -> [String]] = [:]
  /// Overrides the prompt (`proclab [race 3/7]> ` in a lesson).
  public var promptProvider: ((Session) -> String)?
  /// Set by `quit` and `exit`.
  public var wantsToQuit = false
  /// True once any command failed: the exit status of scripts.
  public private(set) var anyFailed = false
  /// What the processes verbs remember about the children they started.
  let processBook = ProcessBook()
  /// The lesson engine, once a lesson command or `--lessons` needed it.
  public internal(set) var lessons: LessonEngine?
  /// The recorder, while `record FILE` is recording.
  public internal(set) var recorder: Recorder?
  /// True while a transcript or a lesson's own command is being played: `record` refuses to start.
  public var isPlayingFile = false
  /// Lesson names for completion (the lesson engine sets it).
  public var lessonNames: () -> [String] = { [] }
  /// Commands in the order they were created this session (for `ps` of threads etc.).
  public private(set) var invariant: CleanupInvariant?
  public var invariantViolations: [String] = []

  public init(registry: Registry = Catalog.registry, settings: Settings = Settings()) {
    self.registry = registry
    self.settings = settings
  }

  public var prompt: String { promptProvider?(self) ?? "proclab> " }

  /// Takes the cleanup baseline; call after the shell's own setup.
  public func takeBaseline() { invariant = CleanupInvariant() }

  /// Runs a line of `;`-separated commands and prints each outcome.
  @discardableResult
  public func execute(line: String) -> [Outcome] {
    let trimmed = line.trimmingCharacters(in: .whitespaces)
    if trimmed.isEmpty { return [] }
    if history.last != trimmed { history.append(trimmed) }
    if history.count > 1000 { history.removeFirst(history.count - 1000) }
    let commands: [[String]]
    do { commands = try WordSplitter.split(line) } catch let e as UsageError {
      let o = Outcome(input: line, command: "", succeeded: false, error: e.message)
      present(o)
      return [o]
    } catch { return [] }
    var outcomes: [Outcome] = []
    for words in commands {
      let o = run(words: words)
      present(o)
      outcomes.append(o)
      if wantsToQuit { break }
    }
    return outcomes
  }

  /// Runs one command (already split into words) and returns its outcome without printing it.
  public func run(words: [String]) -> Outcome {
    let input = words.map(WordSplitter.quote).joined(separator: " ")
    guard let verb = words.first else { return Outcome(input: "", command: "", succeeded: true) }
    Interrupt.clear()
    guard let command = registry.command(named: verb) else {
      let shown = Printable.word(verb)
      let hint =
        registry.suggestion(for: verb).map { " — did you mean '\($0)'?" } ?? "; type 'help' for the list"
      return finish(
        Outcome(input: input, command: verb, succeeded: false, error: "unknown command '\(shown)'\(hint)"))
    }
    Trace.isEnabled = settings.trace
    _ = Trace.drain()
    var outcome: Outcome
    do {
      let invocation = try command.parse(Array(words.dropFirst()))
      let report = try invocation.run(self)
      outcome = Outcome(
        input: input, command: command.name, succeeded: report.succeeded, lines: report.lines,
        variables: report.variables, facts: report.facts, explanation: report.explanation)
      outcome.options = invocation.parsed.values
      outcome.unorderedRuns = report.unorderedRuns
    } catch let e as UsageError {
      outcome = Outcome(input: input, command: command.name, succeeded: false, error: e.message)
    } catch is Interrupted {
      outcome = Outcome(
        input: input, command: command.name, succeeded: false,
        error: "\(command.name): interrupted (Ctrl-C); everything it started was stopped and cleaned up")
    } catch let e as SystemError {
      outcome = Outcome(input: input, command: command.name, succeeded: false, error: "\(command.name): \(e)")
    } catch {
      outcome = Outcome(
        input: input, command: command.name, succeeded: false, error: "\(command.name): \(error)")
    }
    outcome.trace = Trace.drain()
    Trace.isEnabled = false
    Interrupt.clear()
    return finish(outcome)
  }

  private func finish(_ outcome: Outcome) -> Outcome {
    var outcome = outcome
    children.reapFinished()
    if strict, let invariant {
      let problems = invariant.violations(children: children, keepers: Array(keepers.values))
      if !problems.isEmpty {
        invariantViolations.append(contentsOf: problems)
        outcome.succeeded = false
        outcome.error =
          (outcome.error.map { $0 + "; " } ?? "") + "cleanup invariant broken: "
          + problems.joined(separator: "; ")
      }
    }
    if !outcome.succeeded { anyFailed = true }
    if outcome.command != "explain" && outcome.command != "trace" { lastOutcome = outcome }
    return outcome
  }

  /// Prints an outcome (text or JSON) and lets observers add their lines.
  public func present(_ outcome: Outcome) {
    if settings.json {
      write(outcome.json.serialized)
    } else {
      let text = Render.outcome(outcome, explain: settings.explain, color: settings.color)
      if !text.isEmpty { write(text) }
      if settings.trace && !outcome.trace.isEmpty {
        write(Render.trace(outcome.trace, color: settings.color))
      }
    }
    for (_, observe) in observers.sorted(by: { $0.key < $1.key }) {
      let extra = observe(self, outcome)
      if !extra.isEmpty && !settings.json { write(extra.joined(separator: "\n")) }
    }
  }

  /// Shows progress of a long command on a terminal (`race: 40%`), erased afterwards.
  public func progress(_ label: String, fraction: Double) {
    guard let sink = progressSink else { return }
    let width = 20
    let filled = Int((max(0, min(1, fraction)) * Double(width)).rounded())
    sink(
      "\r\u{1B}[2K\(label) [" + String(repeating: "█", count: filled)
        + String(repeating: "·", count: width - filled)
        + "] \(Int(fraction * 100))%")
  }
  public func progressDone() { progressSink?("\r\u{1B}[2K") }

  /// Ends everything the session still holds: kept threads and children.
  public func cleanUp() {
    for key in keepers.keys.sorted() { keepers[key]!.release() }
    keepers = [:]
    children.killAll()
  }
}
