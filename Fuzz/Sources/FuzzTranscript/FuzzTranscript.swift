import FuzzSupport
import ProcLabKit

/// Parses arbitrary bytes as a transcript, then replays its matching without
/// running anything: each step's command pattern against a typed line and each
/// step's expected output against "actual" lines, threading captures from step
/// to step as a replay does. The actual output is the part of the input after
/// the first NUL byte (the transcript text itself when there is none).
let fuzzTranscript: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32 = { data, size in
  guard let data else { return 0 }
  let bytes = UnsafeBufferPointer(start: data, count: size)
  let cut = bytes.firstIndex(of: 0) ?? size
  let text = String(decoding: bytes[..<cut], as: UTF8.self)
  let actual = cut < size ? String(decoding: bytes[(cut + 1)...], as: UTF8.self) : text
  let lines = actual.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
  guard let transcript = try? Transcript.parse(text, file: "fuzz.txt") else { return 0 }
  var captures = Captures()
  for step in transcript.steps {
    _ = step.command.matches(lines.first ?? "", captures: &captures)
    if let command = step.command.instantiate(captures) { _ = captures.substitute(command) }
    // Each match within a budget of its own (the shell's is larger; a budget is the bound, and
    // running out of it is a reported answer, not a hang): hostile shapes must answer within it.
    for actual in [lines, Array(lines.dropFirst()), step.expected.lines] {
      if case .matched(let next, _) = step.expected.match(
        actual, captures: captures, budget: MatchBudget(steps: 20_000))
      {
        captures = next
      }
    }
  }
  return 0
}

@_cdecl("FuzzTranscript_main")
func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
  FuzzDriver.run(argc: argc, argv: argv, fuzzTranscript)
}
