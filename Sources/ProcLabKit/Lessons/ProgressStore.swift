import Foundation
import Glibc

/// Where a learner is in each lesson, saved between runs in
/// `$XDG_STATE_HOME/proclab/progress.json` (atomic write: temp file + rename).
public struct LessonProgress: Codable, Sendable, Equatable {
  /// The step the learner is on (0-based).
  public var step: Int = 0
  /// Steps passed (0-based).
  public var passed: [Int] = []
  /// Finished at least once.
  public var done: Bool = false
  /// Values captured by the steps (`t` → `1.2 ms`), quoted by later steps and the summary.
  public var captures: [String: String] = [:]
  /// Prediction answers by step (0-based index as text → letter).
  public var answers: [String: String] = [:]

  public init() {}
}

public struct ProgressFile: Codable, Sendable, Equatable {
  public var version = 1
  /// The lesson the learner was last in (`lesson` without a name resumes it).
  public var current: String?
  public var lessons: [String: LessonProgress] = [:]
  public init() {}
}

public final class ProgressStore {
  public let path: String
  public private(set) var file = ProgressFile()
  /// A one-line warning to show once (a corrupt file was set aside, a save failed).
  public var warning: String?

  /// `path` defaults to `StateDirectory.path + "/progress.json"`.
  public init(path: String? = nil) {
    self.path = path ?? StateDirectory.path + "/progress.json"
    load()
  }

  func load() {
    guard let data = FileManager.default.contents(atPath: path) else { return }
    do {
      file = try JSONDecoder().decode(ProgressFile.self, from: data)
    } catch {
      // Set the unreadable file aside rather than lose it or crash.
      let aside = path + ".corrupt-\(Int(Date().timeIntervalSince1970))"
      if rename(path, aside) == 0 {
        warning = "lesson progress in \(path) was unreadable; set aside as \(aside), starting afresh"
      } else {
        warning = "lesson progress in \(path) was unreadable and could not be moved; starting afresh"
      }
      file = ProgressFile()
    }
  }

  public subscript(id: String) -> LessonProgress? {
    get { file.lessons[id] }
    set { file.lessons[id] = newValue }
  }

  public var current: String? {
    get { file.current }
    set { file.current = newValue }
  }

  /// Writes the file atomically; a failure becomes a one-line warning, never an error.
  public func save() {
    let dir = (path as NSString).deletingLastPathComponent
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    do {
      let data = try encoder.encode(file)
      try StateDirectory.writeAtomically(String(decoding: data, as: UTF8.self) + "\n", to: path)
    } catch {
      warning = "could not save lesson progress to \(path): \(error)"
    }
  }
}
