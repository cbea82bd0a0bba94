/// `exercises`, `exercise NAME`, `verify [NAME]`: programs the learner writes,
/// checked by observing what they really did.
enum ExerciseCommands {
  static let list = Command(
    name: "exercises", area: .programs, summary: "list the programming exercises and your progress",
    examples: ["exercises"]
  ) { _ in
    let store = ExerciseStore()
    let r = Report()
    var t = Table(["#", "exercise", "what you build", "status"], rightAligned: [0])
    var facts: [JSON] = []
    for (i, e) in ExerciseLibrary.all.enumerated() {
      let entry = store[e.name]
      let written = LearnerFiles.exists(ExerciseLibrary.workspace(e.name) + "/main.c")
      let status =
        entry?.passed == true
        ? "passed \(entry!.best)/\(e.points)"
        : entry.map { "best \($0.best)/\(e.points)" } ?? (written ? "started" : "not started")
      t.add(["\(i + 1)", e.name, e.title, status])
      facts.append([
        "name": .string(e.name), "title": .string(e.title), "points": .int(e.points),
        "best": .int(entry?.best ?? 0), "passed": .bool(entry?.passed ?? false), "started": .bool(written),
      ])
    }
    r.table(t)
    r.line("start one with `exercise NAME`; check it with `verify NAME`")
    r.fact("exercises", JSON.array(facts))
    r.explain(
      "verify compiles your program, runs it under ptrace (observe) and checks what it really did: the processes and threads it made, the pipes and descriptors, the signals, not only what it printed."
    )
    return r
  }

  struct StartOptions: CommandOptions {
    var name: String?
    static var declarations: [OptionDeclaration<Self>] {
      [
        .positional(
          "name", \.name, "NAME", required: true, "the exercise (exercises lists them)",
          completion: .words(ExerciseLibrary.all.map(\.name)))
      ]
    }
  }

  static let start = Command(
    name: "exercise", area: .programs,
    summary: "write an exercise's C skeleton and task into ./proclab-exercises/NAME/",
    examples: ["exercise fork-wait", "exercise mutex"], options: StartOptions.self
  ) { options, session in
    let name = options.name ?? ""
    guard let e = ExerciseLibrary.find(name) else {
      throw UsageError(
        "exercise: no exercise '\(Printable.word(name))'; exercises: \(ExerciseLibrary.all.map(\.name).joined(separator: ", "))"
      )
    }
    guard session.allowExec else {
      throw UsageError(
        "exercise: writes files into the current directory; from a file that needs --allow-exec")
    }
    guard let course = ExerciseLibrary.courseDirectory() else {
      throw UsageError(
        "exercise: the exercises folder was not found: run proclab from its repository, or set PROCLAB_EXERCISES"
      )
    }
    let dir = ExerciseLibrary.workspace(e.name)
    try LearnerFiles.makeDirectories(dir)
    let r = Report()
    var written: [String] = []
    var kept: [String] = []
    var task = ""
    for file in ["README.md", "main.c"] {
      guard let text = LearnerFiles.read("\(course)/\(e.name)/\(file)") else {
        throw UsageError("exercise: \(course)/\(e.name)/\(file) is missing from the course")
      }
      if file == "README.md" { task = taskParagraph(text) }
      if try LearnerFiles.createNew("\(dir)/\(file)", contents: text) {
        written.append(file)
      } else {
        kept.append(file)
      }
    }
    let store = ExerciseStore()
    store.current = e.name
    let warning = store.save()
    r.line("exercise \(e.name): \(e.title)")
    if !written.isEmpty { r.line("wrote \(written.joined(separator: " and ")) in \(Exercises.shown(dir))/") }
    if !kept.isEmpty {
      r.line("kept your \(kept.joined(separator: " and ")) (already there; nothing was overwritten)")
    }
    if !task.isEmpty { r.line(task) }
    r.line(
      "next: edit \(Exercises.shown(dir))/main.c, then `verify \(e.name)` (README.md has the checks and hints)"
    )
    if let warning { r.line(warning) }
    r.fact("exercise", e.name)
    r.fact("directory", dir)
    r.fact("written", written)
    r.fact("kept", kept)
    return r
  }

  /// The paragraph after `**Task.**` in an exercise's README.
  static func taskParagraph(_ readme: String) -> String {
    let paragraphs = readme.split(separator: "\n\n").map(String.init)
    guard let task = paragraphs.first(where: { $0.hasPrefix("**Task.**") }) else { return "" }
    return task.replacing("**Task.** ", with: "").replacing("**", with: "").split(separator: "\n")
      .joined(separator: " ")
  }

  struct VerifyOptions: CommandOptions {
    var name: String?
    static var declarations: [OptionDeclaration<Self>] {
      [
        .positional(
          "name", \.name, "NAME",
          "the exercise (default: the folder you are in, or the last one you started)",
          completion: .words(ExerciseLibrary.all.map(\.name)))
      ]
    }
  }

  static let verify = Command(
    name: "verify", area: .programs,
    summary: "compile your exercise, observe it run, and check what it really did",
    examples: ["verify fork-wait", "verify"], options: VerifyOptions.self
  ) { options, session in
    let store = ExerciseStore()
    guard let name = options.name ?? ExerciseLibrary.here()?.name ?? store.current else {
      throw UsageError("verify: which exercise? start one with `exercise NAME` (exercises lists them)")
    }
    let result = try Exercises.verify(name: name, session: session)
    if result.problem == nil { store.record(result) }
    let warning = store.save()
    let r = VerifyReport(result, best: store[result.exercise]?.best).build()
    if let warning { r.line(warning) }
    return r
  }
}

/// The text and facts of one verification.
struct VerifyReport {
  let result: VerifyResult
  let best: Int?
  let r = Report()

  init(_ result: VerifyResult, best: Int?) {
    self.result = result
    self.best = best
  }

  func build() -> Report {
    let name = result.exercise
    r.fact("exercise", name)
    if let problem = result.problem {
      r.line("verify \(name): \(problem)")
      r.fact("passed", false)
      r.fact("problem", problem)
      r.succeeded = false
      return r
    }
    if let run = result.run {
      let threads = run.threads.filter { !$0.isMain }.count
      r.line(
        "verify \(name): compiled, then observed it: \(Units.plural(run.processes.count, "process", "processes")), \(Units.plural(threads, "thread")), \(Units.plural(run.totalCalls, "system call"))"
      )
      let lines = run.standardOutput.split(separator: "\n").prefix(6)
      for line in lines { r.line("  │ " + Printable.line(String(line))) }
    }
    for line in result.lines {
      let mark = line.verdict.met ? Style.green("✓") : Style.red("✗")
      r.line("  \(mark) \(line.earned)/\(line.points)  \(line.title)")
      r.line("         " + line.verdict.evidence)
      if let hint = line.verdict.hint, !line.verdict.met {
        r.line("         " + Style.yellow("hint: ") + hint)
      }
    }
    let score = "\(result.earned)/\(result.total) points"
    if result.passed {
      r.line("\(name): passed — \(score)")
    } else {
      r.line(
        "\(name): not yet — \(score)" + (best.map { $0 > result.earned ? " (your best: \($0))" : "" } ?? ""))
    }
    r.fact("passed", result.passed)
    r.fact("points", result.earned)
    r.fact("total", result.total)
    r.fact(
      "checks",
      JSON.array(
        result.lines.map {
          [
            "check": .string($0.title), "met": .bool($0.verdict.met), "points": .int($0.points),
            "earned": .int($0.earned), "evidence": .string($0.verdict.evidence),
            "hint": $0.verdict.hint.map(JSON.string) ?? .null,
          ]
        }))
    if let run = result.run { r.fact("output", run.standardOutput) }
    r.explain(
      result.passed
        ? "every property held in what the program really did: the kernel's record of its processes, threads, descriptors and signals."
        : "each ✗ says what the program really did and what to change; `observe ./proclab-exercises/\(name)/\(name)` shows the whole run."
    )
    return r
  }
}
