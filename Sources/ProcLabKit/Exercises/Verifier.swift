/// `verify`'s work: compile the learner's program with the system C compiler,
/// run it under `observe`, run it again untraced where a check needs several
/// runs, and check what it really did.
public enum Exercises {
  /// The C compilers tried, in order.
  static let compilers = ["cc", "gcc", "clang"]

  /// Compiles, observes and checks exercise `name` from `./proclab-exercises/NAME/main.c`.
  /// A problem the learner must fix first (no compiler, a compile error) is a result with
  /// `problem` set; bad input (an unknown name, running from a file without --allow-exec) throws.
  ///
  /// A lesson step can be an exercise: its command is `verify NAME`, and its expected
  /// output ends with the line `NAME: passed — {{:int}}/{{:int}} points`.
  public static func verify(name: String, session: Session) throws -> VerifyResult {
    guard let exercise = ExerciseLibrary.find(name) else {
      throw UsageError(
        "verify: no exercise '\(Printable.word(name))'; exercises: \(ExerciseLibrary.all.map(\.name).joined(separator: ", "))"
      )
    }
    guard session.allowExec else {
      throw UsageError("verify: compiles and runs your program; from a file that needs --allow-exec")
    }
    var result = VerifyResult(exercise: exercise.name)
    let dir = ExerciseLibrary.workspace(exercise.name)
    let source = dir + "/main.c"
    guard LearnerFiles.exists(source) else {
      result.problem =
        "there is no \(shown(source)) yet: `exercise \(exercise.name)` writes the skeleton to start from"
      return result
    }
    guard let cc = compilers.lazy.compactMap({ Spawn.resolve(program: $0) }).first else {
      result.problem = "no C compiler found (cc, gcc or clang on PATH): install one, e.g. apt-get install gcc"
      return result
    }
    let binary = dir + "/" + exercise.name
    let compiled = try ProgramRun.run(
      cc, [cc, "-Wall", "-O0", "-g", "-pthread", "-o", binary, source], timeout: .seconds(60))
    guard compiled.status == .exited(0) else {
      let lines = compiled.output.split(separator: "\n").prefix(12).map { "  " + Printable.line(String($0)) }
      result.problem = "\(shown(source)) does not compile (\(cc)):\n" + lines.joined(separator: "\n")
      return result
    }
    var request = ProgramObserver.Request(path: binary, arguments: [binary])
    request.timeout = exercise.timeout
    if let s = exercise.signal {
      request.signal = s.number
      request.signalAfter = s.after
    }
    let run = try ObserveCommand.observe(request, command: "verify")
    result.run = run
    if let error = run.startError {
      result.problem = "\(shown(binary)) did not start: \(error)"
      return result
    }
    var repeats: [ProgramRun.Result] = []
    for _ in 0..<exercise.repeats {
      repeats.append(try ProgramRun.run(binary, [binary], timeout: exercise.timeout))
    }
    let context = VerifyContext(run: run, repeats: repeats)
    result.lines = exercise.checks.map {
      VerifyResult.Line(title: $0.title, points: $0.points, verdict: $0.evaluate(context))
    }
    return result
  }

  /// A path as the learner sees it: relative to the current directory when inside it.
  static func shown(_ path: String) -> String {
    let cwd = LearnerFiles.currentDirectory() + "/"
    return path.hasPrefix(cwd) ? String(path.dropFirst(cwd.count)) : path
  }
}
