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
  /// Called with each line as it is entered, before it runs (`record --cast` writes a typed
  /// line and narration at the moment they came, not when the command's output did).
  public var lineObserver: ((String) -> Void)?
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
  /// True while commands come from a file (`proclab run FILE`), even with `--allow-record`:
  /// `record FILE --force` is refused (the person typed no overwrite).
  public var commandsFromFile = false
  /// Lesson names for completion (the lesson engine sets it).
  public var lessonNames: () -> [String] = { [] }
  /// The shell's descriptors and threads before any command, which strict mode checks against.
  public private(set) var invariant: CleanupInvariant?
  /// Every cleanup problem strict mode found this session, one line each.
  public var invariantViolations: [String] = []

  public init(registry: Registry = Catalog.registry, settings: Settings = Settings()) {
    self.registry = registry
    self.settings = settings
  }

  public var prompt: String { promptProvider?(self) ?? "proclab> " }

  /// Takes the cleanup baseline; call after the shell's own setup.
  public func takeBaseline() { invariant = CleanupInvariant() }

  /// Runs a line of `;`-separated commands and prints each outcome. A command stopped by
  /// Ctrl-C, SIGTERM or SIGHUP abandons the rest of the line, as in a POSIX shell's `;` list.
  @discardableResult
  public func execute(line: String) -> [Outcome] {
    let trimmed = Self.trimmed(line)
    if trimmed.isEmpty { return [] }
    if history.last != trimmed { history.append(trimmed) }
    if history.count > 1000 { history.removeFirst(history.count - 1000) }
    lineObserver?(trimmed)
    let commands: [[String]]
    do { commands = try WordSplitter.split(line) } catch {
      // A line that cannot be split runs nothing and fails like any command (exit status, `ok:false`).
      let message = (error as? UsageError)?.message ?? "\(error)"
      let o = Outcome(input: line, command: "", succeeded: false, error: message)
      anyFailed = true
      present(o)
      return [o]
    }
    // A Ctrl-C pressed before this line belongs to the prompt, not to these commands.
    Interrupt.clear()
    var outcomes: [Outcome] = []
    func notRun(after index: Int) -> [String] {
      commands[(index + 1)...].map { $0.map(WordSplitter.quote).joined(separator: " ") }
    }
    for (index, words) in commands.enumerated() {
      // A stop that came between two commands (while the last one's output was printed).
      if index > 0, Interrupt.isRequested {
        let rest = notRun(after: index - 1)
        if settings.json {
          // JSON readers get one object for the stop too: which signal, and what did not run.
          var o = Outcome(
            input: rest.first ?? "", command: words.first ?? "", succeeded: false,
            error: "stopped by \(Signals.name(Interrupt.signal)) before it ran")
          o.stopSignal = Interrupt.signal
          o.notRun = rest
          present(o)
          outcomes.append(o)
          anyFailed = true
        } else {
          sayNotRun(rest, signal: Interrupt.signal)
        }
        break
      }
      var o = run(words: words)
      let rest = notRun(after: index)
      if let stop = o.stopSignal ?? (Interrupt.isRequested ? Interrupt.signal : nil), !rest.isEmpty,
        !wantsToQuit
      {
        o.stopSignal = stop
        o.notRun = rest
      }
      present(o)
      outcomes.append(o)
      if wantsToQuit { break }
      if let stop = o.stopSignal, !o.notRun.isEmpty {
        sayNotRun(o.notRun, signal: stop)
        break
      }
    }
    return outcomes
  }

  /// `(Ctrl-C: the rest of the line was not run: race; race)`, in text mode (JSON has `not_run`).
  private func sayNotRun(_ commands: [String], signal: Int32) {
    guard !settings.json else { return }
    write(
      "(\(Interrupt.describe(signal)): the rest of the line was not run: "
        + Printable.escape(commands.joined(separator: "; "), limit: 60) + ")")
  }

  /// `line` without leading and trailing spaces and tabs.
  static func trimmed(_ line: String) -> String {
    let blank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
    return String(line.drop(while: blank).reversed().drop(while: blank).reversed())
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
    let traceWindow = TraceWindow.open(settings.trace, for: command)
    var outcome: Outcome
    do {
      let invocation = try command.parse(Array(words.dropFirst()))
      let report = try invocation.run(self)
      outcome = Outcome(
        input: input, command: command.name, succeeded: report.succeeded, lines: report.lines,
        variables: report.variables, facts: report.facts, explanation: report.explanation)
      outcome.options = invocation.parsed.values
      outcome.unorderedRuns = report.unorderedRuns
      outcome.tables = report.tables
    } catch let e as UsageError {
      outcome = Outcome(input: input, command: command.name, succeeded: false, error: e.message)
    } catch is Interrupted {
      outcome = Outcome(
        input: input, command: command.name, succeeded: false,
        error:
          "\(command.name): interrupted (\(Interrupt.describe(Interrupt.signal))); everything it started was stopped and cleaned up"
      )
      outcome.stopSignal = Interrupt.isRequested ? Interrupt.signal : Signals.interrupt
    } catch let e as SystemError {
      outcome = Outcome(input: input, command: command.name, succeeded: false, error: "\(command.name): \(e)")
    } catch {
      outcome = Outcome(
        input: input, command: command.name, succeeded: false, error: "\(command.name): \(error)")
    }
    traceWindow.close(into: &outcome)
    // A command stopped by Ctrl-C (or failing) mid-way leaves its progress line: erase it
    // before the message, so the message starts at the left edge of a clean line.
    if progressShown { progressDone() }
    // A stop that arrived while the command ran (even one it finished despite) ends its line.
    if outcome.stopSignal == nil && Interrupt.isRequested { outcome.stopSignal = Interrupt.signal }
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
        write(TraceRender.text(outcome.trace, kernel: outcome.kernel, color: settings.color))
      }
    }
    for (_, observe) in observers.sorted(by: { $0.key < $1.key }) {
      let extra = observe(self, outcome)
      if !extra.isEmpty && !settings.json {
        write(TextWrap.wrap(extra, width: Layout.width).joined(separator: "\n"))
      }
    }
  }

  /// Shows progress of a long command on a terminal (`race: 40%`), erased afterwards.
  /// The line stays within the terminal (a line that reached its last column would wrap, and
  /// `\r` would then rewrite only its second half).
  public func progress(_ label: String, fraction: Double) {
    guard let sink = progressSink else { return }
    let percent = " \(Int(max(0, min(1, fraction) * 100)))%"
    let room = (Layout.width ?? 80) - 1 - Style.width(label) - 3 - Style.width(percent)
    let width = max(0, min(20, room))
    let filled = Int((max(0, min(1, fraction)) * Double(width)).rounded())
    let text =
      width >= 4
      ? "\(label) [" + String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        + "]" + percent
      : TextWrap.split(label + percent, columns: max(1, (Layout.width ?? 80) - 1)).0
    progressShown = true
    sink("\r\u{1B}[2K" + text)
  }
  public func progressDone() {
    progressShown = false
    progressSink?("\r\u{1B}[2K")
  }
  /// A progress line is on the screen (erased before anything else is printed).
  private var progressShown = false

  /// What `cleanUp` ended.
  public struct Released: Sendable, Equatable {
    /// Children killed (SIGKILL to their process groups) and reaped.
    public var children: [Int32] = []
    /// Threads of the shell's own process that were kept (`thread --hold`) and joined.
    public var threads = 0
  }

  /// Ends everything the session still holds: kept threads and children.
  @discardableResult
  public func cleanUp() -> Released {
    var released = Released(children: children.pids)
    for key in keepers.keys.sorted() {
      released.threads += keepers[key]!.heldThreads
      keepers[key]!.release()
    }
    keepers = [:]
    children.killAll()
    return released
  }

  /// Ends what the session holds and says so to the person leaving (quit, exit, Ctrl-D, a
  /// signal): what was stopped, and where lesson progress is kept.
  public func leave(signal: Int32 = 0) -> [String] {
    let released = cleanUp()
    var lines: [String] = []
    if signal != 0 { lines.append("proclab: \(Signals.name(signal)) received: leaving.") }
    if !released.children.isEmpty {
      let pids = released.children.prefix(6).map(String.init).joined(separator: ", ")
      lines.append(
        "Ended \(Units.plural(released.children.count, "held child", "held children")) (\(pids)"
          + (released.children.count > 6 ? ", …" : "") + "): SIGKILL, then reaped.")
    }
    if released.threads > 0 {
      lines.append("Ended \(Units.plural(released.threads, "held thread")): woken and joined.")
    }
    if released.children.isEmpty && released.threads == 0 { lines.append("Nothing was left running.") }
    if let lessons {
      if let warning = lessons.store.warning {
        lines.append(warning)
      } else {
        lines.append(
          "Your lesson progress is saved in \(Self.homeRelative(lessons.store.path)); 'lesson' resumes it.")
      }
    }
    lines.append("Bye.")
    return TextWrap.wrap(lines, width: Layout.width)
  }

  /// `~/.local/state/…` for a path under $HOME, escaped for the terminal.
  static func homeRelative(_ path: String) -> String {
    if let home = Environment.value("HOME"), home.count > 1, path.hasPrefix(home + "/") {
      return Printable.line("~" + path.dropFirst(home.count))
    }
    return Printable.line(path)
  }
}
