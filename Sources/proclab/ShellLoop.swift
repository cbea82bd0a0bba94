import Glibc
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
  static func run(session: Session, source: LineSource) -> Int32 {
    Interrupt.install()
    Interrupt.installTermination()
    // A write to a closed pipe must fail with EPIPE, not kill the shell.
    signal(SIGPIPE, SIG_IGN)
    session.write = { text in
      Output.out(text + "\n")
    }
    // FIFO directories, shm objects and message queues of shells killed before they could clean up.
    Leftovers.sweep()
    session.takeBaseline()
    while !session.wantsToQuit {
      if Interrupt.terminationSignal != 0 { break }
      guard let line = source.readLine(prompt: session.prompt) else { break }
      if Interrupt.terminationSignal != 0 { break }
      session.execute(line: line)
    }
    source.close()
    session.cleanUp()
    if Interrupt.terminationSignal != 0 { return 128 + Interrupt.terminationSignal }
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
/// Uses read(2) directly so that Ctrl-C (EINTR) ends the input cleanly.
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
      var chunk = [UInt8](repeating: 0, count: 4096)
      let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, 4096) }
      if n < 0 && errno == EINTR {
        if Interrupt.terminationSignal != 0 { return nil }
        Interrupt.clear()
        continue
      }
      if n <= 0 {
        atEnd = true
        continue
      }
      buffer.append(contentsOf: chunk[0..<n])
      // A runaway line (no newline for 1 MiB) is cut rather than held forever.
      if buffer.count > 1 << 20 && !buffer.contains(10) { buffer.append(10) }
    }
  }
  func close() {}
}
