import Glibc

/// Where the exercises are: the course folder (`exercises/NAME/README.md` and
/// `main.c`, the learner's starting point) and the learner's own copies
/// (`./proclab-exercises/NAME/`).
public enum ExerciseLibrary {
  /// Every exercise, in the order a course takes them.
  public static let all: [Exercise] = [
    ProcessExercises.forkWait, ProcessExercises.pipe, ProcessExercises.pipeline, ThreadExercises.mutex,
    ThreadExercises.boundedBuffer, ThreadExercises.sigint,
  ]

  public static func find(_ name: String) -> Exercise? {
    let lowered = name.lowercased()
    if let n = Int(name), n >= 1, n <= all.count { return all[n - 1] }
    return all.first { $0.name == lowered }
      ?? {
        let hits = all.filter { $0.name.hasPrefix(lowered) }
        return hits.count == 1 ? hits[0] : nil
      }()
  }

  /// The course folder, first match wins: `$PROCLAB_EXERCISES`; an `exercises/` beside
  /// `Package.swift`, walking up from the running binary (`swift run proclab` in a clone)
  /// or in the current directory; `<prefix>/share/proclab/exercises` beside an installed binary.
  public static func courseDirectory() -> String? {
    if let env = Environment.nonEmpty("PROCLAB_EXERCISES") { return env }
    func isCourse(_ dir: String) -> Bool {
      LearnerFiles.exists(dir + "/exercises/README.md") && LearnerFiles.exists(dir + "/Package.swift")
    }
    var dir = String(
      Lab.executable.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
    )
    let bin = dir
    while !dir.isEmpty {
      if isCourse(dir) { return dir + "/exercises" }
      dir = String(
        dir.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/"))
    }
    let cwd = LearnerFiles.currentDirectory()
    if isCourse(cwd) { return cwd + "/exercises" }
    let share =
      bin.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
      + "/share/proclab/exercises"
    return LearnerFiles.exists(share + "/README.md") ? share : nil
  }

  /// `./proclab-exercises/NAME`, or the current directory when the learner is already in it.
  public static func workspace(_ name: String) -> String {
    let cwd = LearnerFiles.currentDirectory()
    if cwd.hasSuffix("/proclab-exercises/\(name)") { return cwd }
    return cwd + "/proclab-exercises/" + name
  }

  /// The exercise whose folder the learner is in, if any.
  public static func here() -> Exercise? {
    let cwd = LearnerFiles.currentDirectory()
    guard let last = cwd.split(separator: "/").last, cwd.contains("/proclab-exercises/") else { return nil }
    return find(String(last))
  }
}
