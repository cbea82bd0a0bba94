import Glibc

/// A course: every lesson file of a directory that loaded, in order, and the
/// files that did not (a broken file never stops the others).
public struct Course: Sendable {
  public var directory: String?
  public var lessons: [Lesson]
  public var errors: [LessonError]

  public init(directory: String?, lessons: [Lesson], errors: [LessonError]) {
    self.directory = directory
    self.lessons = lessons
    self.errors = errors
  }

  /// A lesson by id, by its number in the list (1-based), or by a unique id prefix.
  public func find(_ name: String) -> Lesson? {
    if let n = Int(name), n >= 1, n <= lessons.count { return lessons[n - 1] }
    let lowered = name.lowercased()
    if let exact = lessons.first(where: { $0.id == lowered }) { return exact }
    let fileMatch = lessons.first {
      Paths.lastComponent(Paths.deletingExtension($0.file)) == lowered
    }
    if let fileMatch { return fileMatch }
    let prefixed = lessons.filter { $0.id.hasPrefix(lowered) }
    return prefixed.count == 1 ? prefixed[0] : nil
  }

  /// Commands a lesson needs that this shell does not have.
  public func missingCommands(_ lesson: Lesson, registry: Registry) -> [String] {
    lesson.needs.filter { registry.command(named: $0) == nil }
  }
}

/// Finds and loads lesson files.
public enum LessonLibrary {
  /// The lesson files of a directory: `*.md` except README.md; sub-folders (drafts/) are skipped.
  public static func files(in directory: String) -> [String] {
    let names = Paths.entries(directory) ?? []
    return names.filter { $0.hasSuffix(".md") && $0.lowercased() != "readme.md" }.sorted().map {
      directory.hasSuffix("/") ? directory + $0 : directory + "/" + $0
    }
  }

  /// Reads one lesson file.
  public static func load(file: String) -> Result<Lesson, LessonError> {
    guard let data = Paths.readFile(file) else {
      return .failure(LessonError(file: file, line: 1, column: 1, message: "cannot read the file"))
    }
    guard let text = String(validating: data, as: UTF8.self) else {
      return .failure(LessonError(file: file, line: 1, column: 1, message: "the file is not UTF-8 text"))
    }
    do { return .success(try LessonParser.parse(text, file: file)) } catch let e as LessonError {
      return .failure(e)
    } catch {
      return .failure(LessonError(file: file, line: 1, column: 1, message: "\(error)"))
    }
  }

  /// Loads a directory of lessons, ordered by `order` then id; duplicate ids are errors.
  public static func load(directory: String?) -> Course {
    guard let directory else { return Course(directory: nil, lessons: [], errors: []) }
    var lessons: [Lesson] = []
    var errors: [LessonError] = []
    for file in files(in: directory) {
      switch load(file: file) {
      case .success(let lesson):
        if let other = lessons.first(where: { $0.id == lesson.id }) {
          errors.append(
            LessonError(
              file: file, line: 2, column: 1, message: "id '\(lesson.id)' is already used by \(other.file)"))
        } else {
          lessons.append(lesson)
        }
      case .failure(let e): errors.append(e)
      }
    }
    lessons.sort { ($0.order, $0.id) < ($1.order, $1.id) }
    return Course(directory: directory, lessons: lessons, errors: errors)
  }

  /// Where the course is, first match wins:
  /// 1. `--lessons DIR` (explicit), 2. `$PROCLAB_LESSONS`,
  /// 3. a `lessons/` folder beside `Package.swift`, walking up from the running binary
  ///    (`swift run proclab` in the repository) or in the current directory,
  /// 4. `<prefix>/share/proclab/lessons` for a binary installed in `<prefix>/bin`.
  public static func locate(explicit: String? = nil) -> String? {
    if let explicit { return explicit }
    if let dir = Environment.nonEmpty("PROCLAB_LESSONS") { return dir }
    let exe = executablePath()
    if let exe {
      var dir = Paths.deletingLastComponent(exe)
      while dir != "/" && !dir.isEmpty {
        if Paths.isDirectory(dir + "/lessons") && Paths.exists(dir + "/Package.swift") {
          return dir + "/lessons"
        }
        dir = Paths.deletingLastComponent(dir)
      }
    }
    let cwd = Paths.currentDirectory()
    if Paths.isDirectory(cwd + "/lessons") && Paths.exists(cwd + "/Package.swift") {
      return cwd + "/lessons"
    }
    if let exe {
      let share = Paths.deletingLastComponent(Paths.deletingLastComponent(exe)) + "/share/proclab/lessons"
      if Paths.isDirectory(share) { return share }
    }
    return nil
  }

  /// The running binary, from /proc/self/exe (the test bundle's is used in tests).
  static func executablePath() -> String? { ThisProcess.executablePath }
}
