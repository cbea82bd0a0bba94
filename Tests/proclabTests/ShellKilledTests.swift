import Foundation
import Glibc
import ProcLabKit
import TestSupport
import XCTest

/// A shell killed with SIGKILL runs no cleanup: whatever it started must end by
/// itself (lab and fork children: PR_SET_PDEATHSIG; programs: the keeper of
/// their process group), and what it left on disk is swept by the next start.
final class ShellKilledTests: XCTestCase {
  /// A running `proclab -c COMMANDS`, its environment marked so its descendants can be found.
  struct Shell {
    let pid: Int32
    let mark: String
    /// SIGKILL, then wait4: the test is the shell's parent and reaps it itself.
    func kill() {
      Glibc.kill(pid, SIGKILL)
      Wait.reap(pid)
    }
  }

  private func start(_ commands: String, environment: [String: String] = [:]) throws -> Shell {
    let mark = "pf-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    let null = try Descriptors.openNull()
    defer { Descriptors.close(null) }
    var options = Spawn.Options()
    options.descriptors = [(0, null), (1, null), (2, null)]
    options.environment = [
      "PROCLAB_TEST_MARK": mark, "XDG_STATE_HOME": NSTemporaryDirectory() + "proclab-test-state",
    ].merging(environment) { $1 }
    let pid = try Spawn.spawn(
      path: ProcLabBinary.path, arguments: ["proclab", "-c", commands], options: options)
    return Shell(pid: pid, mark: mark)
  }

  /// Live processes (zombies do not count) that carry the mark, other than the shell itself.
  private func descendants(of shell: Shell) -> [Int32] {
    let needle = Array("PROCLAB_TEST_MARK=\(shell.mark)".utf8)
    return ProcFS.allPIDs().filter { pid in
      guard pid != shell.pid, let state = ProcFS.stat(pid)?.state, state != "Z",
        let data = FileManager.default.contents(atPath: "/proc/\(pid)/environ")
      else { return false }
      return data.split(separator: 0).contains { Array($0) == needle }
    }
  }

  /// Polls until `condition` holds or `seconds` pass; returns whether it held.
  private func eventually(within seconds: Double, _ condition: () -> Bool) -> Bool {
    let end = Date().addingTimeInterval(seconds)
    while Date() < end {
      if condition() { return true }
      usleep(10_000)
    }
    return condition()
  }

  /// SIGKILL the shell once it has `atLeast` descendants; then none may survive a short grace.
  private func killShell(
    running commands: String, whenItHas atLeast: Int, file: StaticString = #filePath, line: UInt = #line
  ) throws {
    let shell = try start(commands)
    defer { for pid in descendants(of: shell) { kill(pid, SIGKILL) } }
    XCTAssertTrue(
      eventually(within: 20) { descendants(of: shell).count >= atLeast }, "\(commands): children appeared",
      file: file, line: line)
    let seen = descendants(of: shell).count
    shell.kill()
    XCTAssertTrue(
      eventually(within: 3) { descendants(of: shell).isEmpty },
      "\(commands): \(descendants(of: shell).count) of \(seen)+ children outlived the shell killed with SIGKILL",
      file: file, line: line)
  }

  /// Issue 19 item 5: lab children checked their own getppid() against itself, so those
  /// that reached PR_SET_PDEATHSIG after the shell died lived on (23 of 640 in 10 runs).
  func testLabChildrenOfAShellKilledWhileSpawningAllDie() throws {
    for _ in 0..<3 {
      try killShell(running: "spawn 64 --hold 600", whenItHas: 1)
    }
  }

  /// Issue 19 item 6: fork children, programs (and what they start), and the workers of
  /// `lock --processes` and `parallel --processes`.
  func testForkChildrenProgramsAndWorkersDieWithAShellKilledBySIGKILL() throws {
    try killShell(running: "spawn 8 --hold 600 --fork; wait", whenItHas: 8)
    // The keeper of the programs' group, sh, and sh's two sleeps.
    try killShell(running: "spawn --exec sh -c 'sleep 600 & sleep 600'", whenItHas: 4)
    try killShell(running: "lock --processes --threads 4 --hold 200 --rounds 16", whenItHas: 4)
    // parallel runs its workers one measurement at a time: one is enough to kill the shell over.
    try killShell(running: "parallel --processes 2 --work 10000", whenItHas: 1)
  }

  /// Issue 19 item 11: `crash --core`'s private directory, left by a killed shell, is
  /// removed by the next start (its name carries the dead shell's PID).
  func testADeadShellsCoreDirectoryIsSweptAtTheNextStart() throws {
    let tmp = NSTemporaryDirectory() + "pf-sweep-\(getpid())"
    try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: tmp) }
    let shell = try start("crash segv --core --delay 20000", environment: ["TMPDIR": tmp])
    defer { for pid in descendants(of: shell) { kill(pid, SIGKILL) } }
    let prefix = "proclab-core-\(shell.pid)-"
    // In this user's own directory under TMPDIR (mode 0700), which a start lists instead of TMPDIR.
    let own = tmp + "/proclab-\(getuid())"
    func left() -> [String] {
      ((try? FileManager.default.contentsOfDirectory(atPath: own)) ?? []).filter { $0.hasPrefix(prefix) }
    }
    XCTAssertTrue(eventually(within: 20) { !left().isEmpty }, "crash --core made its directory")
    // A directory of a shell that is still alive is not touched by another start.
    let alive = try XCTUnwrap(left().first)
    XCTAssertEqual(ProcLabBinary.run(["-c", "info"], environment: ["TMPDIR": tmp]).status, 0)
    XCTAssertEqual(left(), [alive], "a living shell's directory stays")
    shell.kill()
    XCTAssertEqual(left(), [alive], "SIGKILL left it behind")
    XCTAssertEqual(ProcLabBinary.run(["-c", "info"], environment: ["TMPDIR": tmp]).status, 0)
    XCTAssertEqual(left(), [], "the next start removed it")
    var st = stat()
    XCTAssertEqual(lstat(own, &st), 0)
    XCTAssertEqual(st.st_mode & 0o777, 0o700, "only this user may enter it")
  }

  /// A name another user (or a link) took in a shared TMPDIR is not used: proclab falls back to
  /// TMPDIR itself, and the sweep still finds what a killed shell left there.
  func testAPrivateDirectoryNameTakenByALinkIsNotFollowed() throws {
    let tmp = NSTemporaryDirectory() + "pf-link-\(getpid())"
    let elsewhere = tmp + "-elsewhere"
    try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
    try FileManager.default.createDirectory(atPath: elsewhere, withIntermediateDirectories: true)
    defer {
      try? FileManager.default.removeItem(atPath: tmp)
      try? FileManager.default.removeItem(atPath: elsewhere)
    }
    XCTAssertEqual(symlink(elsewhere, tmp + "/proclab-\(getuid())"), 0)
    let run = ProcLabBinary.run(["--trace", "-c", "files"], environment: ["TMPDIR": tmp])
    XCTAssertEqual(run.status, 0, run.stdout + run.stderr)
    // The trace shows the mkdtemp: in TMPDIR itself, not through the link.
    XCTAssertTrue(run.stdout.contains("mkdtemp(\(tmp)/proclab-files-"), run.stdout)
    XCTAssertEqual(
      try FileManager.default.contentsOfDirectory(atPath: elsewhere), [], "nothing went through the link")
  }
}
