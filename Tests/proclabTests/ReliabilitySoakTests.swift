import Foundation
import Glibc
import ProcLabKit
import TestSupport
import XCTest

/// Thousands of random valid commands in one strict session: after every one the
/// shell checks that no zombie, stray child, descriptor or thread is left; around
/// the whole soak the test checks /dev/shm, /dev/mqueue and the temporary
/// directory for leftovers, and that the shell's resident memory stayed flat.
final class ReliabilitySoakTests: XCTestCase {
  /// A small deterministic generator (xorshift64*), so a failing soak can be replayed from its seed.
  struct Generator {
    var state: UInt64
    mutating func next() -> UInt64 {
      state ^= state >> 12
      state ^= state << 25
      state ^= state >> 27
      return state &* 2_685_821_657_736_338_717
    }
    mutating func int(_ range: ClosedRange<Int>) -> Int {
      range.lowerBound + Int(next() % UInt64(range.count))
    }
    mutating func pick<T>(_ items: [T]) -> T { items[int(0...(items.count - 1))] }
  }

  /// One valid command line, small enough to take milliseconds, chosen with weights
  /// that favour the cheap ones (a lab child costs tens of milliseconds).
  static func randomLine(_ g: inout Generator) -> String {
    let families: [(weight: Int, make: (inout Generator) -> String)] = [
      (5, { "spawn \($0.int(1...3))" }),
      (3, { "spawn \($0.int(1...4)) --fork" }),
      (2, { _ in "spawn --no-reap; wait" }),
      (1, { _ in "spawn 2 --hold 0.05; wait" }),
      (2, { _ in "spawn --exec /bin/true" }),
      (4, { $0.pick(["ps", "info", "help", "history 3", "explain", "help race", "explain zombie"]) }),
      (2, { $0.pick(["memory", "memory --threads"]) }),
      (1, { $0.pick(["files", "orphan"]) }),
      (5, { "thread \($0.int(1...8))" }),
      (1, { "thread \($0.int(1...4)) --hold 5; thread --release" }),
      (
        6,
        {
          "race --threads \($0.int(1...4)) --iterations \($0.int(100...5000)) "
            + $0.pick(["--racy", "--lock", "--atomic", ""])
        }
      ),
      (1, { "parallel --\($0.pick(["threads", "processes"])) 2 --work 10" }),
      (2, { "io --tasks \($0.int(1...4)) --wait 1 " + $0.pick(["--serial", "--threads", "--poll", ""]) }),
      (
        3,
        {
          $0.pick([
            "lock --threads \($0.int(2...3)) --hold 1 --rounds 1",
            "lock --threads 2 --hold 1 --rounds 1 --try",
            "lock --threads 2 --hold 1 --rounds 1 --processes",
            "semaphore --permits 1 --threads \($0.int(2...3)) --hold 1 --rounds 1",
            "rwlock --readers \($0.int(1...3)) --writers 1 --hold 1 --rounds 1",
          ])
        }
      ),
      (2, { "condvar --items \($0.int(10...200)) --capacity \($0.int(1...4))" }),
      (
        1,
        {
          $0.pick([
            "deadlock --ordered --pause 5", "deadlock --trylock --pause 5",
            "condvar --if --items 100 --timeout 100",
          ])
        }
      ),
      (3, { "pipe --bytes \($0.int(1...64))K --rounds \($0.int(1...20))" }),
      (2, { "socket --\($0.pick(["stream", "datagram"])) --bytes \($0.int(1...16))K" }),
      (3, { $0.pick(["shm", "shm --iterations 1000 --no-sync", "shm --iterations 1000 --lock"]) }),
      (
        2,
        {
          $0.pick(["signal", "fifo --bytes \($0.int(1...64))K", "mq", "ipc compare --bytes 4K --rounds 10"])
        }
      ),
      (
        4,
        {
          "crash "
            + $0.pick([
              "segv", "abort", "fpe", "ill", "bus", "stack", "kill", "oom", "exit \($0.int(0...255))",
              "segv --in-thread --threads \($0.int(1...4))",
            ])
        }
      ),
      (1, { $0.pick(["cost --iterations 10", "switch --iterations 100"]) }),
    ]
    let total = families.reduce(0) { $0 + $1.weight }
    var roll = g.int(0...(total - 1))
    for family in families {
      if roll < family.weight { return family.make(&g) }
      roll -= family.weight
    }
    return "info"
  }

  /// The proclab shell on pipes, fed one line at a time, answering in JSON.
  final class Shell {
    let process = Process()
    let input = Pipe()
    let output = Pipe()
    var buffer: [UInt8] = []

    init(environment: [String: String]) throws {
      process.executableURL = URL(fileURLWithPath: ProcLabBinary.path)
      process.arguments = ["--json"]
      var env = ProcessInfo.processInfo.environment
      env["NO_COLOR"] = "1"
      env["PROCLAB_STRICT"] = "1"
      for (k, v) in environment { env[k] = v }
      process.environment = env
      process.standardInput = input
      process.standardOutput = output
      process.standardError = FileHandle.nullDevice
      try process.run()
    }

    /// Sends a line and reads one outcome per `;`-separated command (nil if the shell died).
    func send(_ line: String, commands: Int) -> [JSON]? {
      input.fileHandleForWriting.write((line + "\n").data(using: .utf8)!)
      var outcomes: [JSON] = []
      while outcomes.count < commands {
        guard let text = readLine(), let json = JSON.parse(text) else { return nil }
        outcomes.append(json)
      }
      return outcomes
    }

    func readLine() -> String? {
      let fd = output.fileHandleForReading.fileDescriptor
      while true {
        if let nl = buffer.firstIndex(of: 10) {
          let line = String(decoding: buffer[..<nl], as: UTF8.self)
          buffer.removeSubrange(...nl)
          return line
        }
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, 65536) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { return nil }
        buffer += chunk[0..<n]
      }
    }

    func finish() -> Int32 {
      try? input.fileHandleForWriting.close()
      process.waitUntilExit()
      return process.terminationStatus
    }
  }

  /// proclab's own names in /dev/shm (shared memory, and POSIX semaphores as sem.*) and /dev/mqueue.
  static func namedObjects() -> Set<String> {
    var names: Set<String> = []
    for directory in ["/dev/shm", "/dev/mqueue"] {
      for entry in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
      where entry.contains("proclab") {
        names.insert(directory + "/" + entry)
      }
    }
    return names
  }

  func testThousandsOfRandomCommandsLeaveNothingBehindAndMemoryStaysFlat() throws {
    let seed =
      UInt64(ProcessInfo.processInfo.environment["PROCLAB_SOAK_SEED"] ?? "")
      ?? UInt64.random(in: 1...UInt64.max)
    let budget = Double(ProcessInfo.processInfo.environment["PROCLAB_SOAK_SECONDS"] ?? "") ?? 40
    var g = Generator(state: seed)
    let temp = NSTemporaryDirectory() + "proclab-soak-\(getpid())-\(seed % 100_000)"
    try FileManager.default.createDirectory(atPath: temp, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: temp) }
    let objectsBefore = Self.namedObjects()

    let shell = try Shell(environment: ["TMPDIR": temp, "XDG_STATE_HOME": temp + "-state"])
    defer { try? FileManager.default.removeItem(atPath: temp + "-state") }
    let shellPID = shell.process.processIdentifier

    // Warm up: every family once, so that lazily built tables and caches count in the baseline.
    var warmup = Generator(state: 42)
    for _ in 0..<60 {
      let line = Self.randomLine(&warmup)
      _ = shell.send(line, commands: line.split(separator: ";").count)
    }
    let first = try XCTUnwrap(shell.send("info", commands: 1)?.first)
    let rssBefore = try XCTUnwrap(first["facts"]?["rss_bytes"]?.intValue)

    let started = Date()
    var commands = 0
    var crashes = 0
    var failures: [String] = []
    var held = 0
    while Date().timeIntervalSince(started) < budget && commands < 4000 {
      var line = Self.randomLine(&g)
      // Now and then: hold children, then kill one by its PID and wait for the rest.
      if g.int(0...60) == 0 {
        guard let spawned = shell.send("spawn 2 --hold 30", commands: 1)?.first else { break }
        let pids = (spawned["facts"]?["children"]?.arrayValue ?? []).compactMap { $0["pid"]?.intValue }
        XCTAssertEqual(pids.count, 2, "held children: \(spawned.serialized.prefix(300))")
        commands += 1
        held += pids.count
        line =
          "kill \(pids.first ?? 0) \(g.pick(["TERM", "KILL", "INT", "HUP"])); kill \(pids.last ?? 0) KILL; wait all"
      }
      let count = line.split(separator: ";").count
      guard let outcomes = shell.send(line, commands: count) else {
        failures.append("the shell stopped answering after: \(line)")
        break
      }
      commands += count
      for outcome in outcomes where outcome["ok"]?.boolValue != true {
        failures.append("\(outcome["input"]?.stringValue ?? line): \(outcome["error"]?.stringValue ?? "?")")
      }
      if line.hasPrefix("crash") { crashes += 1 }
      if failures.count > 20 { break }
    }
    let elapsed = Date().timeIntervalSince(started)
    let last = try XCTUnwrap(shell.send("info", commands: 1)?.first)
    let rssAfter = try XCTUnwrap(last["facts"]?["rss_bytes"]?.intValue)
    XCTAssertEqual(last["facts"]?["children"]?.intValue, 0, "no child held at the end")
    XCTAssertEqual(ProcFS.children(of: shellPID), [], "no child of the shell in /proc")
    XCTAssertEqual(shell.finish(), 0, "the shell left normally")

    XCTAssertEqual(failures, [], "seed \(seed): every valid command succeeded with its cleanup invariant")
    // (AddressSanitizer makes every process several times slower: fewer commands fit in the budget.)
    XCTAssertGreaterThanOrEqual(
      commands, Sanitizers.addressSanitizer ? 200 : 1000,
      "seed \(seed): thousands of commands (\(commands) in \(elapsed) s)")
    XCTAssertEqual(Self.namedObjects().subtracting(objectsBefore), [], "no shared memory or queue left")
    // This user's own directory stays, empty (as tmux keeps /tmp/tmux-UID): nothing in it, nothing else.
    let own = "proclab-\(getuid())"
    XCTAssertEqual(
      IPCFifo.entries(of: temp).filter { $0 != own }, [], "no FIFO, file or directory left in TMPDIR")
    XCTAssertEqual(IPCFifo.entries(of: temp + "/" + own), [], "nothing left in proclab's own directory")
    // Flat: the heap may settle a little after warm-up, but must not grow with the number of commands.
    let growth = rssAfter - rssBefore
    // (Under AddressSanitizer freed memory waits in its quarantine, so RSS grows by design.)
    if !Sanitizers.addressSanitizer {
      XCTAssertLessThan(growth, 16 << 20, "RSS \(rssBefore) → \(rssAfter) bytes over \(commands) commands")
    }
    print(
      "soak (seed \(seed)): \(commands) commands in \(Int(elapsed)) s, \(crashes) crashes survived, "
        + "\(held) held children killed and reaped; RSS \(Units.bytes(rssBefore)) before, "
        + "\(Units.bytes(rssAfter)) after")
  }
}
