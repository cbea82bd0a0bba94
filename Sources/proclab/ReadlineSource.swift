@preconcurrency import CReadline
import Foundation
import Glibc
import ProcLabKit

/// The session Tab completion consults (readline's callbacks are plain C functions).
nonisolated(unsafe) private var completionSession: Session?
nonisolated(unsafe) private var completionCandidates: [String] = []
nonisolated(unsafe) private var completionIndex = 0

/// GNU readline at a terminal: editing, history (saved between runs), Ctrl-R,
/// Tab completion, and Ctrl-C that clears the line like bash.
final class ReadlineSource: LineSource {
  let historyPath: String?
  private var historyWarned = false

  init(session: Session) {
    completionSession = session
    historyPath = ReadlineSource.prepareHistoryFile()
    rl_readline_name = UnsafePointer(strdup("proclab"))
    // proclab handles SIGINT itself (a flag, no SA_RESTART); readline must not.
    rl_catch_signals = 0
    rl_signal_event_hook = { readlineSignalHook() }
    rl_attempted_completion_function = { text, start, end in readlineComplete(text, start, end) }
    using_history()
    stifle_history(1000)
    if let historyPath { read_history(historyPath) }
  }

  func readLine(prompt: String) -> String? {
    Interrupt.clear()
    guard let raw = readline(prompt) else {
      // Ctrl-D on an empty line: end the line the prompt is on.
      if Interrupt.terminationSignal == 0 { Output.out("\n") }
      return nil
    }
    defer { free(raw) }
    let line = String(cString: raw)
    if !line.trimmingCharacters(in: .whitespaces).isEmpty {
      let last = history_length > 0 ? history_get(history_base + history_length - 1) : nil
      if last == nil || String(cString: last!.pointee.line) != line { add_history(line) }
    }
    return line
  }

  func close() {
    guard let historyPath else { return }
    if write_history(historyPath) != 0 && !historyWarned {
      historyWarned = true
      Output.err("proclab: could not save history to \(historyPath); continuing without it\n")
    }
  }

  /// `$XDG_STATE_HOME/proclab/history`, or `~/.local/state/proclab/history`.
  static func prepareHistoryFile() -> String? {
    let dir = StateDirectory.path
    guard StateDirectory.ensure() else {
      Output.err("proclab: cannot create \(dir); history will not be saved\n")
      return nil
    }
    return dir + "/history"
  }
}

/// Called by readline when a read was interrupted by a signal: Ctrl-C clears
/// the line and shows a fresh prompt; SIGTERM/SIGHUP end the input.
private func readlineSignalHook() -> Int32 {
  if Interrupt.terminationSignal != 0 {
    rl_done = 1
    return 0
  }
  if Interrupt.isRequested {
    Interrupt.clear()
    Output.out("^C\n")
    rl_free_line_state()
    rl_replace_line("", 0)
    rl_on_new_line()
    rl_redisplay()
  }
  return 0
}

private func readlineComplete(
  _ text: UnsafePointer<CChar>?, _ start: Int32, _ end: Int32
) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? {
  guard let session = completionSession, let text else { return nil }
  let line = rl_line_buffer.map { String(cString: $0) } ?? ""
  let before = String(decoding: Array(line.utf8.prefix(Int(start))), as: UTF8.self)
  switch Completer.complete(before: before, word: String(cString: text), session: session) {
  case .files:
    return nil
  case .words(let words):
    rl_attempted_completion_over = 1
    completionCandidates = words
    completionIndex = 0
    return rl_completion_matches(text) { _, _ in
      guard completionIndex < completionCandidates.count else { return nil }
      defer { completionIndex += 1 }
      return strdup(completionCandidates[completionIndex])
    }
  }
}
