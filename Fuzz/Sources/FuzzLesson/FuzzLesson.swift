import FuzzSupport
import ProcLabKit

/// Parses arbitrary bytes as a lesson file (front matter, prose, hints, checks
/// and proclab snippets), the way `lesson` reads one from disk.
let fuzzLesson: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32 = { data, size in
  guard let data else { return 0 }
  let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
  guard let lesson = try? LessonParser.parse(text, file: "fuzz.md") else { return 0 }
  // What the engine does with a parsed step: show its command, fill in captures, match output.
  var captures = Captures()
  for step in lesson.steps {
    _ = step.displayCommand(captures)
    if let command = step.concreteCommand(captures) { _ = step.command.matches(command, captures: &captures) }
    _ = step.expected.match(step.expected.lines, captures: &captures)
  }
  return 0
}

@_cdecl("FuzzLesson_main")
func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
  FuzzDriver.run(argc: argc, argv: argv, fuzzLesson)
}
