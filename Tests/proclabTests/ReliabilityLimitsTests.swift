import Foundation
import Glibc
import ProcLabKit
import TestSupport
import XCTest

/// Caps and safety: every count, size and duration has a limit with a clear
/// message; a session cannot pile up children; lab children run under resource
/// limits and die with the shell; `kill`/`wait` touch only the shell's own
/// children; a file cannot run external programs unless the person allows it.
final class ReliabilityLimitsTests: XCTestCase {
  /// The words that reach an option of a command (`ipc` takes its subcommand first).
  static func prefix(_ command: Command) -> String { command.name == "ipc" ? "ipc compare" : command.name }

  func testEveryCountSizeAndDurationOptionRefusesAHugeValueNamingItsLimit() throws {
    var lines: [(line: String, option: String)] = []
    for command in Catalog.registry.commands {
      // Every option that takes a count, a size or a duration (not a directory, a file or a program).
      for option in command.namedOptions
      where !option.isFlag && !option.takesRest && option.value != "DIR" && option.value != "FILE" {
        // crash --threads counts the threads of --in-thread.
        let needs = command.name == "crash" && option.name == "--threads" ? " --in-thread" : ""
        lines.append(("\(Self.prefix(command))\(needs) \(option.name) 2147483648", option.name))
      }
    }
    // Positional counts.
    for (line, what) in [
      ("spawn 2147483648", "count"), ("thread 2147483648", "count"), ("history 2147483648", "count"),
      ("crash exit 2147483648", "exit status"),
    ] {
      lines.append((line, what))
    }
    // Combined caps: each value in range, the product not.
    lines.append(("race --threads 64 --iterations 100000000", "--iterations"))
    lines.append(("io --serial --tasks 64 --wait 5000", "--wait"))
    XCTAssertGreaterThan(lines.count, 40, "every valued option of every command")
    let run = ProcLabBinary.json(lines.map(\.line).joined(separator: "; "))
    let outcomes = run.outcomes
    XCTAssertEqual(outcomes.count, lines.count, run.stderr)
    for (outcome, expected) in zip(outcomes, lines) {
      XCTAssertEqual(outcome["ok"]?.boolValue, false, "\(expected.line) ran instead of being refused")
      let error = outcome["error"]?.stringValue ?? ""
      XCTAssertTrue(error.contains(expected.option), "\(expected.line): names \(expected.option): \(error)")
      // A range or a cap for numbers; the choices, or an example, for options that take words (--impl, --schedule).
      XCTAssertTrue(
        error.contains("…") || error.contains("at most") || error.contains("one of")
          || error.contains("like"),
        "\(expected.line): says what works: \(error)")
      XCTAssertFalse(error.contains("\n"), error)
    }
  }

  func testASessionHoldsAtMost64ChildrenAndOneSetOfThreads() throws {
    let run = ProcLabBinary.json(
      "spawn 64 --fork --hold 30; spawn --hold 30; spawn --no-reap; spawn 2; "
        + "thread 64 --hold 3600; thread 2 --hold 5; info")
    let o = run.outcomes
    XCTAssertEqual(o.count, 7, run.stderr)
    guard o.count == 7 else { return }
    XCTAssertEqual(o[0]["ok"]?.boolValue, true, "\(o[0])")
    let held = (o[0]["facts"]?["children"]?.arrayValue ?? []).compactMap { $0["pid"]?.intValue }
    XCTAssertEqual(held.count, 64)
    for i in [1, 2] {
      XCTAssertEqual(o[i]["ok"]?.boolValue, false)
      let error = o[i]["error"]?.stringValue ?? ""
      XCTAssertTrue(error.hasPrefix("spawn: this shell already holds 64 children"), error)
      XCTAssertTrue(error.contains("'wait' or 'kill PID'"), error)
    }
    XCTAssertEqual(o[3]["ok"]?.boolValue, true, "children that end at once are not held: \(o[3])")
    XCTAssertEqual(o[4]["ok"]?.boolValue, true, "\(o[4])")
    XCTAssertEqual(o[5]["ok"]?.boolValue, false, "one set of held threads at a time")
    XCTAssertTrue((o[5]["error"]?.stringValue ?? "").contains("thread --release"))
    XCTAssertEqual(o[6]["facts"]?["children"]?.intValue, 64)
    XCTAssertEqual(o[6]["facts"]?["threads"]?.intValue, 65, "64 held threads and the main one")
    for pid in held {
      let state = ProcFS.stat(Int32(pid))?.state
      XCTAssertTrue(state == nil || state == "Z", "held child \(pid) ended with the shell")
    }
  }

  func testLabChildrenRunUnderLimitsAndDieWithAShellKilledBySIGKILL() throws {
    let shell = try ReliabilitySoakTests.Shell(environment: [:])
    defer { _ = shell.finish() }
    let spawned = try XCTUnwrap(shell.send("spawn 2 --hold 60", commands: 1)?.first)
    let pids = (spawned["facts"]?["children"]?.arrayValue ?? []).compactMap { $0["pid"]?.intValue }.map {
      Int32($0)
    }
    XCTAssertEqual(pids.count, 2, spawned.serialized)
    for pid in pids {
      XCTAssertEqual(ProcFS.stat(pid)?.parent, shell.process.processIdentifier)
      let limits = try String(contentsOfFile: "/proc/\(pid)/limits", encoding: .utf8)
      func soft(_ name: String) -> String? {
        guard let line = limits.split(separator: "\n").first(where: { $0.hasPrefix(name) }) else {
          return nil
        }
        return line.dropFirst(26).split(separator: " ").first.map(String.init)
      }
      XCTAssertEqual(soft("Max cpu time"), "120", limits)
      XCTAssertEqual(soft("Max core file size"), "0", limits)
      XCTAssertNotEqual(soft("Max processes"), "unlimited", limits)
      if !Sanitizers.addressSanitizer {
        XCTAssertEqual(soft("Max address space"), "\(4 << 30)", limits)
      }
    }
    kill(shell.process.processIdentifier, SIGKILL)
    _ = shell.finish()
    // PR_SET_PDEATHSIG: the kernel kills them with the shell (they become zombies of init, or vanish).
    let deadline = Date().addingTimeInterval(5)
    var alive = pids
    while !alive.isEmpty && Date() < deadline {
      alive = alive.filter {
        let s = ProcFS.stat($0)?.state
        return s != nil && s != "Z"
      }
      usleep(20_000)
    }
    XCTAssertEqual(alive, [], "lab children do not outlive a shell killed with SIGKILL")
  }

  func testKillAndWaitTouchOnlyTheShellsOwnChildren() throws {
    let shell = try ReliabilitySoakTests.Shell(environment: [:])
    let me = shell.process.processIdentifier
    let parent = getpid()
    // A child that has ended and was reaped, and a lab child of another command: no longer the shell's.
    let crashed = try XCTUnwrap(shell.send("crash exit 0", commands: 1)?.first)
    let labChild = try XCTUnwrap(crashed["facts"]?["pid"]?.intValue, crashed.serialized)
    let brief = try XCTUnwrap(shell.send("spawn --hold 0.05", commands: 1)?.first)
    let briefPID = try XCTUnwrap(brief["facts"]?["children"]?.arrayValue?.first?["pid"]?.intValue)
    usleep(300_000)
    _ = shell.send("info", commands: 1)
    let lines = [
      "kill \(me)", "kill \(me) KILL", "kill \(parent) TERM", "kill 1", "kill 0", "kill -1",
      "kill -\(parent)",
      "kill \(labChild)", "kill \(briefPID) KILL", "wait \(me)", "wait \(parent)", "wait 1",
      "wait \(labChild)",
      "wait \(briefPID)", "wait -1", "wait 0",
    ]
    for line in lines {
      let outcome = try XCTUnwrap(shell.send(line, commands: 1)?.first, line)
      XCTAssertEqual(outcome["ok"]?.boolValue, false, "\(line) must be refused: \(outcome.serialized)")
      let error = outcome["error"]?.stringValue ?? ""
      XCTAssertTrue(error.hasPrefix(line.hasPrefix("kill") ? "kill: " : "wait: "), error)
      XCTAssertFalse(error.contains("\n"))
    }
    XCTAssertTrue(processExists(me), "the shell is alive")
    XCTAssertTrue(processExists(parent), "the test runner is alive")
    let info = try XCTUnwrap(shell.send("info", commands: 1)?.first)
    XCTAssertEqual(info["ok"]?.boolValue, true)
    XCTAssertEqual(shell.finish(), 1, "some commands failed, none crashed the shell")
  }

  func testAFileCannotRunAProgramUnlessThePersonAllowsIt() throws {
    let dir = NSTemporaryDirectory() + "proclab-allow-\(getpid())"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let marker = dir + "/ran"
    let file = dir + "/commands.txt"
    // The file itself cannot grant permission: `set`, an option or a quoted flag are not ways in.
    try """
    spawn --exec /bin/true
    spawn --exec /usr/bin/touch \(marker)
    spawn --allow-exec --exec /bin/true
    set allow-exec on
    spawn 2 --exec /bin/true
    """.write(toFile: file, atomically: true, encoding: .utf8)
    let refused = ProcLabBinary.run(["run", file, "--json"])
    let o = refused.outcomes
    XCTAssertEqual(o.count, 5, refused.stderr)
    for outcome in o { XCTAssertEqual(outcome["ok"]?.boolValue, false, outcome.serialized) }
    for i in [0, 1, 4] {
      XCTAssertTrue((o[i]["error"]?.stringValue ?? "").contains("--allow-exec"), "\(o[i])")
    }
    XCTAssertFalse(FileManager.default.fileExists(atPath: marker), "no program ran")

    let allowed = ProcLabBinary.run(["run", file, "--json", "--allow-exec"]).outcomes
    XCTAssertEqual(allowed.count, 5)
    XCTAssertEqual(allowed.first?["ok"]?.boolValue, true, "\(allowed)")
    XCTAssertEqual(allowed[1]["ok"]?.boolValue, true, "\(allowed)")
    XCTAssertTrue(FileManager.default.fileExists(atPath: marker), "the person allowed it: the program ran")
    XCTAssertEqual(allowed[4]["ok"]?.boolValue, true)
    let pids = (allowed[4]["facts"]?["children"]?.arrayValue ?? []).compactMap { $0["pid"]?.intValue }
    XCTAssertEqual(pids.count, 2, "two real processes ran /bin/true")
  }
  func testALessonCannotRunAProgramOrOverwriteAFileThroughSkip() throws {
    let dir = NSTemporaryDirectory() + "proclab-lesson-exec-\(getpid())"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let marker = dir + "/ran"
    let precious = dir + "/precious.txt"
    try "the person's file\n".write(toFile: precious, atomically: true, encoding: .utf8)
    // Lesson files whose step is dangerous: `skip` runs a step's command for the person.
    for (verb, step, refusal) in [
      ("spawn", "spawn --exec /usr/bin/touch \(marker)", "needs --allow-exec"),
      ("record", "record \(precious) --force", "cannot start recording"),
    ] {
      let lessons = dir + "/\(verb)"
      try FileManager.default.createDirectory(atPath: lessons, withIntermediateDirectories: true)
      try """
      ---
      id: danger
      title: A lesson with a dangerous step
      order: 1
      summary: its only step is not the learner's to grant
      needs:
        - \(verb)
      ---

      # A lesson with a dangerous step

      Text.

      ## The step

      Type it.

      ```proclab
      proclab> \(step)
      ...
      ```

      ## Summary

      Done.
      """.write(toFile: lessons + "/01-danger.md", atomically: true, encoding: .utf8)
      let run = ProcLabBinary.run(["-c", "lesson danger --lessons \(lessons); skip", "--json"])
      let o = run.outcomes
      XCTAssertEqual(
        o.first?["ok"]?.boolValue, true, "the lesson loaded: \(o.first?.serialized ?? run.stderr)")
      let refused = o.first { $0["command"]?.stringValue == verb && $0["ok"]?.boolValue == false }
      XCTAssertTrue((refused?["error"]?.stringValue ?? "").contains(refusal), "\(step): \(run.stdout)")
    }
    XCTAssertFalse(FileManager.default.fileExists(atPath: marker), "skip did not run the lesson's program")
    XCTAssertEqual(
      try String(contentsOfFile: precious, encoding: .utf8), "the person's file\n",
      "skip did not overwrite it")
    // Typed by the person, the same program runs.
    let typed = ProcLabBinary.json("spawn --exec /usr/bin/touch \(marker)")
    XCTAssertEqual(typed.outcomes.first?["ok"]?.boolValue, true, typed.stdout)
    XCTAssertTrue(FileManager.default.fileExists(atPath: marker))
  }
}
