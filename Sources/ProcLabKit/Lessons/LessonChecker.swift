/// Plays a lesson as a learner would: types each step's command in a fresh
/// session, in order, and checks that every step passes (a course author's CI).
public enum LessonChecker {
  /// Every problem found in one lesson file; empty when the lesson passes.
  /// A step whose output did not match is tried up to `attempts` times (results vary between runs).
  public static func check(
    file: String, registry: Registry = Catalog.registry, strict: Bool = false, attempts: Int = 3
  ) -> [LessonError] {
    let lesson: Lesson
    switch LessonLibrary.load(file: file) {
    case .failure(let e): return [e]
    case .success(let l): lesson = l
    }
    return check(lesson: lesson, registry: registry, strict: strict, attempts: attempts)
  }

  public static func check(
    lesson: Lesson, registry: Registry = Catalog.registry, strict: Bool = false, attempts: Int = 3,
    session given: Session? = nil
  ) -> [LessonError] {
    let course = Course(directory: nil, lessons: [lesson], errors: [])
    let missing = course.missingCommands(lesson, registry: registry)
    if !missing.isEmpty {
      return [
        LessonError(
          file: lesson.file, line: 2, column: 1,
          message:
            "the lesson needs \(missing.joined(separator: ", ")), which this build of proclab does not have")
      ]
    }
    // Every verb a step types must be listed in `needs:`, so a build without it lists the lesson as unavailable.
    for (i, step) in lesson.steps.enumerated() {
      let verb = step.commandText.split(separator: " ").first.map(String.init) ?? ""
      let name = registry.command(named: verb)?.name ?? verb
      if !lesson.needs.contains(name) && !lesson.needs.contains(verb) {
        return [
          LessonError(
            file: lesson.file, line: step.commandLine, column: 10,
            message:
              "step \(i + 1) types '\(Printable.word(verb))', which the front matter's 'needs:' does not list"
          )
        ]
      }
    }
    let session: Session
    if let given {
      session = given
    } else {
      session = Session(registry: registry)
      session.allowExec = false
      session.strict = strict
      if strict { session.takeBaseline() }
    }
    session.write = { _ in }
    defer { session.cleanUp() }
    var captures = Captures()
    var failures: [LessonError] = []
    for (i, step) in lesson.steps.enumerated() {
      let label = "step \(i + 1) '\(step.title)'"
      guard let command = step.concreteCommand(captures) else {
        failures.append(
          LessonError(
            file: lesson.file, line: step.commandLine, column: 10,
            message: "\(label): no command to type (add '<!-- run: COMMAND -->')"))
        break
      }
      guard case .fits = StepCommand.compare(command, with: step, captures: captures, registry: registry)
      else {
        failures.append(
          LessonError(
            file: lesson.file, line: step.commandLine, column: 10,
            message:
              "\(label): the command '\(command)' (from 'run:') does not fit the pattern '\(step.commandText)'"
          ))
        break
      }
      var problem: LessonError?
      var first: LessonError?
      var tries = 0
      for _ in 0..<max(1, attempts) {
        tries += 1
        var last: Outcome?
        for words in (try? WordSplitter.split(command)) ?? [] { last = session.run(words: words) }
        guard let outcome = last else { break }
        switch StepCheck.check(step, outcome: outcome, captures: captures, registry: registry) {
        case .passed(let c):
          captures = c
          problem = nil
        case .failed(let error):
          problem = LessonError(
            file: lesson.file, line: step.commandLine, column: 10,
            message: "\(label): '\(command)' failed: \(error)")
        case .mismatch(let m):
          problem = LessonError(
            file: lesson.file, line: m.line, column: 1,
            message: "\(label): the output of '\(command)' did not match:\n" + m.report)
        case .otherCommand, .otherArguments:
          problem = LessonError(
            file: lesson.file, line: step.commandLine, column: 10,
            message: "\(label): '\(outcome.input)' does not fit the pattern '\(step.commandText)'")
        }
        if problem == nil { break }
        if first == nil { first = problem }
      }
      if problem != nil, var first {
        // The first failure is the telling one: a retry runs after the step's effects (a reaped child…).
        if tries > 1 { first.message += "\n(tried \(tries) times; this was the first)" }
        failures.append(first)
        // Later steps may quote this one's values: stop at the first failure.
        break
      }
    }
    return failures
  }

  /// Checks every lesson file of a directory (sub-folders such as drafts/ are skipped).
  public static func check(directory: String, registry: Registry = Catalog.registry) -> [String:
    [LessonError]]
  {
    var results: [String: [LessonError]] = [:]
    for file in LessonLibrary.files(in: directory) { results[file] = check(file: file, registry: registry) }
    return results
  }
}

/// `proclab check lessons/`: each `.md` lesson played by the checker above, in a fresh
/// session like a transcript's.
public struct LessonFileChecker: FileChecker {
  public init() {}
  public var fileExtensions: [String] { ["md"] }

  public func check(file: String, text: String, options: CheckOptions) -> FileCheckResult {
    let start = MonotonicClock.nanoseconds()
    func elapsed() -> Double { Double(MonotonicClock.nanoseconds() - start) / 1e9 }
    // A folder's README and drafts/ are not lessons (the shell does not load them either).
    let name = Paths.lastComponent(file).lowercased()
    if name == "readme.md" || file.contains("/drafts/") || file.hasPrefix("drafts/") {
      return FileCheckResult(file: file, status: .passed, report: "", steps: 0, seconds: elapsed())
    }
    let lesson: Lesson
    do { lesson = try LessonParser.parse(text, file: file) } catch {
      return FileCheckResult(
        file: file, status: .unreadable, report: "\(error)", steps: 0, seconds: elapsed())
    }
    let session = Session.forFile(allowExec: options.allowExec)
    let failures = LessonChecker.check(lesson: lesson, session: session)
    let report =
      failures.map(\.description).joined(separator: "\n")
      + (options.update && !failures.isEmpty
        ? "\n(--update rewrites transcripts only; fix lessons by hand)" : "")
    return FileCheckResult(
      file: file, status: failures.isEmpty ? .passed : .failed, report: report, steps: lesson.steps.count,
      seconds: elapsed())
  }
}
