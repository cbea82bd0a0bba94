/// The lesson state machine: which lesson and step the learner is on, what
/// they captured (and which of those values are still true), which hints they
/// saw; checks every command against the current step and saves progress
/// after every change.
///
/// Split by concern: moving through a lesson (here), what is shown
/// (`LessonEngine+Text.swift`), checking commands (`LessonEngine+Checking.swift`),
/// the course listing (`LessonEngine+Listing.swift`) and which values are fresh
/// (`CaptureFreshness.swift`).
public final class LessonEngine {
  public private(set) var course: Course
  public let store: ProgressStore
  let registry: Registry

  /// The lesson being taken.
  public struct Active {
    public var lesson: Lesson
    public var progress: LessonProgress
    /// The values that are true now: captured in this shell, or not about processes.
    /// Stale values stay in `progress` (for messages) but never fill a command or a check.
    public var captures: Captures
    public var hintsShown = 0
    public var step: LessonStep { lesson.steps[progress.step] }
    public var passed: Bool { progress.passed.contains(progress.step) }
    public var answer: String? { progress.answers[String(progress.step)] }
    public var stale: Set<String> { Set(progress.stale) }
  }
  public internal(set) var active: Active?
  /// True while `skip` runs a step's command (its own check decides, not the observer).
  var skipping = false

  public init(course: Course, store: ProgressStore, registry: Registry) {
    self.course = course
    self.store = store
    self.registry = registry
  }

  public func reload(directory: String) {
    course = LessonLibrary.load(directory: directory)
    active = nil
  }

  /// `proclab [race 3/7]> `, with `ok` once the step has passed.
  public var prompt: String? {
    guard let a = active else { return nil }
    // ASCII only: readline (without a UTF-8 locale) counts bytes to place the cursor.
    return "proclab [\(a.lesson.id) \(a.progress.step + 1)/\(a.lesson.steps.count)\(a.passed ? " ok" : "")]> "
  }

  /// The progress file's warning, once: shown at the end of the command that met it.
  func warnings() -> [String] {
    guard let w = store.warning else { return [] }
    store.warning = nil
    return [Style.yellow("warning: ") + w]
  }

  func requireActive(_ verb: String) throws -> Active {
    guard let a = active else {
      throw UsageError("\(verb): you are not in a lesson; type 'lessons' to see them, `lesson 1` to start")
    }
    return a
  }

  func save() {
    if let a = active { store[a.lesson.id] = a.progress }
    store.save()
  }

  // MARK: starting and resuming

  /// `lesson NAME|NUMBER`: starts, resumes or (when done) retakes a lesson.
  /// Without a name: resumes the last lesson, or the first one not done.
  public func start(_ name: String?) throws -> [String] {
    let lesson = try choose(name)
    var progress = store[lesson.id] ?? LessonProgress()
    let finished = progress.done && Set(progress.passed).count >= lesson.steps.count
    let resuming = store[lesson.id] != nil && !finished
    if finished {
      // Retaking a finished lesson: from the top, keeping 'done'.
      progress = LessonProgress()
      progress.done = true
    }
    // The file may have changed since: forget steps that no longer exist.
    progress.passed = Array(Set(progress.passed.filter { $0 < lesson.steps.count })).sorted()
    progress.step = min(max(0, progress.step), lesson.steps.count - 1)
    progress.answers = progress.answers.filter { Int($0.key).map { $0 < lesson.steps.count } ?? false }
    let newlyStale = CaptureFreshness.staleOnResume(progress, lesson: lesson)
    progress.stale = Array(Set(progress.stale).union(newlyStale)).sorted()
    active = Active(lesson: lesson, progress: progress, captures: CaptureFreshness.fresh(progress))
    store.current = lesson.id
    save()
    var out: [String] = []
    if resuming && (progress.step > 0 || !progress.passed.isEmpty) {
      out.append(
        Style.bold("Resuming '\(lesson.title)' at step \(progress.step + 1) of \(lesson.steps.count)."))
      out += resumeNote(newlyStale)
    } else {
      let number = course.lessons.firstIndex { $0.id == lesson.id }.map { $0 + 1 } ?? 0
      out.append(Style.bold("Lesson \(number): \(lesson.title)"))
      out += LessonText.paragraphs(lesson.introduction).map(render)
      out.append(
        Style.dim(
          "Commands: 'hint', 'skip' (runs the step for you), 'back', 'next', 'progress', 'restart', 'leave'. Every other command works as usual."
        ))
    }
    out += presentStep()
    return out + warnings()
  }

  /// The lesson a `lesson` command names, or the one to resume.
  func choose(_ name: String?) throws -> Lesson {
    let lesson: Lesson
    if let name {
      guard let found = course.find(name) else {
        let names = course.lessons.enumerated().map { "\($0.offset + 1) \($0.element.id)" }.joined(
          separator: ", ")
        throw UsageError(
          "lesson: no lesson '\(Printable.word(name))'; \(names.isEmpty ? "no lessons are loaded (see 'lessons')" : "lessons: " + names)"
        )
      }
      lesson = found
    } else if let current = store.current.flatMap({ course.find($0) }), store[current.id]?.done != true {
      lesson = current
    } else if let first = course.lessons.first(where: { store[$0.id]?.done != true }) ?? course.lessons.first
    {
      lesson = first
    } else {
      throw UsageError("lesson: no lessons are loaded; see 'lessons'")
    }
    let missing = course.missingCommands(lesson, registry: registry)
    if !missing.isEmpty {
      throw UsageError(
        "lesson: '\(lesson.id)' needs \(missing.joined(separator: ", ")), which this build of proclab does not have"
      )
    }
    return lesson
  }

  /// What a learner resuming should know about their numbers from last time.
  func resumeNote(_ newlyStale: Set<String>) -> [String] {
    guard let a = active, !a.progress.captures.isEmpty else { return [] }
    if newlyStale.isEmpty { return [Style.dim("Your numbers from last time are kept.")] }
    let named = newlyStale.sorted().map { "\($0) (\(a.progress.captures[$0] ?? "?"))" }
    let list = named.count == 1 ? named[0] : named.dropLast().joined(separator: ", ") + " and " + named.last!
    return [
      Style.dim(
        "Your numbers from last time are kept, but \(list) came from an earlier shell: "
          + "a step that needs \(named.count == 1 ? "it" : "one") will ask you to run its step again.")
    ]
  }

  // MARK: moving

  public func next() throws -> [String] {
    let a = try requireActive("next")
    guard a.passed else {
      let run = a.step.concreteCommand(a.captures).map { "run '\($0)', or " } ?? ""
      throw UsageError(
        "next: step \(a.progress.step + 1) is not passed yet; \(run)type 'hint', or 'skip' to have it run for you"
      )
    }
    if a.progress.step + 1 < a.lesson.steps.count {
      active!.progress.step += 1
      active!.hintsShown = 0
      save()
      return presentStep() + warnings()
    }
    return finish() + warnings()
  }

  /// `back`: the previous step; `back N`: step N (an earlier one), to run it again.
  public func back(to target: Int? = nil) throws -> [String] {
    let a = try requireActive("back")
    let current = a.progress.step
    let destination: Int
    if let target {
      guard (1...current).contains(target) else {
        throw UsageError(
          current == 0
            ? "back: this is the first step"
            : "back: choose an earlier step, 1…\(current); you are on step \(current + 1)")
      }
      destination = target - 1
    } else {
      guard current > 0 else { throw UsageError("back: this is the first step") }
      destination = current - 1
    }
    active!.progress.step = destination
    active!.hintsShown = 0
    save()
    return presentStep() + warnings()
  }

  public func restart(_ name: String?) throws -> [String] {
    let id: String
    if let name {
      guard let lesson = course.find(name) else {
        throw UsageError("restart: no lesson '\(Printable.word(name))'")
      }
      id = lesson.id
    } else {
      id = try requireActive("restart").lesson.id
    }
    var fresh = LessonProgress()
    fresh.done = store[id]?.done ?? false
    store[id] = fresh
    active = nil
    store.save()
    return try start(id)
  }

  public func leave() throws -> [String] {
    let a = try requireActive("leave")
    save()
    active = nil
    return [
      "Left '\(a.lesson.title)' at step \(a.progress.step + 1) of \(a.lesson.steps.count); your progress is saved. `lesson \(a.lesson.id)` resumes it."
    ] + warnings()
  }

  public func answer(_ letter: String) throws -> [String] {
    let a = try requireActive("answer")
    guard let p = a.step.prediction else { throw UsageError("answer: this step asks no prediction") }
    let up = letter.uppercased()
    guard let i = Prediction.letters.firstIndex(of: up), i < p.choices.count else {
      throw UsageError(
        "answer: choose one of \(p.choices.indices.map { p.letter($0) }.joined(separator: ", ")), got '\(Printable.word(letter))'"
      )
    }
    if a.passed { return ["You already ran this step; the answer was \(p.answerText)."] }
    active!.progress.answers[String(a.progress.step)] = up
    save()
    let then = a.step.concreteCommand(a.captures).map { "Now run it and see: \($0)" } ?? ""
    return ["Your prediction: \(up)) " + render(fill(p.choices[i])) + ". " + then] + warnings()
  }
}
