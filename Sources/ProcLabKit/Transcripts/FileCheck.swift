import Foundation

/// How `proclab check` treats the files it checks.
public struct CheckOptions: Sendable {
  /// Let the file run external programs (`spawn --exec`): only from the command line.
  public var allowExec = false
  /// Rewrite expected output from the actual run, keeping placeholders that still match.
  public var update = false
  public init(allowExec: Bool = false, update: Bool = false) {
    self.allowExec = allowExec
    self.update = update
  }
}

/// The verdict on one file.
public struct FileCheckResult: Sendable {
  public enum Status: String, Sendable {
    case passed, failed
    /// The file could not be read or parsed (exit status 2).
    case unreadable
  }
  public var file: String
  public var status: Status
  /// Per failing step: where, what ran, and the diff; or the parse error.
  public var report: String
  public var steps: Int
  public var seconds: Double
  /// True when `--update` rewrote the file.
  public var updated: Bool

  public init(
    file: String, status: Status, report: String, steps: Int, seconds: Double, updated: Bool = false
  ) {
    self.file = file
    self.status = status
    self.report = report
    self.steps = steps
    self.seconds = seconds
    self.updated = updated
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
    let ext = (path as NSString).pathExtension.lowercased()
    return all.first { $0.fileExtensions.contains(ext) }
  }

  /// The files a list of paths names: files as given, folders searched (sorted) for known extensions.
  public static func files(in paths: [String]) -> (files: [String], missing: [String]) {
    var files: [String] = []
    var missing: [String] = []
    for path in paths {
      var isDirectory: ObjCBool = false
      guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
        missing.append(path)
        continue
      }
      if !isDirectory.boolValue {
        files.append(path)
        continue
      }
      let found = (FileManager.default.subpaths(atPath: path) ?? []).filter { checker(for: $0) != nil }
        .sorted()
      files += found.map { (path as NSString).appendingPathComponent($0) }
    }
    return (files, missing)
  }

  /// Checks one file with the checker for its extension.
  public static func check(file: String, options: CheckOptions) -> FileCheckResult {
    guard let checker = checker(for: file) else {
      let known = all.flatMap(\.fileExtensions).map { "." + $0 }.joined(separator: ", ")
      return FileCheckResult(
        file: file, status: .unreadable, report: "\(file): not a file check knows (\(known))", steps: 0,
        seconds: 0)
    }
    guard let data = FileManager.default.contents(atPath: file),
      let text = String(data: data, encoding: .utf8)
    else {
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
    session.strict = ProcessInfo.processInfo.environment["PROCLAB_STRICT"] == "1"
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
    let session = Session.forFile(allowExec: options.allowExec)
    defer { session.cleanUp() }
    let player = TranscriptPlayer(session: session, transcript: transcript)
    var reports: [String] = []
    var replacements: [(first: Int, count: Int, lines: [String])] = []
    for index in transcript.steps.indices {
      if Interrupt.isRequested {
        reports.append(
          "\(file): interrupted (Ctrl-C) before the command on line \(transcript.steps[index].line)")
        break
      }
      let result = player.run(step: index)
      guard let mismatch = result.mismatch else { continue }
      let step = transcript.steps[index]
      if options.update, result.command != nil {
        let (lines, captures) = TranscriptFileChecker.updatedLines(step: step, result: result)
        replacements.append((step.expected.firstLine, step.expected.lines.count, lines))
        player.adopt(captures)
        continue
      }
      reports.append(
        "\(file):\(mismatch.line):1: output of 'proclab> \(result.command ?? step.command.text)' (line \(step.line)) does not match\n"
          + mismatch.report)
    }
    var updated = false
    if !replacements.isEmpty {
      var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
      for r in replacements.sorted(by: { $0.first > $1.first }) {
        lines.replaceSubrange((r.first - 1)..<(r.first - 1 + r.count), with: r.lines)
      }
      do {
        try StateDirectory.writeAtomically(lines.joined(separator: "\n"), to: file)
        updated = true
      } catch {
        reports.append("\(file): could not rewrite: \(error)")
      }
    }
    let status: FileCheckResult.Status = reports.isEmpty ? .passed : .failed
    return FileCheckResult(
      file: file, status: status, report: reports.joined(separator: "\n"), steps: transcript.steps.count,
      seconds: elapsed(), updated: updated)
  }

  /// New expected lines for a step that no longer matches: each actual line keeps
  /// the expected line (with its placeholders) that still matches it, in order;
  /// other lines are written as the recorder would, with placeholders for the
  /// values the command reported as varying. Returns the lines and the captures they give.
  static func updatedLines(step: Transcript.Step, result: TranscriptPlayer.StepResult) -> ([String], Captures)
  {
    var patterns: [(LinePattern, String)] = []
    for element in step.expected.elements {
      switch element {
      case .line(let p): patterns.append((p, step.expected.lines[p.line - step.expected.firstLine]))
      case .skip: break
      case .unordered(let ps, _):
        patterns += ps.map { ($0, step.expected.lines[$0.line - step.expected.firstLine]) }
      }
    }
    let recorder = Recorder(path: "")
    var captures = result.capturesBefore
    recorder.know(captures)
    let variables = result.outcomes.flatMap(\.variables)
    var out: [String] = []
    var next = 0
    for line in result.actual {
      var taken = false
      for k in next..<patterns.count {
        if case .success(let c) = patterns[k].0.match(line, captures: captures) {
          out.append(patterns[k].1)
          captures = c
          next = k + 1
          taken = true
          break
        }
      }
      if !taken {
        recorder.know(captures)
        out += recorder.generalize([line], variables: variables)
      }
    }
    // Re-match to learn the captures the new lines give (they match by construction).
    var check = result.capturesBefore
    if let expected = try? ExpectedOutput(lines: out, file: "", firstLine: 1),
      expected.match(result.actual, captures: &check) == nil
    {
      return (out, check)
    }
    let plain = result.actual.map { line -> String in
      let escaped = Recorder.escape(line)
      return ["...", "~~~", "#", "proclab>"].contains(where: { escaped.hasPrefix($0) })
        ? "\\" + escaped : escaped
    }
    return (plain, result.capturesBefore)
  }
}
