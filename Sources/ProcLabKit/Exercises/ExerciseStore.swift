/// Exercise progress, kept like the lessons' (`progress.json`) in its own small
/// file beside it: `$XDG_STATE_HOME/proclab/exercises.json`.
public final class ExerciseStore {
  public struct Entry: Sendable, Equatable {
    public var best = 0
    public var total = 0
    public var passed = false
    public var verifications = 0
  }

  public let path: String
  public private(set) var entries: [String: Entry] = [:]
  /// The exercise last written or verified: `verify` with no name checks it.
  public var current: String?

  public init(path: String? = nil) {
    self.path = path ?? StateDirectory.path + "/exercises.json"
    load()
  }

  public subscript(name: String) -> Entry? { entries[name] }

  /// Records a verification: the best score and whether it ever passed.
  public func record(_ result: VerifyResult) {
    var e = entries[result.exercise] ?? Entry()
    e.verifications += 1
    e.total = result.total
    e.best = max(e.best, result.earned)
    e.passed = e.passed || result.passed
    entries[result.exercise] = e
    current = result.exercise
  }

  private func load() {
    // An unreadable or foreign file starts afresh: exercises can always be verified again.
    guard let text = LearnerFiles.read(path), let json = JSON.parse(text) else { return }
    current = json["current"]?.stringValue
    guard case .object(let o)? = json["exercises"] else { return }
    for field in o.fields {
      let j = field.value
      entries[field.key] = Entry(
        best: j["best"]?.intValue ?? 0, total: j["total"]?.intValue ?? 0,
        passed: j["passed"]?.boolValue ?? false,
        verifications: j["verifications"]?.intValue ?? 0)
    }
  }

  /// Writes the file atomically (temp file, fsync, rename); a failure is returned as one line.
  @discardableResult
  public func save() -> String? {
    var exercises = JSONObject()
    for (name, e) in entries.sorted(by: { $0.key < $1.key }) {
      exercises[name] = [
        "best": .int(e.best), "total": .int(e.total), "passed": .bool(e.passed),
        "verifications": .int(e.verifications),
      ]
    }
    let json: JSON = [
      "version": 1, "current": current.map(JSON.string) ?? .null, "exercises": .object(exercises),
    ]
    guard StateDirectory.ensure() else { return "could not create \(StateDirectory.path)" }
    do { try StateDirectory.writeAtomically(json.serialized + "\n", to: path) } catch {
      return "could not save exercise progress to \(path): \(error)"
    }
    return nil
  }
}
