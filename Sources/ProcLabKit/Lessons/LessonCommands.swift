extension Session {
  /// The session's lesson engine, created on first use from `--lessons DIR`,
  /// `$PROCLAB_LESSONS` or the shipped course (see `LessonLibrary.locate`).
  public var lessonEngine: LessonEngine {
    if let engine = lessons { return engine }
    return installLessons()
  }

  /// Loads a course and hooks the engine into the session: the prompt shows the
  /// position, every outcome is checked against the step, `lesson <Tab>` completes.
  @discardableResult
  public func installLessons(directory: String? = nil, progressPath: String? = nil) -> LessonEngine {
    let course = LessonLibrary.load(directory: LessonLibrary.locate(explicit: directory))
    let engine = LessonEngine(course: course, store: ProgressStore(path: progressPath), registry: registry)
    lessons = engine
    observers[.lesson] = { session, outcome in session.lessons?.observe(outcome) ?? [] }
    promptProvider = { session in session.lessons?.prompt ?? "proclab> " }
    lessonNames = { [weak engine] in
      guard let engine else { return [] }
      return engine.course.lessons.map(\.id) + engine.course.lessons.indices.map { String($0 + 1) }
    }
    return engine
  }
}

/// The shell verbs of the lesson engine.
enum LessonCommands {
  static func report(_ lines: [String]) -> Report {
    let r = Report()
    r.lines(lines)
    return r
  }

  /// Adds the engine's position to `--json` facts.
  static func facts(_ r: Report, _ engine: LessonEngine) {
    if let a = engine.active {
      r.fact("lesson", a.lesson.id)
      r.fact("step", a.progress.step + 1)
      r.fact("steps", a.lesson.steps.count)
      r.fact("passed", a.passed)
    } else {
      r.fact("lesson", JSON.null)
    }
  }

  /// The engine, after `--lessons DIR` (if given) loaded that course instead.
  static func engine(_ directory: String?, _ session: Session) -> LessonEngine {
    // Lines are styled while they are built, before the outcome is rendered.
    Style.enabled = session.settings.color && !session.settings.json
    if let directory { return session.installLessons(directory: directory) }
    return session.lessonEngine
  }

  struct ListOptions: CommandOptions {
    var lessons: String?
    static var declarations: [OptionDeclaration<Self>] {
      [.value("--lessons", \.lessons, "DIR", "load the course from DIR instead", completion: .files)]
    }
  }

  static let lessons = Command(
    name: "lessons", area: .lessons, summary: "list the lessons with your progress in each",
    examples: ["lessons"], options: ListOptions.self
  ) { options, session in
    let engine = engine(options.lessons, session)
    let r = report(engine.listing())
    r.fact(
      "lessons",
      JSON.array(
        engine.course.lessons.map { lesson in
          var o = JSONObject()
          o["id"] = .string(lesson.id)
          o["title"] = .string(lesson.title)
          o["steps"] = lesson.steps.count.json
          switch engine.status(lesson) {
          case .notStarted: o["status"] = .string("not started")
          case .inProgress(let k, _):
            o["status"] = .string("in progress")
            o["step"] = k.json
          case .done: o["status"] = .string("done")
          }
          return .object(o)
        }))
    r.fact("errors", JSON.array(engine.course.errors.map { .string($0.description) }))
    return r
  }

  struct StartOptions: CommandOptions {
    var name: String?
    var lessons: String?
    static var declarations: [OptionDeclaration<Self>] {
      [
        .positional(
          "name", \.name, "NAME|NUMBER", "the lesson (default: the one you were in)", completion: .lessons),
        .value("--lessons", \.lessons, "DIR", "load the course from DIR instead", completion: .files),
      ]
    }
  }

  static let lesson = Command(
    name: "lesson", area: .lessons, summary: "start or resume a lesson (by name or number)",
    examples: ["lesson 1", "lesson races", "lesson"], options: StartOptions.self
  ) { options, session in
    let engine = engine(options.lessons, session)
    let r = report(try engine.start(options.name))
    facts(r, engine)
    return r
  }

  /// A lesson verb with typed options, its output the engine's lines and position.
  static func verb<Options: CommandOptions>(
    _ name: String, _ summary: String, aliases: [String] = [], examples: [String]? = nil,
    options: Options.Type,
    _ body: @escaping @Sendable (LessonEngine, Options, Session) throws -> [String]
  ) -> Command {
    Command(
      name: name, aliases: aliases, area: .lessons, summary: summary, examples: examples ?? [name],
      options: options
    ) { options, session in
      Style.enabled = session.settings.color && !session.settings.json
      let engine = session.lessonEngine
      let r = report(try body(engine, options, session))
      facts(r, engine)
      return r
    }
  }

  static let next = verb("next", "go on to the next step once this one passed", options: NoOptions.self) {
    e, _, _ in try e.next()
  }

  struct BackOptions: CommandOptions {
    var step: Int?
    static var declarations: [OptionDeclaration<Self>] {
      [
        .positional(
          "step", \.step, "STEP", in: 1...LessonProgress.stepLimit, "the earlier step to go back to")
      ]
    }
  }
  static let back = verb(
    "back", "go back one step, or to step STEP (to run it again)", examples: ["back", "back 2"],
    options: BackOptions.self
  ) { e, options, _ in try e.back(to: options.step) }

  static let hint = verb("hint", "show the next hint for this step", options: NoOptions.self) { e, _, _ in
    try e.hint()
  }
  static let skip = verb(
    "skip", "run this step's command for you and pass it (on a passed step: go to the next)",
    options: NoOptions.self
  ) {
    e, _, s in try e.skip(session: s)
  }
  static let progress = verb(
    "progress", "where you are in the lesson, and your numbers so far", options: NoOptions.self
  ) { e, _, _ in e.progressLines() }

  struct RestartOptions: CommandOptions {
    var name: String?
    static var declarations: [OptionDeclaration<Self>] {
      [
        .positional(
          "name", \.name, "NAME", "the lesson to start over (default: this one)", completion: .lessons)
      ]
    }
  }
  static let restart = verb(
    "restart", "start the current lesson (or NAME) again from step 1", examples: ["restart"],
    options: RestartOptions.self
  ) { e, options, _ in try e.restart(options.name) }

  static let leave = verb("leave", "leave the lesson (progress is kept)", options: NoOptions.self) {
    e, _, _ in
    try e.leave()
  }

  struct AnswerOptions: CommandOptions {
    var letter: String?
    static var declarations: [OptionDeclaration<Self>] {
      [
        .positional(
          "letter", \.letter, "LETTER", required: true, "the choice, A to D",
          completion: .words(Prediction.letters))
      ]
    }
  }
  static let answer = verb(
    "answer", "answer the step's prediction before running its command", examples: ["answer B"],
    options: AnswerOptions.self
  ) { e, options, _ in try e.answer(options.letter ?? "") }

  /// `a`…`d`: typing the letter of a choice answers the prediction.
  static let letters: [Command] = Prediction.letters.map { letter in
    verb(
      letter.lowercased(), "answer the prediction with choice \(letter)", aliases: [letter],
      options: NoOptions.self
    ) {
      e, _, _ in try e.answer(letter)
    }
  }

  static let all: [Command] =
    [lessons, lesson, next, back, hint, skip, progress, restart, leave, answer] + letters
}
