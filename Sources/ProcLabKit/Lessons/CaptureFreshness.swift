/// Which captured values still describe the machine now.
///
/// A value that names a process or thread (kind `pid` or `tid`) is only true in
/// the shell that captured it, and only while that process lives: a resumed
/// lesson marks the PIDs of an earlier shell stale (including that shell's own
/// PID), and a step that needs a stale value asks the learner to run the step
/// that captures it again. Measurements (durations, counts) stay true as
/// history. When a step is run again and a process value changes (a new PID),
/// the other steps that used the old one are no longer passed and their own
/// values go stale, so a summary never says a zombie was reaped while `ps`
/// still shows it. A measurement taken again (an RSS, a duration, a count)
/// simply replaces the older one: it varies by nature and contradicts nothing.
enum CaptureFreshness {
  static func namesProcess(_ kind: Variable.Kind?) -> Bool { kind == .pid || kind == .tid }

  /// Process names captured by another shell (or by a shell that did not record itself).
  static func staleOnResume(_ progress: LessonProgress, lesson: Lesson) -> Set<String> {
    Set(
      progress.captures.keys.filter { name in
        namesProcess(lesson.kind(of: name)) && progress.capturedIn[name] != ProgressStore.shellToken
      })
  }

  /// The captures that may be used: every value not marked stale.
  static func fresh(_ progress: LessonProgress) -> Captures {
    var captures = Captures()
    let stale = Set(progress.stale)
    for (name, value) in progress.captures where !stale.contains(name) { captures[name] = value }
    return captures
  }

  /// Names of processes the step refers to that no longer exist (a sleeper whose minute ran out).
  static func ended(_ names: [String], captures: Captures, lesson: Lesson) -> [String] {
    names.filter { name in
      guard namesProcess(lesson.kind(of: name)), let value = captures[name], let pid = Int32(value) else {
        return false
      }
      return !ProcFS.processExists(pid)
    }
  }

  /// After step `index` passed with `captures`: what it captured becomes fresh, and the other
  /// passed steps that used a value it changed are passed no more (their values go stale).
  static func record(
    _ captures: Captures, passing index: Int, in lesson: Lesson, progress: inout LessonProgress,
    previous: Captures
  ) {
    let step = lesson.steps[index]
    // Its own captures, and the stale names its output took afresh.
    let taken = Set(step.captureNames).union(
      step.outputReferences.filter { progress.stale.contains($0) || previous[$0] == nil })
    var changed: Set<String> = []
    for name in taken {
      guard let value = captures[name] else { continue }
      // Only a new identity breaks what other steps did: a size or a duration measured again
      // is simply the newer measurement (step 4's RSS is not step 3's, and need not be).
      if let old = progress.captures[name], old != value, namesProcess(lesson.kind(of: name)) {
        changed.insert(name)
      }
      progress.captures[name] = value
      progress.capturedIn[name] = ProgressStore.shellToken
    }
    var stale = Set(progress.stale).subtracting(taken.filter { captures[$0] != nil })
    for other in progress.passed where other != index {
      let s = lesson.steps[other]
      let used = Set(s.captureNames + s.commandReferences + s.outputReferences)
      guard !used.isDisjoint(with: changed) else { continue }
      progress.passed.removeAll { $0 == other }
      stale.formUnion(Set(s.captureNames).subtracting(taken))
    }
    if !progress.passed.contains(index) { progress.passed.append(index) }
    progress.passed.sort()
    progress.stale = stale.sorted()
  }

  /// The first step that captures `name`, for "run step 4 again".
  static func source(of name: String, in lesson: Lesson) -> (index: Int, title: String)? {
    lesson.stepCapturing(name).map { ($0, lesson.steps[$0].title) }
  }
}
