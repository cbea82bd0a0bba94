import ArgumentParser
import ProcLabKit

extension ProcLab {
  /// `main()` as argument-parser runs it, except that a help or usage message has its USAGE
  /// line wrapped to the terminal (argument-parser wraps the option descriptions but prints the
  /// usage as one line: 108 columns for `proclab --help`, 160 for `proclab check --help`).
  /// Everything else it prints (errors, completion scripts) passes through untouched.
  static func mainWrappingUsage() -> Never {
    do {
      var command = try parseAsRoot()
      try command.run()
      ThisProcess.exit(0)
    } catch {
      let code = exitCode(for: error)
      let message = fullMessage(for: error)
      if !message.isEmpty {
        // The shell's own rule (Layout): the terminal's width, else COLUMNS, else no wrapping.
        Layout.followTerminal()
        let text = wrappingUsage(message, width: Layout.width) + "\n"
        if code == .success { Output.out(text) } else { Output.err(text) }
      }
      ThisProcess.exit(code.rawValue)
    }
  }

  /// Lines starting with `USAGE:` or `Usage:` wrapped at word boundaries (a bracketed option
  /// stays whole), continued under the command's first argument.
  static func wrappingUsage(_ message: String, width: Int?) -> String {
    message.split(separator: "\n", omittingEmptySubsequences: false).flatMap { line -> [String] in
      guard line.hasPrefix("USAGE: ") || line.hasPrefix("Usage: ") else { return [String(line)] }
      return TextWrap.wrap(String(line), width: width, continuation: "         ")
    }.joined(separator: "\n")
  }
}
