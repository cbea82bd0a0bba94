/// `lessons` and `progress`: the course and the current lesson at a glance.
extension LessonEngine {
  public enum Status: Equatable {
    case notStarted
    case inProgress(step: Int, of: Int)
    case done
  }

  public func status(_ lesson: Lesson) -> Status {
    guard let p = store[lesson.id] else { return .notStarted }
    if p.done && (p.passed.isEmpty || active?.lesson.id != lesson.id) { return .done }
    let step = min(max(0, p.step), max(0, lesson.steps.count - 1))
    return .inProgress(step: step + 1, of: lesson.steps.count)
  }

  static func bar(_ fraction: Double, width: Int = 20) -> String {
    let f = fraction.isFinite ? max(0, min(1, fraction)) : 0
    let filled = Int((f * Double(width)).rounded())
    return "[" + String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled) + "]"
  }

  /// The table `lessons` prints.
  public func listing() -> [String] {
    var out = warnings()
    if course.lessons.isEmpty && course.errors.isEmpty {
      out.append(
        course.directory == nil
          ? "No lessons found: run proclab from its repository, set PROCLAB_LESSONS, or use --lessons DIR."
          : "No lessons in \(Printable.line(course.directory!)).")
      return out
    }
    var t = Table([])
    // At 80 columns the title goes under its row; number, name, bar and status stay side by side.
    t.stackable = [2]
    var done = 0
    for (i, lesson) in course.lessons.enumerated() {
      let missing = course.missingCommands(lesson, registry: registry)
      let passedSteps = Set(store[lesson.id]?.passed ?? []).filter { $0 < lesson.steps.count }.count
      var fraction = Double(passedSteps) / Double(max(1, lesson.steps.count))
      var label: String
      switch status(lesson) {
      case .notStarted: label = "not started"
      case .inProgress(let k, let n): label = "step \(k) of \(n)"
      case .done:
        label = "done"
        fraction = 1
        done += 1
      }
      if !missing.isEmpty { label = "needs \(missing.joined(separator: ", ")) (not in this build)" }
      t.add([String(i + 1), lesson.id, lesson.title, LessonEngine.bar(fraction, width: 10), label])
    }
    out += t.lines(fitting: Layout.width)
    for e in course.errors { out.append(Style.red("could not load \(Printable.line(e.description))")) }
    out.append(
      "course: \(done) of \(course.lessons.count) done \(LessonEngine.bar(Double(done) / Double(max(1, course.lessons.count))))"
    )
    out.append("Type `lesson NUMBER` or `lesson NAME` to start or resume one.")
    return out
  }

  /// `progress`: the steps of the current lesson with marks, and the values captured so far.
  public func progressLines() -> [String] {
    guard let a = active else { return ["You are not in a lesson."] + listing() }
    var out = [Style.bold("\(a.lesson.title)") + " — step \(a.progress.step + 1) of \(a.lesson.steps.count)"]
    for (i, s) in a.lesson.steps.enumerated() {
      let mark = a.progress.passed.contains(i) ? "✓" : (i == a.progress.step ? "→" : "·")
      out.append("  \(mark) \(i + 1). \(s.title)")
    }
    out.append(
      "  " + LessonEngine.bar(Double(a.progress.passed.count) / Double(a.lesson.steps.count))
        + " \(a.progress.passed.count) of \(a.lesson.steps.count) steps passed")
    if !a.progress.captures.isEmpty {
      let stale = a.stale
      out.append(
        "  your numbers: "
          + a.progress.captures.sorted { $0.key < $1.key }.map {
            "\($0.key) = \(Printable.line($0.value))" + (stale.contains($0.key) ? " (stale)" : "")
          }.joined(separator: ", "))
    }
    return out + warnings()
  }
}
