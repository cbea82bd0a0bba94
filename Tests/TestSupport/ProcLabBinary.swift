import Foundation
import Glibc
import ProcLabKit

/// Runs the built `proclab` binary the way a script or autograder would, and
/// hands back what it printed. Every run is strict: the shell checks its
/// cleanup invariant after every command and fails the run if it is broken.
public enum ProcLabBinary {
  public struct Run {
    public var status: Int32
    public var stdout: String
    public var stderr: String
    public var lines: [String] {
      stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }
    /// With `--json`: one outcome object per command.
    public var outcomes: [JSON] { stdout.split(separator: "\n").compactMap { JSON.parse(String($0)) } }
    public var succeeded: Bool { status == 0 }
  }

  /// The path of the built binary (next to the test bundle).
  public static var path: String { Lab.executable }

  /// Runs `proclab ARGS...` with `input` on standard input; strict unless told otherwise.
  public static func run(
    _ arguments: [String], input: String = "", strict: Bool = true, environment: [String: String] = [:],
    timeout: Double = 120
  ) -> Run {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    env["NO_COLOR"] = "1"
    env["XDG_STATE_HOME"] = env["PROCLAB_TEST_STATE"] ?? NSTemporaryDirectory() + "proclab-test-state"
    if strict { env["PROCLAB_STRICT"] = "1" }
    // Under a pipe COLUMNS would decide the width: tests read the unwrapped text.
    env.removeValue(forKey: "COLUMNS")
    for (k, v) in environment { env[k] = v }
    process.environment = env
    let inPipe = Pipe()
    let outPipe = Pipe()
    let errPipe = Pipe()
    process.standardInput = inPipe
    process.standardOutput = outPipe
    process.standardError = errPipe
    do { try process.run() } catch {
      return Run(status: -1, stdout: "", stderr: "could not start \(path): \(error)")
    }
    inPipe.fileHandleForWriting.write(input.data(using: .utf8)!)
    try? inPipe.fileHandleForWriting.close()
    // Read both pipes on other threads so a chatty child cannot block on a full pipe.
    // why: each is written by one reader thread and read only after group.wait() has seen it leave.
    nonisolated(unsafe) var out = Data()
    nonisolated(unsafe) var err = Data()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async {
      out = outPipe.fileHandleForReading.readDataToEndOfFile()
      group.leave()
    }
    group.enter()
    DispatchQueue.global().async {
      err = errPipe.fileHandleForReading.readDataToEndOfFile()
      group.leave()
    }
    if group.wait(timeout: .now() + timeout) == .timedOut {
      process.terminate()
      kill(process.processIdentifier, SIGKILL)
      group.wait()
    }
    process.waitUntilExit()
    return Run(
      status: process.terminationStatus, stdout: String(decoding: out, as: UTF8.self),
      stderr: String(decoding: err, as: UTF8.self))
  }

  /// `proclab -c 'COMMANDS' --json`: the outcomes, one per command.
  public static func json(_ commands: String, strict: Bool = true) -> Run {
    run(["-c", commands, "--json"], strict: strict)
  }

  /// `proclab -c 'COMMANDS'`: the terminal text.
  public static func text(_ commands: String, strict: Bool = true) -> Run {
    run(["-c", commands], strict: strict)
  }
}

extension Command {
  /// One spelling of one option, as the hostile-input tests type it.
  public struct NamedOption {
    public let name: String
    public let value: String?
    public let isFlag: Bool
    public let takesRest: Bool
  }

  /// Every spelling of every option that has a name (positionals left out).
  public var namedOptions: [NamedOption] {
    options.flatMap { o in
      o.names.map {
        NamedOption(name: $0, value: o.placeholder, isFlag: o.shape == .flag, takesRest: o.shape == .rest)
      }
    }
  }
}
