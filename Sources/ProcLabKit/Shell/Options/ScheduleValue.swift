/// An interleaving a learner chooses for two threads' steps, typed as one
/// quoted word: `race --schedule "t1:load t2:load t1:store t2:store"`.
///
/// Each thread repeats load → add → store; an `add` left out is done just
/// before that thread's store. Written back in one spelling (`t1:load t2:load
/// t1:store t2:store`), so lessons compare schedules by meaning.
public struct ScheduleValue: OptionValue {
  public enum Step: String, Sendable, Equatable, CaseIterable {
    case load, add, store
  }

  public struct Entry: Sendable, Equatable {
    /// 0 for t1, 1 for t2.
    public var thread: Int
    public var step: Step
    /// Added because the learner left the add out.
    public var implied: Bool
  }

  /// The steps as typed (without implied adds).
  public let typed: [Entry]
  /// The steps the threads run, implied adds included.
  public let steps: [Entry]
  public static let maxSteps = 64

  public static var expected: String {
    "a schedule such as \"t1:load t2:load t1:store t2:store\" (steps t1/t2 : load, add, store)"
  }

  public static func refusal(of word: String, for what: String) -> String {
    "\(what): \(problem(in: word) ?? "not a schedule"); write steps like \"t1:load t2:load t1:store t2:store\""
  }

  public static func parse(_ word: String) -> ScheduleValue? {
    guard problem(in: word) == nil, let typed = entries(word) else { return nil }
    return ScheduleValue(typed: typed, steps: complete(typed))
  }

  public var canonicalWord: String {
    typed.map { "t\($0.thread + 1):\($0.step.rawValue)" }.joined(separator: " ")
  }

  public var json: JSON { .string(canonicalWord) }

  /// Increments each thread completes (its stores).
  public func increments(of thread: Int) -> Int {
    steps.filter { $0.thread == thread && $0.step == .store }.count
  }

  static func entries(_ word: String) -> [Entry]? {
    let tokens = word.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "\t" })
    var out: [Entry] = []
    for token in tokens {
      let parts = token.lowercased().split(separator: ":")
      guard parts.count == 2, parts[0] == "t1" || parts[0] == "t2",
        let step = Step(rawValue: String(parts[1]))
      else { return nil }
      out.append(Entry(thread: parts[0] == "t1" ? 0 : 1, step: step, implied: false))
    }
    return out
  }

  /// What is wrong with a schedule, in one phrase; nil when it is a good one.
  static func problem(in word: String) -> String? {
    guard let typed = entries(word) else {
      let bad = word.split(whereSeparator: { $0 == " " || $0 == "," }).first { token in
        entries(String(token)) == nil
      }
      return
        "'\(Printable.word(String(bad ?? Substring(word))))' is not a step (t1 or t2, then load, add or store)"
    }
    if typed.isEmpty { return "it has no steps" }
    let all = complete(typed)
    if all.count > maxSteps { return "it has more than \(maxSteps) steps" }
    for thread in 0..<2 {
      let name = "t\(thread + 1)"
      var expecting: Step = .load
      for e in typed where e.thread == thread {
        switch (expecting, e.step) {
        case (.load, .load): expecting = .add
        case (.add, .add): expecting = .store
        case (.add, .store), (.store, .store): expecting = .load
        case (.load, _): return "\(name) must load before it can \(e.step.rawValue)"
        case (.add, .load), (.store, .load): return "\(name) loads again before it stored its last value"
        case (.store, .add): return "\(name) adds twice before storing"
        }
      }
      if expecting != .load { return "\(name) loads but never stores its value" }
    }
    if !typed.contains(where: { $0.thread == 0 }) || !typed.contains(where: { $0.thread == 1 }) {
      return "both t1 and t2 need steps"
    }
    return nil
  }

  /// Inserts the implied adds: just before a store that no add preceded.
  static func complete(_ typed: [Entry]) -> [Entry] {
    var out: [Entry] = []
    var added = [false, false]
    for e in typed {
      switch e.step {
      case .load: added[e.thread] = false
      case .add: added[e.thread] = true
      case .store:
        if !added[e.thread] { out.append(Entry(thread: e.thread, step: .add, implied: true)) }
        added[e.thread] = false
      }
      out.append(e)
    }
    return out
  }
}
