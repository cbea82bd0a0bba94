import ProcLabKit

/// Where lines come from: readline at a terminal, or plain lines from a pipe, file or `-c`.
protocol LineSource: AnyObject {
  /// The next line, or nil at end of input (Ctrl-D, end of file).
  func readLine(prompt: String) -> String?
  /// Called once when the shell leaves (saves history).
  func close()
}

/// The read–run loop shared by every entry point.
enum ShellLoop {
  /// Runs lines until `quit`/`exit`, the end of input, or SIGTERM/SIGHUP, then ends
  /// what the session holds. Returns the exit status: 128 + the signal after SIGTERM
  /// or SIGHUP, or after Ctrl-C stopped a script (as a POSIX shell does); for a script,
  /// 1 if any command failed; 0 otherwise.
  static func run(session: Session, source: LineSource) -> Int32 {
    Interrupt.install()
    Interrupt.installTermination()
    Interrupt.ignoreBrokenPipe()
    session.write = { text in
      Output.out(text + "\n")
    }
    session.takeBaseline()
    var scriptStoppedBy: Int32 = 0
    while !session.wantsToQuit {
      if Interrupt.terminationSignal != 0 { break }
      guard let line = source.readLine(prompt: session.prompt) else { break }
      if Interrupt.terminationSignal != 0 { break }
      let outcomes = session.execute(line: line)
      // Ctrl-C at a terminal gives the prompt back; in a script it ends the script.
      if !session.isInteractive, let stop = outcomes.last?.stopSignal {
        scriptStoppedBy = stop
        break
      }
    }
    source.close()
    let signal = Interrupt.terminationSignal != 0 ? Interrupt.terminationSignal : scriptStoppedBy
    if session.isInteractive && !session.settings.json {
      // A person at a terminal is told what leaving stopped; a script's output (or JSON) stays its commands'.
      Output.out(session.leave(signal: signal).joined(separator: "\n") + "\n")
    } else {
      session.cleanUp()
    }
    if signal != 0 { return 128 + signal }
    if session.isInteractive { return 0 }
    return session.anyFailed ? 1 : 0
  }
}

/// Lines from a `-c` string.
final class StringLines: LineSource {
  private var lines: [String]
  init(_ text: String) {
    lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
  }
  func readLine(prompt: String) -> String? { lines.isEmpty ? nil : lines.removeFirst() }
  func close() {}
}

/// Plain lines from a descriptor (a pipe or a file): no prompt, no escapes.
/// Reads with read(2) directly, so that Ctrl-C (EINTR) is seen while waiting for input.
final class FileLines: LineSource {
  private let fd: Int32
  private var buffer: [UInt8] = []
  private var atEnd = false
  init(fd: Int32) { self.fd = fd }

  func readLine(prompt: String) -> String? {
    while true {
      if let nl = buffer.firstIndex(of: 10) {
        let line = String(decoding: buffer[..<nl], as: UTF8.self)
        buffer.removeSubrange(...nl)
        return line
      }
      if atEnd {
        if buffer.isEmpty { return nil }
        defer { buffer = [] }
        return String(decoding: buffer, as: UTF8.self)
      }
      guard let chunk = Descriptors.readSome(fd, max: 4096) else {
        atEnd = true
        continue
      }
      if chunk.isEmpty {
        // A signal woke the read: SIGTERM/SIGHUP end the input; a Ctrl-C is ignored here.
        if Interrupt.terminationSignal != 0 { return nil }
        Interrupt.clear()
        continue
      }
      buffer.append(contentsOf: chunk)
      // A runaway line (no newline for 1 MiB) is cut rather than held forever.
      if buffer.count > 1 << 20 && !buffer.contains(10) { buffer.append(10) }
    }
  }
  func close() {}
}
