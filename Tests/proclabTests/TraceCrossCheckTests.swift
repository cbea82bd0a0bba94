import Foundation
import Glibc
import ProcLabKit
import TestSupport
import XCTest

/// `set trace on` must never claim a call that did not happen, and must show
/// what the kernel really ran. One command of every family (processes, threads,
/// sync, IPC, failure, measurement) runs twice: once under `strace -f`, once
/// under proclab's own kernel trace; each is checked against the other.
final class TraceCrossCheckTests: XCTestCase {
  /// What strace calls each traced library name (libc functions map to the syscalls they make).
  static let straceNames: [String: Set<String>] = [
    "posix_spawn": ["clone", "clone3", "vfork"], "fork": ["clone", "clone3", "fork"],
    "forkpty": ["clone", "clone3", "fork"], "pthread_create": ["clone", "clone3"],
    "openat": ["openat", "open"], "open": ["openat", "open"], "pipe2": ["pipe2"], "read": ["read"],
    "write": ["write"], "close": ["close"], "wait4": ["wait4"], "kill": ["kill"],
    "readlink": ["readlink", "readlinkat"], "getdents64": ["getdents64"], "uname": ["uname"],
    "getpid": ["getpid"], "getppid": ["getppid"], "socketpair": ["socketpair"], "mmap": ["mmap"],
    "munmap": ["munmap"], "shm_open": ["openat"], "mkfifo": ["mknodat", "mknod"], "mq_open": ["mq_open"],
    "mq_send": ["mq_timedsend"], "mq_receive": ["mq_timedreceive"],
    "sched_setaffinity": ["sched_setaffinity"],
    "prctl": ["prctl"], "sigaction": ["rt_sigaction"], "setrlimit": ["prlimit64", "setrlimit"],
    "unlink": ["unlink", "unlinkat"],
  ]

  /// One command per family, small enough to run under strace quickly, and the system
  /// calls that say what it really did: both strace and proclab's kernel trace must see them.
  static let families: [(family: String, command: String, telling: Set<String>)] = [
    ("processes", "spawn 2", ["clone3", "execve", "wait4"]),
    ("processes", "spawn --fork", ["clone", "wait4"]),
    ("processes", "ps", ["openat", "getdents64"]),
    ("threads", "thread 2", ["clone3"]),
    ("threads", "race --threads 2 --iterations 10000", ["clone3"]),
    ("sync", "lock", ["clone3", "futex"]),
    ("ipc", "pipe --bytes 64K --rounds 10", ["pipe2", "clone", "read", "write"]),
    ("ipc", "socket --bytes 4K", ["socketpair"]),
    ("ipc", "mq", ["mq_open", "mq_timedsend", "mq_timedreceive"]),
    ("ipc", "fifo", ["mknodat"]),
    ("ipc", "signal USR1 --handler", ["kill", "rt_sigaction"]),
    ("failure", "crash segv", ["clone3", "execve"]),
    ("measurement", "cost --iterations 10", ["clone3", "execve", "wait4"]),
    ("measurement", "switch --iterations 100", ["pipe2", "read", "write"]),
  ]

  var commands: [String] {
    Self.families.map(\.command).filter {
      Catalog.registry.command(named: String($0.split(separator: " ")[0])) != nil
    }
  }

  /// `strace -f -qq -o LOG proclab ARGS`: the log's lines and proclab's stdout.
  func strace(_ arguments: [String]) throws -> (log: [Substring], stdout: String) {
    let strace: String
    do { strace = try CPrograms.strace() } catch let u as CPrograms.Unavailable { throw XCTSkip(u.reason) }
    let log = NSTemporaryDirectory() + "proclab-strace-\(getpid()).txt"
    defer { unlink(log) }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: strace)
    process.arguments = ["-f", "-qq", "-o", log, ProcLabBinary.path] + arguments
    var env = ProcessInfo.processInfo.environment
    env["NO_COLOR"] = "1"
    env["XDG_STATE_HOME"] = NSTemporaryDirectory() + "proclab-test-state"
    process.environment = env
    let out = Pipe()
    process.standardOutput = out
    process.standardError = FileHandle.nullDevice
    try process.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
    if text.contains("PTRACE_TRACEME") || text.isEmpty {
      throw XCTSkip("strace cannot trace here (ptrace not permitted)")
    }
    return (text.split(separator: "\n"), String(decoding: data, as: UTF8.self))
  }

  /// `PID name(` of one strace line (the `<... name resumed>` half of a split call too).
  static func parse(_ line: Substring) -> (pid: Int32, name: String)? {
    let parts = line.split(separator: " ", maxSplits: 1)
    guard parts.count == 2, let pid = Int32(parts[0]) else { return nil }
    var rest = parts[1].drop { $0 == " " }
    if rest.hasPrefix("<... ") { rest = rest.dropFirst(5) }
    let name = rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
    return name.isEmpty ? nil : (pid, String(name))
  }

  /// Every system call name proclab's kernel trace reports for one outcome.
  static func kernelNames(_ outcome: JSON) -> Set<String> {
    var names = Set<String>()
    for call in outcome["trace"]?.arrayValue ?? [] {
      for k in call["kernel"]?.arrayValue ?? [] { if let n = k["call"]?.stringValue { names.insert(n) } }
    }
    for task in outcome["kernel_trace"]?["tasks"]?.arrayValue ?? [] {
      if case .object(let o)? = task["calls"] { for f in o.fields { names.insert(f.key) } }
    }
    names.remove("signal")  // a delivery, not a call: strace shows it as `--- SIG… ---`
    return names
  }

  func testEveryFamilyAgainstStrace() throws {
    let commands = self.commands
    // 1. Under strace (proclab's own kernel tracer cannot attach: one tracer per thread).
    let (log, stdout) = try strace(["--trace", "--json", "-c", commands.joined(separator: "; ")])
    let outcomes = stdout.split(separator: "\n").compactMap { JSON.parse(String($0)) }
    XCTAssertEqual(outcomes.count, commands.count)
    XCTAssertTrue(
      outcomes.allSatisfy { ($0["kernel_trace"]?["note"]?.stringValue ?? "").contains("already traced") },
      "under strace the kernel trace says why it is missing")

    // The log cut at each outcome the shell writes: the calls each command made, in every process.
    let shell = log.first.flatMap(Self.parse)?.pid ?? 0
    var segments: [Set<String>] = [[]]
    var byTask: [[Int32: Set<String>]] = [[:]]
    for line in log {
      guard let (pid, name) = Self.parse(line) else { continue }
      segments[segments.count - 1].insert(name)
      byTask[byTask.count - 1][pid, default: []].insert(name)
      if pid == shell && line.contains("write(1, \"{\\\"command\\\":") {
        segments.append([])
        byTask.append([:])
      }
    }
    XCTAssertGreaterThanOrEqual(segments.count, commands.count, "one segment per command")

    // 2. Every library call the trace names appears in strace's record of its process.
    var checked = 0
    for (i, outcome) in outcomes.enumerated() where i < byTask.count {
      for call in outcome["trace"]?.arrayValue ?? [] {
        guard let name = call["call"]?.stringValue, let pid = call["pid"]?.intValue,
          let names = Self.straceNames[name]
        else { continue }
        let tid = call["tid"]?.intValue ?? pid
        let observed = (byTask[i][Int32(tid)] ?? []).union(byTask[i][Int32(pid)] ?? [])
        XCTAssertFalse(
          observed.isDisjoint(with: names),
          "\(commands[i]): trace says \(pid) called \(name), strace saw none of \(names.sorted())")
        checked += 1
      }
    }
    XCTAssertGreaterThan(checked, 30, "the trace reported real calls to check")

    // 3. proclab's own kernel trace of the same commands.
    let ours = ProcLabBinary.run(["--trace", "--json", "-c", commands.joined(separator: "; ")]).outcomes
    XCTAssertEqual(ours.count, commands.count)
    var families = Set<String>()
    for (i, outcome) in ours.enumerated() where i < segments.count {
      let command = commands[i]
      let family = Self.families.first { $0.command == command }!
      let names = Self.kernelNames(outcome)
      if let note = outcome["kernel_trace"]?["note"]?.stringValue, note.contains("is not shown") {
        throw XCTSkip("proclab's kernel trace cannot attach here: \(note)")
      }
      // What says what the command really did: both tracers saw it.
      XCTAssertTrue(
        family.telling.isSubset(of: segments[i]), "\(command): strace saw \(segments[i].sorted())")
      XCTAssertTrue(family.telling.isSubset(of: names), "\(command): the kernel trace saw \(names.sorted())")
      // Nothing the kernel trace reports is a call strace did not see in that command (but for
      // polling and sleeping, whose count depends on timing: a child may end before the first poll).
      let timing: Set = [
        "restart_syscall", "clock_nanosleep", "nanosleep", "waitid", "poll", "ppoll", "sched_yield", "futex",
      ]
      let unseen = names.subtracting(segments[i]).subtracting(timing)
      XCTAssertTrue(
        unseen.isEmpty, "\(command): the kernel trace reports \(unseen.sorted()), strace saw none of them")
      families.insert(family.family)
    }
    XCTAssertEqual(families, ["processes", "threads", "sync", "ipc", "failure", "measurement"])
  }

  func testForkIsCloneSpawnIsClone3AndExecveAContendedLockIsFutexWaits() throws {
    let outcomes = ProcLabBinary.run(["--trace", "--json", "-c", "spawn 1; spawn --fork; lock"]).outcomes
    XCTAssertEqual(outcomes.count, 3)
    if let note = outcomes[0]["kernel_trace"]?["note"]?.stringValue { throw XCTSkip(note) }
    func calls(_ o: JSON, _ name: String) -> [JSON] {
      (o["trace"]?.arrayValue ?? []).filter { $0["call"]?.stringValue == name }
    }
    let spawn = try XCTUnwrap(calls(outcomes[0], "posix_spawn").first)
    let spawned = (spawn["kernel"]?.arrayValue ?? []).compactMap { $0["text"]?.stringValue }
    XCTAssertTrue(spawned.contains { $0.hasPrefix("clone3(CLONE_VM|CLONE_VFORK") }, "\(spawned)")
    let exec = (spawn["kernel"]?.arrayValue ?? []).first { $0["call"]?.stringValue == "execve" }
    XCTAssertNotNil(exec, "the child's execve is part of posix_spawn")
    XCTAssertNotEqual(exec?["pid"]?.intValue, spawn["pid"]?.intValue, "execve runs in the child")

    let fork = try XCTUnwrap(calls(outcomes[1], "fork").first)
    let forked = (fork["kernel"]?.arrayValue ?? []).compactMap { $0["text"]?.stringValue }
    XCTAssertTrue(forked.contains { $0.hasPrefix("clone(SIGCHLD") }, "fork is clone(SIGCHLD): \(forked)")

    // lock's workers hold the mutex 20 ms each: the others must wait, in the kernel.
    let lock = try XCTUnwrap(calls(outcomes[2], "pthread_mutex_lock").first)
    let futex = (lock["kernel"]?.arrayValue ?? []).compactMap { $0["text"]?.stringValue }
    XCTAssertTrue(futex.contains { $0.contains("FUTEX_WAIT") }, "\(futex)")
    let text = ProcLabBinary.text("set trace on; lock").stdout
    XCTAssertTrue(text.contains("futex wait"), text)
    XCTAssertTrue(text.contains("every other lock and unlock stayed in user space"), text)
  }

  func testPerCallDurationsAreEachCallsOwn() throws {
    let outcome = try XCTUnwrap(ProcLabBinary.run(["--trace", "--json", "-c", "ps"]).outcomes.first)
    let calls = (outcome["trace"]?.arrayValue ?? []).filter { $0["aggregate"]?.boolValue != true }
    let durations = Set(calls.compactMap { $0["ns"]?.intValue })
    XCTAssertGreaterThan(calls.count, 4)
    XCTAssertGreaterThan(durations.count, calls.count / 2, "each call carries its own duration")
    // The system call lies inside the library call that made it.
    for call in calls {
      for k in call["kernel"]?.arrayValue ?? [] where k["tid"]?.intValue == call["tid"]?.intValue {
        let start = try XCTUnwrap(call["start_ns"]?.intValue)
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(k["start_ns"]?.intValue), start)
        XCTAssertLessThanOrEqual(
          try XCTUnwrap(k["start_ns"]?.intValue) + (k["ns"]?.intValue ?? 0),
          start + (call["ns"]?.intValue ?? 0))
      }
    }
  }

  func testTheTraceShowsTheCommandNotTheShellsBookkeeping() throws {
    let state = NSTemporaryDirectory() + "proclab-trace-state-\(getpid())"
    defer { try? FileManager.default.removeItem(atPath: state) }
    let run = ProcLabBinary.run(
      ["--trace", "--json", "-c", "lesson 1; info"], environment: ["XDG_STATE_HOME": state])
    let outcomes = run.outcomes
    XCTAssertEqual(outcomes.count, 2)
    XCTAssertNil(outcomes[0]["trace"], "the lesson engine's own verbs are not traced")
    let info = try XCTUnwrap(outcomes.last)
    XCTAssertFalse(
      info.serialized.contains("progress.json"), "saving lesson progress is not the command's work")
    XCTAssertFalse(info.serialized.contains("/lessons/"), "reading lesson files is not the command's work")
  }

  func testTraceIsInTheJSONAndGroupedInText() throws {
    let json = ProcLabBinary.run(["--trace", "--json", "-c", "info"])
    let calls = try XCTUnwrap(json.outcomes.first?["trace"]?.arrayValue)
    XCTAssertTrue(calls.contains { $0["call"]?.stringValue == "uname" })
    XCTAssertTrue(calls.allSatisfy { $0["pid"]?.intValue == json.outcomes.first?["facts"]?["pid"]?.intValue })

    let text = ProcLabBinary.text("set trace on; info; set trace off; info; trace --summary")
    XCTAssertTrue(text.stdout.contains("(this shell)"))
    XCTAssertTrue(text.stdout.contains("uname() = Linux"))
    XCTAssertTrue(
      text.stdout.contains("No trace for 'info'"), "with tracing off there is nothing to summarise")
  }
}
