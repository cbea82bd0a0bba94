import ArgumentParser
import Glibc
import ProcLabKit

/// `proclab check PATH...`: runs transcripts (and lessons) and says which still match.
struct CheckFiles: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "check",
    abstract: "Check transcripts (.txt) and lessons (.md): run each in a fresh shell and compare the output.",
    discussion:
      "Each file is checked in a checker process of its own, with a time limit, so a file that crashes or hangs its checker is reported as such and the other files are still checked. Exit status: 0 all passed, 1 some output did not match, 2 a file could not be read, parsed or checked."
  )

  enum Format: String, ExpressibleByArgument, CaseIterable { case text, junit, json }

  @Argument(help: "Files, or folders searched for *.txt and *.md (README.md and drafts/ left out).")
  var paths: [String]

  @Flag(
    help:
      "Rewrite expected output from this run, keeping every line, '...', unordered block and constraint that still holds; prints a unified diff."
  )
  var update = false

  @Flag(name: .customLong("dry-run"), help: "With --update: print the diff, change no file.")
  var dryRun = false

  @Option(
    help:
      "text (default), junit (JUnit XML: a test suite per file, a test case per command) or json (one document)."
  )
  var format: Format = .text

  @Option(help: "Check this many files at once.")
  var jobs: Int = 1

  @Option(help: "Stop checking a file after this many seconds (0: no limit).")
  var timeout: Double = CheckFiles.defaultTimeout

  /// Set by the parent: check the files here and print one JSON document.
  @Flag(name: .customLong("checker-child"), help: .hidden)
  var checkerChild = false

  @OptionGroup var options: GlobalOptions

  static let defaultTimeout = 300.0

  func validate() throws {
    guard (1...64).contains(jobs) else { throw ValidationError("--jobs must be 1…64, got \(jobs)") }
    guard timeout >= 0 && timeout <= 86_400 && timeout.isFinite else {
      throw ValidationError("--timeout must be 0…86400 seconds (0: no limit), got \(timeout)")
    }
    if dryRun && !update {
      throw ValidationError("--dry-run goes with --update (check --update --dry-run FILE)")
    }
  }

  var checkOptions: CheckOptions {
    CheckOptions(allowExec: options.allowExec, update: update, dryRun: dryRun)
  }

  func run() throws {
    Interrupt.install()
    Interrupt.installTermination()
    Interrupt.ignoreBrokenPipe()
    if checkerChild {
      let results = paths.map { FileCheckers.check(file: $0, options: checkOptions) }
      Output.out(CheckReport.document(results) + "\n")
      throw ExitCode(CheckReport.exitStatus(results))
    }
    let format = options.json ? .json : self.format
    let env = Environment.current()
    Style.enabled = format == .text && !options.noColor && env["NO_COLOR"] == nil && Terminal.isTerminal(1)
    let (files, missing) = FileCheckers.files(in: paths)
    var results = missing.map {
      FileCheckResult(
        file: $0, status: .unreadable, report: "\($0): no such file or folder", steps: 0, seconds: 0)
    }
    if files.isEmpty && missing.isEmpty {
      Output.err("check: no transcripts (.txt) or lessons (.md) in \(paths.joined(separator: " "))\n")
      throw ExitCode(2)
    }
    let emit: (FileCheckResult) -> Void = { r in
      if format == .text { Output.out(CheckReport.text(r) + "\n") }
    }
    results.forEach(emit)
    var runner = CheckerChildren(
      files: files, jobs: jobs, timeout: timeout,
      arguments: ["check", "--checker-child"] + (options.allowExec ? ["--allow-exec"] : [])
        + (update ? ["--update"] : []) + (dryRun ? ["--dry-run"] : []))
    results += runner.run(emit: emit)
    switch format {
    case .text: Output.out(CheckReport.summary(results) + "\n")
    case .junit: Output.out(CheckReport.junit(results))
    case .json: Output.out(CheckReport.document(results) + "\n")
    }
    if Interrupt.terminationSignal != 0 { throw ExitCode(128 + Interrupt.terminationSignal) }
    if Interrupt.isRequested { throw ExitCode(130) }
    throw ExitCode(CheckReport.exitStatus(results))
  }
}

/// Checks each file in a `proclab check --checker-child FILE` process: experiments use
/// process-wide state (signal handlers, the trace, children), and a file that crashes or
/// hangs its checker must not take the others (or the report) with it. At most `jobs`
/// at once; each is stopped (SIGTERM, then SIGKILL) after `timeout` seconds.
struct CheckerChildren {
  let files: [String]
  let jobs: Int
  let timeout: Double
  let arguments: [String]

  /// How long a stopped checker has to clean up before SIGKILL.
  static let grace: UInt64 = 3_000_000_000

  private struct Running {
    var index: Int
    var pid: Int32
    var fd: Int32
    var started: UInt64
    var output: [UInt8] = []
    var stoppedAt: UInt64?
    var timedOut = false
  }

  mutating func run(emit: (FileCheckResult) -> Void) -> [FileCheckResult] {
    var results = [FileCheckResult?](repeating: nil, count: files.count)
    var next = 0
    var running: [Running] = []
    var stopping = false
    while next < files.count || !running.isEmpty {
      if Interrupt.isRequested || Interrupt.terminationSignal != 0 { stopping = true }
      while !stopping && running.count < jobs && next < files.count {
        switch start(next) {
        case .success(let r): running.append(r)
        case .failure(let box):
          results[next] = box.result
          emit(box.result)
        }
        next += 1
      }
      if stopping && running.isEmpty { break }
      let ready = Descriptors.readable(running.map(\.fd), timeout: .milliseconds(50))
      for k in running.indices where ready.contains(running[k].fd) {
        if let bytes = Descriptors.readSome(running[k].fd) { running[k].output += bytes }
      }
      let now = MonotonicClock.nanoseconds()
      var k = 0
      while k < running.count {
        var r = running[k]
        // A file that runs too long, or Ctrl-C / SIGTERM to check: ask the checker to stop, then make it.
        let overdue = timeout > 0 && Double(now - r.started) / 1e9 > timeout
        if r.stoppedAt == nil && (overdue || stopping) {
          r.timedOut = overdue
          r.stoppedAt = now
          // The terminal already sent SIGINT to the whole group on Ctrl-C.
          if overdue || Interrupt.terminationSignal != 0 { SignalSender.sendQuietly(SIGTERM, to: r.pid) }
        } else if let at = r.stoppedAt, now - at > CheckerChildren.grace {
          SignalSender.sendQuietly(SIGKILL, to: r.pid)
        }
        running[k] = r
        guard let reaped = try? Wait.wait4(r.pid, noHang: true) else {
          k += 1
          continue
        }
        // Drain what is left (a lab grandchild may still hold the pipe: do not wait for its end).
        while Descriptors.readable([r.fd], timeout: .zero).contains(r.fd),
          let bytes = Descriptors.readSome(r.fd), !bytes.isEmpty
        {
          r.output += bytes
        }
        Descriptors.close(r.fd)
        let result = verdict(r, status: reaped.status, seconds: Double(now - r.started) / 1e9)
        results[r.index] = result
        emit(result)
        running.remove(at: k)
      }
    }
    return results.compactMap { $0 }
  }

  private func start(_ index: Int) -> Result<Running, FileCheckResultBox> {
    let file = files[index]
    do {
      let pipe = try Descriptors.pipe()
      var spawnOptions = Spawn.Options()
      // In the terminal's process group: Ctrl-C reaches the checker, which stops its command and cleans up.
      spawnOptions.processGroup = .join(ThisProcess.group)
      spawnOptions.descriptors = [(1, pipe.write)]
      let pid = try Spawn.spawn(
        path: Lab.executable, arguments: ["proclab"] + arguments + [file], options: spawnOptions)
      Descriptors.close(pipe.write)
      return .success(Running(index: index, pid: pid, fd: pipe.read, started: MonotonicClock.nanoseconds()))
    } catch {
      return .failure(
        FileCheckResultBox(
          FileCheckResult(
            file: file, status: .unreadable, report: "\(file): could not start a checker: \(error)", steps: 0,
            seconds: 0)))
    }
  }

  /// The checker's verdict, or what became of the checker when it gave none.
  private func verdict(_ r: Running, status: TerminationStatus, seconds: Double) -> FileCheckResult {
    let file = files[r.index]
    let text = String(decoding: r.output, as: UTF8.self)
    // The document is the last line that parses (a lab child could have written to the same pipe).
    let document = text.split(separator: "\n").reversed().lazy.compactMap {
      $0.hasPrefix("{\"summary\"") ? CheckReport.parseDocument(String($0)) : nil
    }.first
    if var result = document?.first(where: { $0.file == file }) ?? document?.first {
      if r.timedOut {
        let note = "\(file): stopped after \(Units.plain(timeout)) s (--timeout)"
        result.status = .failed
        result.report += "\n" + note
        result.commands.append(
          CommandResult(line: 0, command: "(the whole file, within --timeout)", status: .failed, report: note)
        )
      }
      return result
    }
    let how: String
    if r.timedOut {
      how =
        "did not finish within \(Units.plain(timeout)) s (--timeout); the checker was stopped and \(status)"
    } else if case .signaled(let sig, _) = status {
      how = "its checker was \(status) (signal \(sig)) before it gave a verdict"
    } else {
      how = "its checker \(status) without a verdict"
    }
    return FileCheckResult(
      file: file, status: .unreadable, report: "\(file): \(how)", steps: 0, seconds: seconds)
  }
}

/// A result as an error, so `start` can hand back either.
struct FileCheckResultBox: Error {
  let result: FileCheckResult
  init(_ r: FileCheckResult) { result = r }
}
