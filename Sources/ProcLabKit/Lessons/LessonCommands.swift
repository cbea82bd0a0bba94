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

  static let lessonsOption = Command.Option("--lessons", value: "DIR", "load the course from DIR instead")

  static func engine(_ args: Arguments, _ session: Session) -> LessonEngine {
    // Lines are styled while they are built, before the outcome is rendered.
    Style.enabled = session.settings.color && !session.settings.json
    if let dir = args.string("--lessons") {
      return session.installLessons(directory: dir)
    }
    return session.lessonEngine
  }

  static let lessons = Command(
    name: "lessons", area: .lessons, summary: "list the lessons with your progress in each",
    usage: "lessons [--lessons DIR]", options: [lessonsOption], examples: ["lessons"]
  ) { args, session in
    try args.expectPositionals(atMost: 0)
    let engine = engine(args, session)
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

  static let lesson = Command(
    name: "lesson", area: .lessons, summary: "start or resume a lesson (by name or number)",
    usage: "lesson [NAME|NUMBER] [--lessons DIR]", options: [lessonsOption],
    examples: ["lesson 1", "lesson race", "lesson"], completion: .lessons
  ) { args, session in
    try args.expectPositionals(atMost: 1)
    let engine = engine(args, session)
    let r = report(try engine.start(args.positional(0)))
    facts(r, engine)
    return r
  }

  static func simple(
    _ name: String, _ summary: String, usage: String? = nil, aliases: [String] = [], positionals: Int = 0,
    completion: Completion = .none,
    _ body: @escaping @Sendable (LessonEngine, Arguments, Session) throws -> [String]
  ) -> Command {
    Command(
      name: name, aliases: aliases, area: .lessons, summary: summary, usage: usage ?? name,
      examples: [usage ?? name],
      completion: completion
    ) { args, session in
      try args.expectPositionals(atMost: positionals)
      Style.enabled = session.settings.color && !session.settings.json
      let engine = session.lessonEngine
      let r = report(try body(engine, args, session))
      facts(r, engine)
      return r
    }
  }

  static let next = simple("next", "go on to the next step once this one passed") { e, _, _ in try e.next() }
  static let back = simple("back", "go back one step (to run it again)") { e, _, _ in try e.back() }
  static let hint = simple("hint", "show the next hint for this step") { e, _, _ in try e.hint() }
  static let skip = simple("skip", "run this step's command for you and pass it") { e, _, s in
    try e.skip(session: s)
  }
  static let progress = simple("progress", "where you are in the lesson, and your numbers so far") {
    e, _, _ in
    e.progressLines()
  }
  static let restart = simple(
    "restart", "start the current lesson (or NAME) again from step 1", usage: "restart [NAME]",
    positionals: 1,
    completion: .lessons
  ) { e, args, _ in try e.restart(args.positional(0)) }
  static let leave = simple("leave", "leave the lesson (progress is kept)") { e, _, _ in try e.leave() }
  static let answer = simple(
    "answer", "answer the step's prediction before running its command", usage: "answer LETTER",
    positionals: 1,
    completion: .words(["A", "B", "C", "D"])
  ) { e, args, _ in
    guard let letter = args.positional(0) else { throw UsageError("answer: which choice? e.g. 'answer B'") }
    return try e.answer(letter)
  }
  /// `a`…`d`: typing the letter of a choice answers the prediction.
  static let letters: [Command] = Prediction.letters.map { letter in
    simple(letter.lowercased(), "answer the prediction with choice \(letter)", aliases: [letter]) { e, _, _ in
      try e.answer(letter)
    }
  }

  static let all: [Command] =
    [lessons, lesson, next, back, hint, skip, progress, restart, leave, answer] + letters
}
