/// How `proclab check` treats the files it checks.
public struct CheckOptions: Sendable {
  /// Let the file run external programs (`spawn --exec`): only from the command line.
  public var allowExec = false
  /// Rewrite expected output from the actual run, keeping what a person wrote where it still holds.
  public var update = false
  /// With `update`: show the diff, write nothing.
  public var dryRun = false
  public init(allowExec: Bool = false, update: Bool = false, dryRun: Bool = false) {
    self.allowExec = allowExec
    self.update = update
    self.dryRun = dryRun
  }
}

/// The verdict on one command of a file (a JUnit test case, a JSON entry).
public struct CommandResult: Sendable, Equatable {
  public enum Status: String, Sendable {
    case passed, failed
    /// Not checked: an earlier command failed to capture a value it needs, or Ctrl-C came first.
    case notRun = "not run"
  }
  /// The file line of the command.
  public var line: Int
  public var command: String
  public var status: Status
  public var report: String
  public var seconds: Double
  public var updated = false

  public init(
    line: Int, command: String, status: Status, report: String = "", seconds: Double = 0,
    updated: Bool = false
  ) {
    self.line = line
    self.command = command
    self.status = status
    self.report = report
    self.seconds = seconds
    self.updated = updated
  }
}

/// The verdict on one file.
public struct FileCheckResult: Sendable {
  public enum Status: String, Sendable {
    case passed, failed
    /// The file could not be read or parsed, or it holds no command (exit status 2).
    case unreadable
    /// Not a file check runs (a folder's README.md, drafts/): listed, never counted as passed.
    case skipped
  }
  public var file: String
  public var status: Status
  /// Per failing step: where, what ran, and the diff; or the parse error.
  public var report: String
  public var steps: Int
  public var seconds: Double
  /// True when `--update` rewrote the file (or, with `--dry-run`, would have).
  public var updated: Bool
  /// Per command, in file order (transcripts; a lesson's steps when the lesson checker gives them).
  public var commands: [CommandResult] = []
  /// With `--update`: what changed, as a unified diff.
  public var diff = ""
  /// `--update --dry-run`: the diff is what would change; the file was left as it was.
  public var dryRun = false

  public init(
    file: String, status: Status, report: String, steps: Int, seconds: Double, updated: Bool = false,
    commands: [CommandResult] = [], diff: String = ""
  ) {
    self.file = file
    self.status = status
    self.report = report
    self.steps = steps
    self.seconds = seconds
    self.updated = updated
    self.commands = commands
    self.diff = diff
  }
}

/// Something `proclab check` can check: transcripts (`.txt`) here, lessons
/// (`.md`) by the lesson engine. Add a checker to `FileCheckers.all`.
public protocol FileChecker: Sendable {
  /// File name endings this checker takes, without the dot (`txt`, `md`).
  var fileExtensions: [String] { get }
  func check(file: String, text: String, options: CheckOptions) -> FileCheckResult
}

/// Every kind of file `check` knows, by extension.
public enum FileCheckers {
  /// The lesson engine adds its checker here (`+ [LessonFileChecker()]`).
  public static let all: [any FileChecker] = [TranscriptFileChecker(), LessonFileChecker()]

  public static func checker(for path: String) -> (any FileChecker)? {
    let ext = Paths.pathExtension(path).lowercased()
    return all.first { $0.fileExtensions.contains(ext) }
  }

  /// Why a file is not one check runs, or nil: a folder's README.md and drafts/ are
  /// notes for authors (the shell does not load them as lessons either).
  public static func skipReason(for path: String) -> String? {
    let name = Paths.lastComponent(path).lowercased()
    if name == "readme.md" || name == "readme.txt" { return "a README, not a lesson or transcript" }
    if path.contains("/drafts/") || path.hasPrefix("drafts/") { return "in drafts/, which check leaves out" }
    return nil
  }

  /// The files a list of paths names: files as given, folders searched (sorted) for known
  /// extensions, leaving out what `skipReason` names.
  public static func files(in paths: [String]) -> (files: [String], missing: [String]) {
    var files: [String] = []
    var missing: [String] = []
    for path in paths {
      guard Paths.exists(path) else {
        missing.append(path)
        continue
      }
      if !Paths.isDirectory(path) {
        files.append(path)
        continue
      }
      let found = (Paths.subpaths(path) ?? []).filter {
        checker(for: $0) != nil && skipReason(for: $0) == nil
      }.sorted()
      files += found.map { Paths.appending(path, $0) }
    }
    return (files, missing)
  }

  /// Checks one file with the checker for its extension.
  public static func check(file: String, options: CheckOptions) -> FileCheckResult {
    if let reason = skipReason(for: file) {
      return FileCheckResult(
        file: file, status: .skipped, report: "\(file): skipped: \(reason)", steps: 0, seconds: 0)
    }
    guard let checker = checker(for: file) else {
      let known = all.flatMap(\.fileExtensions).map { "." + $0 }.joined(separator: ", ")
      return FileCheckResult(
        file: file, status: .unreadable, report: "\(file): not a file check knows (\(known))", steps: 0,
        seconds: 0)
    }
    guard let text = Paths.readText(file) else {
      return FileCheckResult(
        file: file, status: .unreadable, report: "\(file): cannot be read (missing, unreadable or not UTF-8)",
        steps: 0, seconds: 0)
    }
    return checker.check(file: file, text: text, options: options)
  }
}

/// A session as `check` and `replay` run files in: fresh, no colour, short
/// explanations, external programs only with `--allow-exec`.
extension Session {
  public static func forFile(allowExec: Bool, color: Bool = false) -> Session {
    var settings = Settings()
    settings.color = color
    let session = Session(settings: settings)
    session.allowExec = allowExec
    session.isInteractive = false
    session.strict = Environment.value("PROCLAB_STRICT") == "1"
    session.takeBaseline()
    return session
  }
}

/// Checks a transcript: runs it in a fresh session, matches every step.
public struct TranscriptFileChecker: FileChecker {
  public init() {}
  public var fileExtensions: [String] { ["txt"] }

  public func check(file: String, text: String, options: CheckOptions) -> FileCheckResult {
    let start = MonotonicClock.nanoseconds()
    func elapsed() -> Double { Double(MonotonicClock.nanoseconds() - start) / 1e9 }
    let transcript: Transcript
    do { transcript = try Transcript.parse(text, file: file) } catch {
      return FileCheckResult(
        file: file, status: .unreadable, report: "\(error)", steps: 0, seconds: elapsed())
    }
    if transcript.steps.isEmpty {
      return FileCheckResult(
        file: file, status: .unreadable,
        report: "\(file):1:1: no commands: a transcript needs at least one line 'proclab> COMMAND'", steps: 0,
        seconds: elapsed())
    }
    let session = Session.forFile(allowExec: options.allowExec)
    defer { session.cleanUp() }
    let player = TranscriptPlayer(session: session, transcript: transcript)
    var reports: [String] = []
    var consequences: [(line: Int, cause: Int)] = []
    var commands: [CommandResult] = []
    var replacements: [(first: Int, count: Int, lines: [String])] = []
    for index in transcript.steps.indices {
      let step = transcript.steps[index]
      if Interrupt.isRequested || Interrupt.terminationSignal != 0 {
        reports.append("\(file): interrupted before the command on line \(step.line)")
        for rest in transcript.steps[index...] {
          commands.append(
            CommandResult(line: rest.line, command: rest.command.text, status: .notRun, report: "interrupted")
          )
        }
        break
      }
      let result = player.run(step: index)
      // The command as written names it (stable across runs, for CI history); the report shows what ran.
      let written = step.command.text
      let shown = result.command ?? written
      guard let mismatch = result.mismatch else {
        commands.append(
          CommandResult(line: step.line, command: written, status: .passed, seconds: result.seconds))
        continue
      }
      if let cause = result.dependsOnFailedStep {
        consequences.append((step.line, cause))
        commands.append(
          CommandResult(
            line: step.line, command: written, status: .notRun,
            report: "not checked: it needs values the command on line \(cause) did not capture",
            seconds: result.seconds))
        continue
      }
      if options.update, result.command != nil {
        let update = TranscriptUpdater.update(step: step, result: result, settings: session.settings)
        if update.lines != step.expected.lines {
          replacements.append((step.expected.firstLine, step.expected.lines.count, update.lines))
        }
        if let captures = update.captures { player.adopt(captures) }
        let (command, report) = Self.updated(
          update, step: step, result: result, mismatch: mismatch, file: file, shown: shown,
          dryRun: options.dryRun)
        commands.append(command)
        if let report { reports.append(report) }
        continue
      }
      let report =
        "\(file):\(mismatch.line):1: output of 'proclab> \(ExpectedOutput.cut(shown))' (line \(step.line)) does not match\n"
        + mismatch.report
      reports.append(report)
      commands.append(
        CommandResult(
          line: step.line, command: written, status: .failed, report: report, seconds: result.seconds))
    }
    if !consequences.isEmpty {
      let byCause = Dictionary(grouping: consequences, by: \.cause).sorted { $0.key < $1.key }
      for (cause, lines) in byCause {
        reports.append(
          "  (\(Units.plural(lines.count, "later command")) on line\(lines.count == 1 ? "" : "s") \(lines.map { String($0.line) }.joined(separator: ", ")) not checked: \(lines.count == 1 ? "it needs" : "they need") values the command on line \(cause) did not capture)"
        )
      }
    }
    var (updated, diff) = (false, "")
    if !replacements.isEmpty {
      (updated, diff) = Self.rewrite(file, text: text, replacements: replacements, dryRun: options.dryRun) {
        reports.append($0)
      }
    }
    let failed = commands.contains { $0.status != .passed } || !reports.isEmpty
    var result = FileCheckResult(
      file: file, status: failed ? .failed : .passed, report: reports.joined(separator: "\n"),
      steps: transcript.steps.count, seconds: elapsed(), updated: updated, commands: commands, diff: diff)
    result.dryRun = options.dryRun
    return result
  }

  /// How a step `--update` rewrote reads in the results: passed once written, failed (the file on
  /// disk still fails) under `--dry-run`, failed with the reasons when it could not be rewritten.
  static func updated(
    _ update: TranscriptUpdater.StepUpdate, step: Transcript.Step, result: TranscriptPlayer.StepResult,
    mismatch: Mismatch, file: String, shown: String, dryRun: Bool
  ) -> (CommandResult, String?) {
    let written = step.command.text
    if update.captures != nil, dryRun {
      let report =
        "\(file):\(mismatch.line):1: output of 'proclab> \(ExpectedOutput.cut(shown))' (line \(step.line)) does not match; --update would rewrite it (see the diff)\n"
        + mismatch.report
      return (
        CommandResult(
          line: step.line, command: written, status: .failed, report: report, seconds: result.seconds,
          updated: true), report
      )
    }
    if update.captures != nil {
      return (
        CommandResult(
          line: step.line, command: written, status: .passed, seconds: result.seconds, updated: true),
        nil
      )
    }
    let report =
      "\(file):\(step.line):1: output of 'proclab> \(ExpectedOutput.cut(shown))' could not be updated completely\n"
      + update.problems.map { "  " + $0 }.joined(separator: "\n")
    return (
      CommandResult(
        line: step.line, command: written, status: .failed, report: report, seconds: result.seconds),
      report
    )
  }

  /// Writes the rewritten steps into the file (atomically; not under `--dry-run`) and returns
  /// whether it changed and the unified diff a person reviews.
  static func rewrite(
    _ file: String, text: String, replacements: [(first: Int, count: Int, lines: [String])], dryRun: Bool,
    problem: (String) -> Void
  ) -> (updated: Bool, diff: String) {
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    for r in replacements.sorted(by: { $0.first > $1.first }) {
      lines.replaceSubrange((r.first - 1)..<(r.first - 1 + r.count), with: r.lines)
    }
    let newText = lines.joined(separator: "\n")
    let diff = UnifiedDiff.make(old: text, new: newText, oldName: file, newName: file + " (updated)")
    guard !diff.isEmpty else { return (false, diff) }
    if !dryRun {
      do { try StateDirectory.writeAtomically(newText, to: file) } catch {
        problem("\(file): could not rewrite: \(error)")
        return (false, diff)
      }
    }
    return (true, diff)
  }
}
