import ArgumentParser
import Foundation
import Glibc
import ProcLabKit

/// `proclab replay FILE`: re-runs a transcript live, typing each command at a
/// human pace, with the narration as captions; for demonstrations in class.
struct ReplayFile: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "replay",
    abstract: "Replay a transcript live: commands typed at a human pace, narration as captions.")

  @Argument(help: "The transcript to replay.")
  var file: String

  @Option(help: "Typing speed: 1 is a person typing, 2 twice as fast, 0 instantly.")
  var speed: Double = 1

  @Flag(help: "Wait for Enter before each command (q then Enter stops).")
  var step = false

  @Flag(help: "Compare each command's output with the transcript and report mismatches at the end.")
  var check = false

  @OptionGroup var options: GlobalOptions

  func validate() throws {
    guard speed >= 0 && speed <= 100 && speed.isFinite else {
      throw ValidationError("--speed must be 0…100 (0 types instantly), got \(speed)")
    }
  }

  func run() throws {
    guard let data = FileManager.default.contents(atPath: file),
      let text = String(data: data, encoding: .utf8)
    else {
      Output.err("proclab: cannot read \(file)\n")
      throw ExitCode(2)
    }
    let transcript: Transcript
    do { transcript = try Transcript.parse(text, file: file) } catch {
      Output.err("\(error)\n")
      throw ExitCode(2)
    }
    Interrupt.install()
    signal(SIGPIPE, SIG_IGN)
    let env = ProcessInfo.processInfo.environment
    let color = !options.noColor && env["NO_COLOR"] == nil && isatty(1) != 0 && env["TERM"] != "dumb"
    let session = Session.forFile(allowExec: options.allowExec, color: color)
    session.settings.trace = options.trace
    if options.strict { session.strict = true }
    session.write = { Output.out($0 + "\n") }
    defer { session.cleanUp() }
    let player = TranscriptPlayer(session: session, transcript: transcript)
    var mismatches: [String] = []
    var stopped = false

    steps: for index in transcript.steps.indices {
      let s = transcript.steps[index]
      caption(s.narration)
      if step {
        Output.out(Style.dim("[Enter runs the next command · q stops]") + "\n")
        guard let answer = waitForEnter(), answer.trimmingCharacters(in: .whitespaces).lowercased() != "q"
        else {
          stopped = true
          break steps
        }
      }
      guard let command = player.command(for: index) else {
        Output.out(
          Style.red("\(file):\(s.line): '\(s.command.text)' needs a value no earlier output captured") + "\n")
        mismatches.append(
          "\(file):\(s.line): '\(s.command.text)' could not be run: it needs an uncaptured value")
        continue
      }
      Style.enabled = color
      Output.out(Style.bold(session.prompt))
      if !type(command) {
        Output.out("^C\n")
        stopped = true
        break
      }
      Output.out("\n")
      let result = player.run(step: index, echo: { Output.out($0 + "\n") })
      if check, let m = result.mismatch {
        mismatches.append(
          "\(file):\(m.line):1: output of 'proclab> \(command)' (line \(s.line)) does not match\n" + m.report)
      }
      if result.outcomes.contains(where: { $0.error?.contains("interrupted (Ctrl-C)") == true })
        || Interrupt.isRequested
      {
        stopped = true
        break
      }
    }
    if !stopped { caption(transcript.trailingNarration) }
    if stopped { Output.out(Style.dim("replay stopped; everything it started was cleaned up") + "\n") }
    if check {
      if mismatches.isEmpty {
        Output.out(Style.green("check: every command's output matched \(file)") + "\n")
      } else {
        Output.out(
          Style.red("check: \(Units.plural(mismatches.count, "command")) did not match \(file)") + "\n")
        for m in mismatches { Output.out(m + "\n") }
      }
    }
    if stopped { throw ExitCode(130) }
    throw ExitCode(check && !mismatches.isEmpty ? 1 : 0)
  }

  /// Narration as captions: set apart from the shell's output.
  func caption(_ lines: [String]) {
    guard !lines.isEmpty else { return }
    for line in lines { Output.out(Style.cyan("# " + line) + "\n") }
  }

  /// Types a command a character at a time; false if Ctrl-C stopped it.
  func type(_ command: String) -> Bool {
    guard speed > 0 else {
      Output.out(command)
      return !Interrupt.isRequested
    }
    // About 12 characters a second at speed 1, a little uneven like a person.
    var jitter: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(command.count)
    for ch in command {
      if Interrupt.isRequested { return false }
      Output.out(String(ch))
      jitter = jitter &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      let base = ch == " " ? 0.11 : 0.075
      let delay = (base + Double(jitter >> 58) / 64 * 0.05) / speed
      var remaining = delay
      while remaining > 0 {
        if Interrupt.isRequested { return false }
        let slice = min(remaining, 0.02)
        usleep(UInt32(slice * 1e6))
        remaining -= slice
      }
    }
    // A short pause before Enter, as a person would.
    usleep(UInt32(min(0.3 / speed, 1) * 1e6))
    return !Interrupt.isRequested
  }

  /// Reads a line from standard input; nil on end of input or Ctrl-C.
  func waitForEnter() -> String? {
    var bytes: [UInt8] = []
    var byte: UInt8 = 0
    while true {
      let n = read(0, &byte, 1)
      if n < 0 && errno == EINTR {
        if Interrupt.isRequested { return nil }
        continue
      }
      if n <= 0 { return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self) }
      if byte == 10 { return String(decoding: bytes, as: UTF8.self) }
      bytes.append(byte)
    }
  }
}
