import FoundationEssentials

/// Where a learner is in each lesson, saved between runs in
/// `$XDG_STATE_HOME/proclab/progress.json` (see `StateDirectory` for the file policy).
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
  /// Which shell captured each value (`ProgressStore.shellToken`): a PID captured by
  /// another shell names nothing in this one.
  public var capturedIn: [String: String] = [:]
  /// Captured values that no longer describe this machine (a process of an earlier shell,
  /// a value a later re-run contradicted): never quoted as if they were current.
  public var stale: [String] = []

  public init() {}

  enum CodingKeys: String, CodingKey { case step, passed, done, captures, answers, capturedIn, stale }

  /// Keys added later may be missing from an older file.
  public init(from decoder: Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    step = try c.decode(Int.self, forKey: .step)
    passed = try c.decode([Int].self, forKey: .passed)
    done = try c.decode(Bool.self, forKey: .done)
    captures = try c.decode([String: String].self, forKey: .captures)
    answers = try c.decode([String: String].self, forKey: .answers)
    capturedIn = try c.decodeIfPresent([String: String].self, forKey: .capturedIn) ?? [:]
    stale = try c.decodeIfPresent([String].self, forKey: .stale) ?? []
  }

  /// The most steps a lesson may have; a number beyond it is not a position but damage.
  static let stepLimit = 10_000

  /// Why these numbers cannot be a learner's position, or nil when they can.
  func impossibility() -> String? {
    if !(0..<Self.stepLimit).contains(step) { return "step \(step)" }
    if let bad = passed.first(where: { !(0..<Self.stepLimit).contains($0) }) { return "passed step \(bad)" }
    if let bad = answers.keys.first(where: { Int($0).map { !(0..<Self.stepLimit).contains($0) } ?? true }) {
      return "an answer for step '\(Printable.word(bad))'"
    }
    return nil
  }
}

public struct ProgressFile: Codable, Sendable, Equatable {
  public var version = 1
  /// The lesson the learner was last in (`lesson` without a name resumes it).
  public var current: String?
  public var lessons: [String: LessonProgress] = [:]
  public init() {}
}

/// The learner's progress, shared by every shell the learner has open: each save
/// merges this shell's changes into the file under its lock, so two shells in two
/// lessons keep both.
public final class ProgressStore {
  public let path: String
  public private(set) var file = ProgressFile()
  /// A one-line warning to show once (a file set aside, a save that failed).
  public var warning: String?
  /// Lessons (and the current lesson) changed by this shell since the last save.
  private var changed: Set<String> = []
  private var currentChanged = false
  /// Saving is off for this session: the file is a link, or it could not be written (said once).
  private var saveProblem: String?

  /// The shell that is running: written with every captured value (see `LessonProgress.capturedIn`).
  public static let shellToken = String(UInt64.random(in: 1...UInt64.max), radix: 36)

  /// `path` defaults to `StateDirectory.path + "/progress.json"`.
  public init(path: String? = nil) {
    self.path = path ?? StateDirectory.path + "/progress.json"
    StateFile.sweepTemporaryFiles(of: self.path)
    if let loaded = load(announce: true) { file = loaded }
  }

  /// Reads the file; an unreadable or impossible one is set aside (with a warning) and nil returned.
  func load(announce: Bool) -> ProgressFile? {
    let bytes: [UInt8]?
    do { bytes = try StateFile.read(path) } catch {
      if announce { refuse("\(error)") }
      return nil
    }
    guard let bytes else { return nil }
    let problem: String
    do {
      let decoded = try JSONDecoder().decode(ProgressFile.self, from: Data(bytes))
      guard
        let bad = decoded.lessons.lazy.compactMap({ id, p in p.impossibility().map { "\($0) in '\(id)'" } })
          .first
      else { return decoded }
      problem = "holds impossible numbers (\(Printable.word(bad)))"
    } catch {
      problem = "was unreadable"
    }
    if let aside = StateFile.setAside(path) {
      warning = "lesson progress in \(path) \(problem); set aside as \(aside), starting afresh"
    } else {
      warning = "lesson progress in \(path) \(problem) and could not be moved; starting afresh"
    }
    return nil
  }

  /// Stops saving for this session, saying why once.
  private func refuse(_ why: String) {
    saveProblem = why
    warning = "lesson progress will not be saved: \(why)"
  }

  public subscript(id: String) -> LessonProgress? {
    get { file.lessons[id] }
    set {
      file.lessons[id] = newValue
      changed.insert(id)
    }
  }

  public var current: String? {
    get { file.current }
    set {
      file.current = newValue
      currentChanged = true
    }
  }

  /// Merges this shell's changes into the file under its lock (read, merge, write atomically)
  /// and takes in what other shells saved. A failure becomes a one-line warning, said once.
  public func save() {
    if saveProblem != nil { return }
    let directory = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
    if !directory.isEmpty && !StateDirectory.ensure(directory: directory) {
      refuse("cannot create or write to \(directory)")
      return
    }
    do {
      try StateFile.withLock(path) {
        var merged = load(announce: false) ?? ProgressFile()
        for id in changed { merged.lessons[id] = file.lessons[id] }
        if currentChanged { merged.current = file.current }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let text = String(decoding: try encoder.encode(merged), as: UTF8.self) + "\n"
        try StateFile.write(text, to: path)
        file = merged
        changed = []
        currentChanged = false
      }
    } catch {
      refuse("could not save to \(path): \(error)")
    }
  }
}
