import Foundation
import Glibc
import ProcLabKit
import TestSupport
import XCTest

/// `set trace on` must never claim a call that did not happen: every system
/// call proclab's trace reports must appear in strace's record of the same
/// process.
final class TraceCrossCheckTests: XCTestCase {
  /// What strace calls each traced name (libc functions map to the syscalls they make).
  static let straceNames: [String: Set<String>] = [
    "posix_spawn": ["clone", "clone3", "vfork"], "fork": ["clone", "clone3", "fork"],
    "forkpty": ["clone", "clone3", "fork"], "pthread_create": ["clone", "clone3"],
    "openat": ["openat", "open"], "pipe2": ["pipe2"], "read": ["read"], "write": ["write"],
    "close": ["close"],
    "wait4": ["wait4"], "kill": ["kill"], "readlink": ["readlink", "readlinkat"],
    "getdents64": ["getdents64"],
    "uname": ["uname"], "getpid": ["getpid"], "getppid": ["getppid"], "socketpair": ["socketpair"],
    "mmap": ["mmap"], "munmap": ["munmap"], "shm_open": ["openat"], "mkfifo": ["mknodat", "mknod"],
    "mq_open": ["mq_open"], "mq_send": ["mq_timedsend"], "mq_receive": ["mq_timedreceive"],
    "sched_setaffinity": ["sched_setaffinity"], "prctl": ["prctl"], "sigaction": ["rt_sigaction"],
    "setrlimit": ["prlimit64", "setrlimit"], "unlink": ["unlink", "unlinkat"],
  ]

  /// Commands to trace: every one that exists in this build.
  static let candidates = [
    "info", "spawn 2", "spawn --fork", "ps", "thread 2", "pipe", "socket", "shm", "fifo", "crash segv",
    "lock",
  ]

  func testEveryTracedSystemCallAppearsInStrace() throws {
    guard let strace = Spawn.resolve(program: "strace") else {
      throw XCTSkip("strace is not installed (apt-get install strace) — the cross-check needs it")
    }
    let commands = Self.candidates.filter {
      Catalog.registry.command(named: String($0.split(separator: " ")[0])) != nil
    }
    let log = NSTemporaryDirectory() + "proclab-strace-\(getpid()).txt"
    defer { unlink(log) }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: strace)
    process.arguments = [
      "-f", "-qq", "-o", log, ProcLabBinary.path, "--trace", "--json", "-c", commands.joined(separator: "; "),
    ]
    var env = ProcessInfo.processInfo.environment
    env["NO_COLOR"] = "1"
    process.environment = env
    let out = Pipe()
    process.standardOutput = out
    process.standardError = FileHandle.nullDevice
    try process.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let text = try String(contentsOfFile: log, encoding: .utf8)
    if text.contains("PTRACE_TRACEME") || text.isEmpty {
      throw XCTSkip("strace cannot trace here (ptrace not permitted)")
    }

    var seen: [Int32: Set<String>] = [:]
    for line in text.split(separator: "\n") {
      let parts = line.split(separator: " ", maxSplits: 1)
      guard parts.count == 2, let pid = Int32(parts[0]) else { continue }
      // strace pads the PID column when PIDs have different widths.
      var rest = parts[1].drop { $0 == " " }
      if rest.hasPrefix("<... ") { rest = rest.dropFirst(5) }
      let name = rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
      seen[pid, default: []].insert(String(name))
    }

    let outcomes = String(decoding: data, as: UTF8.self).split(separator: "\n").compactMap {
      JSON.parse(String($0))
    }
    XCTAssertEqual(outcomes.count, commands.count)
    var checked = 0
    for outcome in outcomes {
      for call in outcome["trace"]?.arrayValue ?? [] {
        guard let name = call["call"]?.stringValue, let pid = call["pid"]?.intValue,
          let names = Self.straceNames[name]
        else { continue }
        // strace -f prefixes each line with the calling thread's ID; our trace knows both.
        let tid = call["tid"]?.intValue ?? pid
        let observed = (seen[Int32(tid)] ?? []).union(seen[Int32(pid)] ?? [])
        XCTAssertFalse(
          observed.isDisjoint(with: names),
          "\(outcome["command"]!.stringValue!): trace says pid \(pid) called \(name), strace saw none of \(names.sorted())"
        )
        checked += 1
      }
    }
    XCTAssertGreaterThan(checked, 10, "the trace reported real calls to check")
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
