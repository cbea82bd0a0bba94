import ArgumentParser
import Foundation
import Glibc
import ProcLabKit

/// `proclab check PATH...`: runs transcripts (and lessons) and says which still match.
struct CheckFiles: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "check",
    abstract: "Check transcripts (.txt) and lessons (.md): run each in a fresh shell and compare the output.",
    discussion:
      "Exit status: 0 all passed, 1 some output did not match, 2 a file could not be read or parsed.")

  enum Format: String, ExpressibleByArgument, CaseIterable { case text, junit, json }

  @Argument(help: "Files, or folders searched for *.txt and *.md.")
  var paths: [String]

  @Flag(help: "Rewrite expected output from this run, keeping placeholders where they still match.")
  var update = false

  @Option(help: "text (default), junit (JUnit XML for CI) or json (one object per file).")
  var format: Format = .text

  @Option(help: "Check this many files at once, each in its own process.")
  var jobs: Int = 1

  @OptionGroup var options: GlobalOptions

  func validate() throws {
    guard (1...64).contains(jobs) else { throw ValidationError("--jobs must be 1…64, got \(jobs)") }
  }

  func run() throws {
    Interrupt.install()
    signal(SIGPIPE, SIG_IGN)
    let format = options.json ? .json : self.format
    let env = ProcessInfo.processInfo.environment
    Style.enabled = format == .text && !options.noColor && env["NO_COLOR"] == nil && isatty(1) != 0
    let (files, missing) = FileCheckers.files(in: paths)
    var results = missing.map {
      FileCheckResult(
        file: $0, status: .unreadable, report: "\($0): no such file or folder", steps: 0, seconds: 0)
    }
    if files.isEmpty && missing.isEmpty {
      Output.err("check: no transcripts (.txt) or lessons (.md) in \(paths.joined(separator: " "))\n")
      throw ExitCode(2)
    }
    let checkOptions = CheckOptions(allowExec: options.allowExec, update: update)
    let emit: @Sendable (FileCheckResult) -> Void = { r in
      switch format {
      case .text: Output.out(CheckReport.text(r) + "\n")
      case .json: Output.out(CheckReport.json(r) + "\n")
      case .junit: break
      }
    }
    results.forEach(emit)
    if jobs > 1 && files.count > 1 {
      results += CheckFiles.parallel(files, jobs: jobs, options: checkOptions, emit: emit)
    } else {
      for file in files {
        if Interrupt.isRequested { break }
        let r = FileCheckers.check(file: file, options: checkOptions)
        emit(r)
        results.append(r)
      }
    }
    switch format {
    case .text: Output.out(CheckReport.summary(results) + "\n")
    case .junit: Output.out(CheckReport.junit(results))
    case .json: break
    }
    if Interrupt.isRequested { throw ExitCode(130) }
    throw ExitCode(CheckReport.exitStatus(results))
  }

  /// Each file in its own `proclab check --format json FILE` child: experiments use
  /// process-wide state (signal handlers, the trace, children), so processes keep files apart.
  static func parallel(
    _ files: [String], jobs: Int, options: CheckOptions, emit: @escaping @Sendable (FileCheckResult) -> Void
  ) -> [FileCheckResult] {
    let lock = NSLock()
    nonisolated(unsafe) var results = [FileCheckResult?](repeating: nil, count: files.count)
    nonisolated(unsafe) var running: [Process] = []
    let slots = DispatchSemaphore(value: jobs)
    let group = DispatchGroup()
    for (index, file) in files.enumerated() {
      slots.wait()
      if Interrupt.isRequested {
        slots.signal()
        break
      }
      group.enter()
      let process = Process()
      process.executableURL = URL(fileURLWithPath: Lab.executable)
      process.arguments =
        ["check", "--format", "json", file] + (options.allowExec ? ["--allow-exec"] : [])
        + (options.update ? ["--update"] : [])
      let out = Pipe()
      process.standardOutput = out
      process.standardError = FileHandle.standardError
      lock.lock()
      running.append(process)
      lock.unlock()
      DispatchQueue.global().async {
        var result: FileCheckResult
        do {
          try process.run()
          let data = out.fileHandleForReading.readDataToEndOfFile()
          process.waitUntilExit()
          let text = String(decoding: data, as: UTF8.self)
          result =
            text.split(separator: "\n").compactMap { CheckReport.parse(String($0)) }.last
            ?? FileCheckResult(
              file: file, status: .unreadable,
              report:
                "\(file): the checker child ended with status \(process.terminationStatus) and no verdict",
              steps: 0, seconds: 0)
        } catch {
          result = FileCheckResult(
            file: file, status: .unreadable, report: "\(file): could not start a checker: \(error)", steps: 0,
            seconds: 0)
        }
        lock.lock()
        results[index] = result
        emit(result)
        lock.unlock()
        slots.signal()
        group.leave()
      }
    }
    // Ctrl-C: the children get SIGINT from the terminal too; wait for them all.
    group.wait()
    return results.compactMap { $0 }
  }
}
