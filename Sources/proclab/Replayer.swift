import Glibc
import ProcLabKit

/// Plays a transcript for a class: captions, commands typed at a human pace and
/// run live, and keys the instructor can press at any moment (see `ReplayFile`).
final class Replayer {
  let file: String
  let transcript: Transcript
  let session: Session
  let player: TranscriptPlayer
  let speed: Double
  let stepMode: Bool
  let pauseAfter: Bool
  let from: Int
  let check: Bool
  let color: Bool
  let cast: CastWriter?
  let keys = KeyWatcher(input: KeyboardInput(fd: 0))

  private var mismatches: [String] = []
  private var lastRun: Int?
  /// What is on the terminal's current line while a command is being typed (prompt and
  /// the characters so far): a pause restores it, a quit ends it first.
  private var lineInProgress = ""
  /// Ctrl-C presses before the replay started: any later one ends it.
  private let interruptsAtStart = Interrupt.count

  enum Stop: Error {
    /// `q`: the instructor is done (status 0).
    case quit
    /// Ctrl-C or SIGTERM: end everything (status 130, or 128 + the signal).
    case interrupted
  }

  init(
    file: String, transcript: Transcript, session: Session, speed: Double, stepMode: Bool, pauseAfter: Bool,
    from: Int, check: Bool, color: Bool, cast: CastWriter?
  ) {
    self.file = file
    self.transcript = transcript
    self.session = session
    self.player = TranscriptPlayer(session: session, transcript: transcript)
    self.speed = speed
    self.stepMode = stepMode
    self.pauseAfter = pauseAfter
    self.from = from
    self.check = check
    self.color = color
    self.cast = cast
  }

  /// Everything shown goes through here: the terminal and the cast see the same.
  func out(_ text: String) {
    Output.out(text)
    cast?.output(text)
  }

  var interrupted: Bool {
    Interrupt.count != interruptsAtStart || Interrupt.terminationSignal != 0
  }

  func run() -> Int32 {
    // A command clears the Ctrl-C flag as it starts; in a replay a Ctrl-C pressed just before a
    // command (the machine busy) must still stop it: the flag stays raised until the replay ends.
    Interrupt.setSticky(true)
    // Keys are read on a thread of their own (q must reach a running command): the shell's
    // baseline for its cleanup check is taken again with that thread in it.
    keys.start()
    session.takeBaseline()
    defer {
      keys.stop()
      Interrupt.setSticky(false)
      Interrupt.clear()
      keys.restore()
    }
    var status: Int32 = 0
    do {
      try setUp()
      if stepMode {
        let help =
          "keys: Enter or space runs the next command · b the previous one again · s skips it · q quits"
        for part in TextWrap.wrap(help, width: TerminalSize.columns(fd: 1), continuation: "      ") {
          out(Style.dim(part) + "\n")
        }
      } else if keys.isTerminal {
        out(Style.dim("keys: space pauses and resumes · q quits · Ctrl-C ends the replay") + "\n")
      }
      var index = from - 1
      while index < transcript.steps.count {
        try checkStop()
        caption(transcript.steps[index].narration)
        if stepMode {
          switch try waitForChoice(before: index) {
          case .run: break
          case .back:
            // The previous command runs again under its own caption; the next one's comes
            // back above its prompt.
            if let previous = lastRun {
              caption(transcript.steps[previous].narration)
              try play(previous)
            }
            continue
          case .skip:
            out(Style.dim("(skipped: \(Printable.line(transcript.steps[index].command.text)))") + "\n")
            index += 1
            continue
          }
        } else {
          try pollPause()
        }
        try play(index)
        if pauseAfter { try waitAfterOutput() }
        index += 1
      }
      caption(transcript.trailingNarration)
    } catch Stop.quit {
      endQuit()
    } catch  where keys.quitDuringCommand && Interrupt.terminationSignal == 0 {
      // q stopped the running command (as Ctrl-C would): the replay ends as a quit.
      endQuit()
    } catch {
      out("\n" + Style.dim("replay stopped; everything it started was cleaned up") + "\n")
      status = Interrupt.terminationSignal != 0 ? 128 + Interrupt.terminationSignal : 130
    }
    if check {
      if mismatches.isEmpty {
        out(Style.green("check: every command's output matched \(Printable.line(file))") + "\n")
      } else {
        out(
          Style.red(
            "check: \(Units.plural(mismatches.count, "command")) did not match \(Printable.line(file))")
            + "\n")
        for m in mismatches { out(m + "\n") }
        if status == 0 { status = 1 }
      }
    }
    return status
  }

  private func endQuit() {
    // On a line of its own, not after a half-typed command.
    if !lineInProgress.isEmpty { out("\n") }
    lineInProgress = ""
    out(Style.dim("replay ended (q); everything it started was cleaned up") + "\n")
  }

  /// `--from N`: the commands before N run first, unseen, so that N finds what it needs.
  private func setUp() throws {
    guard from > 1 else { return }
    out(Style.dim("running commands 1–\(from - 1) first without showing them, to set up the state…") + "\n")
    for index in 0..<(from - 1) {
      let result = player.run(step: index)
      try checkStop()
      if result.command != nil { lastRun = index }
    }
  }

  private func checkStop() throws {
    if interrupted { throw Stop.interrupted }
  }

  /// Narration as captions, set apart from the shell's output; control characters escaped
  /// (a file must not clear the screen or set the title), and a marker in the cast.
  func caption(_ lines: [String]) {
    guard !lines.isEmpty else { return }
    // One paragraph per caption, wrapped to the terminal (the file's own line breaks are
    // its author's terminal's, not this one's).
    let paragraph = "# " + lines.map(Printable.line).joined(separator: " ")
    let wrapped = TextWrap.wrap(paragraph, width: TerminalSize.columns(fd: 1), continuation: "# ")
    for part in wrapped { out(Style.cyan(part) + "\n") }
    cast?.marker(lines.map(Printable.line).joined(separator: " "))
  }

  /// Types and runs one step.
  private func play(_ index: Int) throws {
    let s = transcript.steps[index]
    guard let command = player.command(for: index) else {
      out(
        Style.red(
          "\(Printable.line(file)):\(s.line): '\(Printable.line(s.command.text))' needs a value no earlier output captured"
        ) + "\n")
      mismatches.append(
        "\(Printable.line(file)):\(s.line): '\(Printable.line(s.command.text))' could not be run: it needs an uncaptured value"
      )
      return
    }
    Style.enabled = color
    lineInProgress = Style.bold(session.prompt)
    out(lineInProgress)
    try type(Printable.line(command))
    out("\n")
    lineInProgress = ""
    // Matched as logical lines; shown wrapped to the terminal, as the shell would show them.
    let width = TerminalSize.columns(fd: 1)
    let result = keys.whileCommandRuns {
      player.run(step: index, echo: { self.out(Render.shown($0, width: width) + "\n") })
    }
    lastRun = index
    if check, let m = result.mismatch {
      mismatches.append(
        "\(Printable.line(file)):\(m.line):1: output of 'proclab> \(Printable.line(command))' (line \(s.line)) does not match\n"
          + m.report)
    }
    // Ctrl-C during the command (wait all, race) stops the command, and the replay with it.
    try checkStop()
  }

  /// Types a command a character at a time, about 12 a second at speed 1, a little uneven like a person.
  private func type(_ command: String) throws {
    guard speed > 0 else {
      out(command)
      lineInProgress += command
      try checkStop()
      return
    }
    var jitter: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(command.count)
    for ch in command {
      out(String(ch))
      lineInProgress.append(ch)
      jitter = jitter &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      let base = ch == " " ? 0.11 : 0.075
      try pause(seconds: (base + Double(jitter >> 58) / 64 * 0.05) / speed)
    }
    // A short pause before Enter, as a person would.
    try pause(seconds: min(0.3 / speed, 1))
  }

  /// Waits `seconds`, listening for keys: space pauses, q quits, Ctrl-C ends.
  private func pause(seconds: Double) throws {
    let end = MonotonicClock.nanoseconds() + UInt64(max(0, seconds) * 1e9)
    while true {
      try checkStop()
      let now = MonotonicClock.nanoseconds()
      if now >= end { return }
      guard let key = keys.key(timeout: .nanoseconds(Int64(end - now))) else { continue }
      try handlePlayingKey(key)
    }
  }

  /// Between commands (not in step mode): a key pressed meanwhile takes effect now.
  private func pollPause() throws {
    guard keys.isTerminal else { return }
    while let key = keys.key(timeout: .zero) { try handlePlayingKey(key) }
  }

  private func handlePlayingKey(_ key: KeyboardInput.Key) throws {
    switch key {
    case .character("q"), .character("Q"): throw Stop.quit
    case .character(" "): try pausedUntilSpace()
    default: break
    }
  }

  private func pausedUntilSpace() throws {
    let label = Style.dim("[paused — space resumes · q quits]")
    // Paused mid-typing: the label goes on a line of its own, and the half-typed command is
    // shown again when the replay resumes (clearing the label's line must not wipe it).
    if !lineInProgress.isEmpty && keys.isTerminal && Terminal.isTerminal(1) { out("\r\u{1B}[2K") }
    showPrompt(label)
    defer {
      clearPrompt()
      if keys.isTerminal && Terminal.isTerminal(1) { out(lineInProgress) }
    }
    while true {
      try checkStop()
      guard let key = keys.key(timeout: nil) else { continue }
      switch key {
      case .character(" "), .enter: return
      case .character("q"), .character("Q"), .end: throw Stop.quit
      default: continue
      }
    }
  }

  enum Choice { case run, back, skip }

  /// Step mode: one key decides. The prompt is erased afterwards, so prompts do not pile up.
  private func waitForChoice(before index: Int) throws -> Choice {
    showPrompt(
      Style.dim(
        // The command as it will run (`kill 31915 STOP`), not as the file writes it (`kill {{P4}} STOP`).
        "[\(index + 1)/\(transcript.steps.count) next: \(Printable.line(player.command(for: index) ?? transcript.steps[index].command.text))]"
      ))
    defer { clearPrompt() }
    while true {
      try checkStop()
      guard let key = keys.key(timeout: nil) else { continue }
      switch key {
      case .enter, .character(" "): return .run
      case .character("b"), .character("B"):
        if lastRun != nil { return .back }
      case .character("s"), .character("S"): return .skip
      case .character("q"), .character("Q"), .end: throw Stop.quit
      default: continue
      }
    }
  }

  private func waitAfterOutput() throws {
    showPrompt(Style.dim("[Enter or space goes on · q quits]"))
    defer { clearPrompt() }
    while true {
      try checkStop()
      guard let key = keys.key(timeout: nil) else { continue }
      switch key {
      case .enter, .character(" "): return
      case .character("q"), .character("Q"), .end: throw Stop.quit
      default: continue
      }
    }
  }

  /// A prompt line for a key: on a terminal it is erased once answered; elsewhere it stays as a line.
  private func showPrompt(_ text: String) {
    out(text + (keys.isTerminal && Terminal.isTerminal(1) ? "" : "\n"))
  }

  private func clearPrompt() {
    if keys.isTerminal && Terminal.isTerminal(1) { out("\r\u{1B}[2K") }
  }
}
