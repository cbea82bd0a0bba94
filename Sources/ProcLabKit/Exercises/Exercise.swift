/// One exercise: a program the learner writes in C, and the properties of what
/// it really did (seen by `observe`) that `verify` checks, each worth points.
public struct Exercise: Sendable {
  public let name: String
  public let title: String
  /// The extra untraced runs whose output a check compares (`exact in 20 runs`).
  public var repeats = 0
  public var timeout: Duration = .seconds(10)
  /// A signal `verify` sends the program this long after it started (Ctrl-C for `sigint`).
  public var signal: (number: Int32, after: Duration)?
  public let checks: [ExerciseCheck]

  public var points: Int { checks.reduce(0) { $0 + $1.points } }

  init(
    _ name: String, _ title: String, repeats: Int = 0, timeout: Duration = .seconds(10),
    signal: (Int32, Duration)? = nil, checks: [ExerciseCheck]
  ) {
    self.name = name
    self.title = title
    self.repeats = repeats
    self.timeout = timeout
    self.signal = signal.map { (number: $0.0, after: $0.1) }
    self.checks = checks
  }
}

/// A property of the program's run: what must hold, how many points it is worth,
/// and how to tell from the observed run.
public struct ExerciseCheck: Sendable {
  public let title: String
  public let points: Int
  let evaluate: @Sendable (VerifyContext) -> Verdict

  init(_ title: String, points: Int, _ evaluate: @escaping @Sendable (VerifyContext) -> Verdict) {
    self.title = title
    self.points = points
    self.evaluate = evaluate
  }
}

/// Whether a check was met, the evidence from the run, and what to change if not.
public struct Verdict: Sendable, Equatable {
  public var met: Bool
  public var evidence: String
  public var hint: String?

  static func met(_ evidence: String) -> Verdict { Verdict(met: true, evidence: evidence, hint: nil) }
  static func notMet(_ evidence: String, _ hint: String) -> Verdict {
    Verdict(met: false, evidence: evidence, hint: hint)
  }
}

/// What a check looks at: the traced run and the untraced repeats.
public struct VerifyContext: Sendable {
  public let run: ObservedRun
  public let repeats: [ProgramRun.Result]

  public var root: ObservedProcess {
    run.process(run.root) ?? ObservedProcess(pid: run.root, parent: 0, createdBy: "start", createdAt: 0)
  }
  /// Every process but the program itself.
  public var descendants: [ObservedProcess] { run.processes.filter { $0.pid != run.root } }
  /// Threads other than each process's main thread.
  public var workers: [ObservedThread] { run.threads.filter { !$0.isMain } }
  public var output: String { run.standardOutput }

  func list(_ pids: [Int32]) -> String { pids.map(String.init).joined(separator: ", ") }
  func ms(_ ns: UInt64) -> String { Units.duration(.nanoseconds(Int64(ns))) }

  /// Whether `a` and `b` were alive at the same moment.
  func overlap(_ a: ObservedThread, _ b: ObservedThread) -> Bool {
    let aEnd = a.endedAt ?? run.duration
    let bEnd = b.endedAt ?? run.duration
    return a.createdAt < bEnd && b.createdAt < aEnd
  }

  /// The value after `label` in each repeat's output (`counter = 1000000` → 1000000).
  func printed(_ label: String, in text: String) -> Int? {
    guard let range = text.firstRange(of: label) else { return nil }
    let digits = text[range.upperBound...].drop { $0 == " " }.prefix { $0.isNumber || $0 == "-" }
    return Int(digits)
  }
}

/// The outcome of `verify`: each check met or not, with evidence and points.
public struct VerifyResult: Sendable {
  public struct Line: Sendable {
    public var title: String
    public var points: Int
    public var verdict: Verdict
    public var earned: Int { verdict.met ? points : 0 }
  }
  public var exercise: String
  public var lines: [Line] = []
  /// Why nothing could be checked (no compiler, a compile error, no source file).
  public var problem: String?
  public var run: ObservedRun?

  public var earned: Int { lines.reduce(0) { $0 + $1.earned } }
  public var total: Int { lines.reduce(0) { $0 + $1.points } }
  public var passed: Bool { problem == nil && !lines.isEmpty && lines.allSatisfy(\.verdict.met) }
}
