import CLab
@preconcurrency import CReadline
import Glibc
import ProcLabKit
import Synchronization

/// The session Tab completion consults.
// why: readline's callbacks are C function pointers with no context argument, so the session
// they consult is a global; Session is not Sendable, and only the main thread runs readline.
nonisolated(unsafe) private var completionSession: Session?
/// The words one Tab offers, handed to readline one at a time by the generator below.
private let completionCandidates = Mutex<(words: [String], next: Int)>(([], 0))
/// The line readline's handler received (nil after Ctrl-D on an empty line), once it has.
private let finishedLine = Mutex<(done: Bool, line: String?)>((false, nil))

/// GNU readline at a terminal: editing, history (saved between runs), Ctrl-R,
/// Tab completion, and Ctrl-C that clears the line like bash.
final class ReadlineSource: LineSource {
  let historyPath: String?
  private var historyWarned = false
  /// The lines typed in this session, appended to the history file when the shell leaves
  /// (not the whole list written over it: another shell's lines stay).
  private var typedLines: [String] = []
  static let historyLimit = 1000

  init(session: Session) {
    completionSession = session
    historyPath = ReadlineSource.prepareHistoryFile()
    // readline keeps this pointer for the life of the process (it picks `$if proclab` in inputrc):
    // one copy, never freed.
    rl_readline_name = UnsafePointer(strdup("proclab"))
    // proclab handles SIGINT itself (a flag, no SA_RESTART); readline must not.
    rl_catch_signals = 0
    rl_attempted_completion_function = { text, start, end in readlineComplete(text, start, end) }
    using_history()
    stifle_history(Int32(ReadlineSource.historyLimit))
    // The state directory's policy (StateDirectory.swift): only a regular file is read or
    // written; a symbolic link in its place is left alone, as progress.json's would be.
    if let historyPath { read_history(historyPath) }
  }

  /// Reads one line with readline's callback interface: the shell waits in
  /// ppoll with SIGINT deliverable only there, so a Ctrl-C is never lost.
  func readLine(prompt: String) -> String? {
    Interrupt.clear()
    finishedLine.withLock { $0 = (false, nil) }
    let signals = PromptSignals.block()
    defer { signals.unblock() }
    rl_callback_handler_install(prompt) { raw in readlineLineHandler(raw) }
    while !finishedLine.withLock({ $0.done }) {
      if Interrupt.terminationSignal != 0 {
        rl_callback_handler_remove()
        Output.out("\n")
        return nil
      }
      if Interrupt.isRequested {
        // Ctrl-C at the prompt: drop the line (and any search or half-typed key
        // sequence), like bash, and start a fresh prompt.
        Interrupt.clear()
        rl_point = rl_end
        rl_redisplay()
        Output.out("^C\n")
        rl_callback_sigcleanup()
        rl_callback_handler_remove()
        rl_callback_handler_install(prompt) { raw in readlineLineHandler(raw) }
        continue
      }
      switch signals.waitForInput(0) {
      case true?: rl_callback_read_char()
      case false?: continue
      case nil:
        rl_callback_handler_remove()
        return nil
      }
    }
    guard let line = finishedLine.withLock({ $0.line }) else {
      // Ctrl-D on an empty line: end the line the prompt is on.
      Output.out("\n")
      return nil
    }
    if line.contains(where: { $0 != " " && $0 != "\t" }) {
      let last = history_length > 0 ? history_get(history_base + history_length - 1) : nil
      if last == nil || String(cString: last!.pointee.line) != line {
        add_history(line)
        typedLines.append(line)
      }
    }
    return line
  }

  /// Appends this session's lines under the file's lock (two shells keep each other's).
  func close() {
    guard let historyPath, !typedLines.isEmpty else { return }
    do {
      try StateFile.appendLines(typedLines, to: historyPath, keepLast: ReadlineSource.historyLimit)
      typedLines = []
    } catch {
      if !historyWarned {
        historyWarned = true
        Output.err("proclab: could not save history: \(error)\n")
      }
    }
  }

  /// `$XDG_STATE_HOME/proclab/history`, or `~/.local/state/proclab/history`; nil (said once)
  /// when the directory cannot be written or something other than a regular file is there.
  static func prepareHistoryFile() -> String? {
    let dir = StateDirectory.path
    guard StateDirectory.ensure() else {
      Output.err("proclab: cannot create or write to \(dir); history will not be saved\n")
      return nil
    }
    let path = dir + "/history"
    StateFile.sweepTemporaryFiles(of: path)
    if StateFile.isOccupiedByNonRegularFile(path) {
      Output.err("proclab: \(StateFileProblem.notRegularFile(path))\n")
      return nil
    }
    return path
  }
}

/// Called by readline when a line is complete (nil on Ctrl-D at an empty line).
private func readlineLineHandler(_ raw: UnsafeMutablePointer<CChar>?) {
  let line = raw.map { String(cString: $0) }
  // readline hands over a malloc'd copy: the callback owns it.
  free(raw)
  finishedLine.withLock { $0 = (true, line) }
  // Removing the handler here keeps readline from printing the next prompt
  // before the command's output.
  rl_callback_handler_remove()
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
    completionCandidates.withLock { $0 = (words, 0) }
    return rl_completion_matches(text) { _, _ in
      completionCandidates.withLock { state in
        guard state.next < state.words.count else { return nil }
        defer { state.next += 1 }
        // readline frees each match it is given.
        return strdup(state.words[state.next])
      }
    }
  }
}
