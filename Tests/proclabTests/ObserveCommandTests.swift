import Foundation
import Glibc
import ProcLabKit
import TestSupport
import XCTest

/// `observe` on small C programs whose behaviour is known, each cross-checked
/// against `strace -f` of the same program: the same tasks, the same calls.
final class ObserveCommandTests: XCTestCase {
  static let family = """
    #include <fcntl.h>
    #include <stdio.h>
    #include <sys/wait.h>
    #include <unistd.h>
    int main(void) {
      int fds[2];
      pipe(fds);
      int leak = open("/dev/null", O_RDONLY);
      (void)leak;
      pid_t writer = fork();
      if (writer == 0) { close(fds[0]); write(fds[1], "hello pipe\\n", 11); _exit(3); }
      close(fds[1]);
      char buf[64]; ssize_t n, total = 0;
      while ((n = read(fds[0], buf, sizeof buf)) > 0) total += n;
      int status; waitpid(writer, &status, 0);
      pid_t zombie = fork();
      if (zombie == 0) _exit(0);
      usleep(30000);
      printf("read %zd bytes, child status %d\\n", total, WEXITSTATUS(status));
      return 0;
    }
    """

  static let nowait = """
    #include <unistd.h>
    int main(void) {
      for (int i = 0; i < 3; i++) if (fork() == 0) { usleep(1000); _exit(0); }
      usleep(20000);
      return 0;
    }
    """

  static let threads = """
    #include <pthread.h>
    #include <stdio.h>
    static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    static long counter;
    static void *work(void *a) {
      for (int i = 0; i < 100000; i++) { pthread_mutex_lock(&m); counter++; pthread_mutex_unlock(&m); }
      return a;
    }
    int main(void) {
      pthread_t t[2];
      for (int i = 0; i < 2; i++) pthread_create(&t[i], 0, work, 0);
      for (int i = 0; i < 2; i++) pthread_join(t[i], 0);
      printf("counter = %ld\\n", counter);
      return 0;
    }
    """

  static let execer = """
    #include <sys/wait.h>
    #include <unistd.h>
    int main(void) {
      pid_t p = fork();
      if (p == 0) { execl("/bin/echo", "echo", "hi", "there", (char *)0); _exit(127); }
      pid_t middle = fork();
      if (middle == 0) { if (fork() == 0) { usleep(50000); _exit(0); } _exit(0); }
      waitpid(p, 0, 0);
      waitpid(middle, 0, 0);
      usleep(100000);
      return 0;
    }
    """

  static let crash = """
    #include <stdio.h>
    int main(void) { volatile int *p = (int *)0x10; puts("about to crash"); fflush(stdout); return *p; }
    """

  func build(_ name: String, _ source: String) throws -> String {
    do { return try CPrograms.build(name, source) } catch let u as CPrograms.Unavailable {
      throw XCTSkip(u.reason)
    }
  }

  func strace(_ path: String) throws -> CPrograms.StraceRecord {
    do { return try CPrograms.strace(path) } catch let u as CPrograms.Unavailable { throw XCTSkip(u.reason) }
  }

  /// `proclab --json -c 'observe PATH'`: the facts.
  func observe(_ path: String, _ options: String = "") throws -> JSON {
    let run = ProcLabBinary.json("observe \(options) \(path)")
    let outcome = try XCTUnwrap(run.outcomes.first, run.stderr)
    if let error = outcome["error"]?.stringValue, error.contains("ptrace") {
      throw XCTSkip("ptrace is not permitted here: \(error)")
    }
    XCTAssertEqual(outcome["ok"]?.boolValue, true, "\(outcome["error"] ?? .null)")
    return try XCTUnwrap(outcome["facts"])
  }

  /// The same tasks and the same count of every call as strace saw in its own run.
  func crossCheck(
    _ facts: JSON, _ record: CPrograms.StraceRecord, file: StaticString = #filePath, line: UInt = #line
  ) {
    let processes = facts["processes"]?.arrayValue ?? []
    let threads = facts["threads"]?.arrayValue ?? []
    XCTAssertEqual(record.tasks.count, processes.count + threads.count, "tasks", file: file, line: line)
    var ours: [String: Int] = [:]
    if case .object(let o)? = facts["calls"] { for f in o.fields { ours[f.key] = f.value.intValue ?? 0 } }
    // A sleep that a signal interrupts is restarted (restart_syscall): when depends on timing.
    let timing: Set<String> = ["restart_syscall", "futex", "clock_nanosleep", "nanosleep"]
    for name in Set(ours.keys).union(record.counts.keys) where !timing.contains(name) {
      XCTAssertEqual(ours[name] ?? 0, record.counts[name] ?? 0, "calls of \(name)", file: file, line: line)
    }
  }

  func testTreePipeLeakAndUnreapedChildMatchStrace() throws {
    let path = try build("family", Self.family)
    let facts = try observe(path)
    let processes = try XCTUnwrap(facts["processes"]?.arrayValue)
    XCTAssertEqual(processes.count, 3)
    let root = processes[0]
    let rootPID = try XCTUnwrap(root["pid"]?.intValue)
    let observer = try XCTUnwrap(facts["observer"]?.intValue)
    XCTAssertEqual(root["exit"]?["code"]?.intValue, 0)
    XCTAssertEqual(root["reaped_by"]?.intValue, observer, "the observer is the program's parent")
    let writer = processes[1]
    let zombie = processes[2]
    XCTAssertEqual(writer["ppid"]?.intValue, rootPID)
    XCTAssertEqual(writer["exit"]?["code"]?.intValue, 3)
    XCTAssertEqual(writer["reaped_by"]?.intValue, rootPID, "waitpid in the parent reaped it")
    XCTAssertEqual(zombie["ppid"]?.intValue, rootPID)
    XCTAssertEqual(zombie["reaped_by"]?.intValue, observer, "never reaped by its parent: adopted and reaped")
    let pipe = try XCTUnwrap(facts["pipes"]?.arrayValue?.first)
    let uses = pipe["uses"]?.arrayValue ?? []
    XCTAssertTrue(
      uses.contains { $0["pid"]?.intValue == writer["pid"]?.intValue && $0["wrote"]?.intValue == 11 })
    XCTAssertTrue(
      uses.contains {
        $0["pid"]?.intValue == rootPID && $0["read"]?.intValue == 11 && $0["saw_eof"]?.boolValue == true
      })
    let leaks = facts["leaked_descriptors"]?.arrayValue ?? []
    XCTAssertTrue(
      leaks.contains { $0["pid"]?.intValue == rootPID && $0["target"]?.stringValue == "/dev/null" })
    XCTAssertEqual(facts["output"]?.stringValue, "read 11 bytes, child status 3\n")
    crossCheck(facts, try strace(path))

    let text = ProcLabBinary.text("observe \(path)").stdout
    XCTAssertTrue(text.contains("was never reaped by"), text)
    XCTAssertTrue(text.contains("│ read 11 bytes"), "the program's output is marked as its own")
    XCTAssertTrue(text.contains("5 /dev/null — openat in"), text)
  }

  /// Learner 11: one clock reading per event (the tree's "clone at" and "exited at" are the
  /// times the call list shows for clone and exit_group), and the zombies of one parent in one sentence.
  func testTreeAndCallListAgreeOnTimesAndZombiesOfOneParentAreOneSentence() throws {
    let path = try build("nowait", Self.nowait)
    _ = try observe(path)  // skips where ptrace is not permitted
    let text = ProcLabBinary.text("observe \(path)").stdout
    let lines = text.split(separator: "\n").map(String.init)
    let nodes = lines.filter { $0.contains("─ ") && $0.contains("clone at") }
    let children = nodes.compactMap { $0.firstMatch(of: /─ ([0-9]+)\s/).flatMap { Int($0.1) } }
    XCTAssertEqual(children.count, 3, text)
    for (pid, node) in zip(children, nodes) {
      let created = try XCTUnwrap(node.firstMatch(of: /clone at ([0-9.]+ [mµn]?s)/)?.1, node)
      XCTAssertTrue(
        lines.contains { $0.trimmed().hasPrefix("\(created)  clone(") && $0.hasSuffix("= \(pid)") },
        "clone of \(pid) at \(created) in the call list:\n\(text)")
      let exited = try XCTUnwrap(node.firstMatch(of: /exited 0 at ([0-9.]+ [mµn]?s)/)?.1, node)
      // The child's own list: its heading, then its calls up to the next heading.
      let heading = try XCTUnwrap(
        lines.firstIndex { $0.hasPrefix("  \(pid) ") && $0.contains("calls") }, text)
      let own = lines[(heading + 1)...].prefix { $0.hasPrefix("      ") }
      XCTAssertTrue(
        own.contains { $0.trimmed() == "\(exited)  exit_group(0)" }, "exit of \(pid) at \(exited):\n\(text)")
    }
    let zombies = lines.filter { $0.contains("never reaped by") }
    XCTAssertEqual(zombies.count, 1, text)
    XCTAssertTrue(
      zombies.first?.contains("children \(children[0]), \(children[1]) and \(children[2])") == true, text)
  }

  func testThreadsAreSeenWithTheirOwnTIDsAndMatchStrace() throws {
    let path = try build("threads", Self.threads)
    let facts = try observe(path)
    let threads = try XCTUnwrap(facts["threads"]?.arrayValue)
    XCTAssertEqual(threads.count, 2)
    let pid = facts["processes"]?.arrayValue?.first?["pid"]?.intValue
    XCTAssertTrue(threads.allSatisfy { $0["pid"]?.intValue == pid && $0["tid"]?.intValue != pid })
    XCTAssertTrue(threads.allSatisfy { $0["ended_ns"]?.intValue != nil }, "both were joined before exit")
    XCTAssertEqual(facts["output"]?.stringValue, "counter = 200000\n")
    crossCheck(facts, try strace(path))
  }

  func testExecAndOrphansMatchStrace() throws {
    let path = try build("execer", Self.execer)
    let facts = try observe(path)
    let processes = try XCTUnwrap(facts["processes"]?.arrayValue)
    XCTAssertEqual(processes.count, 4)
    XCTAssertEqual(processes[1]["exec"]?.arrayValue?.compactMap(\.stringValue), ["echo", "hi", "there"])
    let grandchild = processes[3]
    XCTAssertEqual(grandchild["ppid"]?.intValue, processes[2]["pid"]?.intValue)
    XCTAssertEqual(grandchild["reaped_by"]?.intValue, facts["observer"]?.intValue, "the orphan was adopted")
    XCTAssertEqual(facts["output"]?.stringValue, "hi there\n")
    crossCheck(facts, try strace(path))
    let text = ProcLabBinary.text("observe \(path)").stdout
    XCTAssertTrue(text.contains("outlived its parent"), text)
  }

  static let sleepers = """
    #include <signal.h>
    #include <stdio.h>
    #include <unistd.h>
    static void caught(int s) { (void)s; }
    int main(void) {
      struct sigaction sa = {0};
      sa.sa_handler = caught;
      sigaction(SIGUSR1, &sa, 0);
      if (fork() == 0) { usleep(20000); kill(getppid(), SIGUSR1); _exit(0); }
      int first = usleep(400000);
      int second = usleep(400000);
      printf("%d %d\\n", first, second);
      return 0;
    }
    """

  /// Under ptrace the kernel delivers even signals a program ignores (kernel/signal.c,
  /// sig_ignored); observe says so instead of reporting the tracer's side effect as the program's.
  func testASignalTheProgramIgnoresIsSaidToBeDeliveredOnlyBecauseOfTheTracer() throws {
    let path = try build("sleepers", Self.sleepers)
    let facts = try observe(path)
    let signals = facts["signals"]?.arrayValue ?? []
    let usr1 = try XCTUnwrap(signals.first { $0["signal"]?.stringValue == "SIGUSR1" })
    let chld = try XCTUnwrap(signals.first { $0["signal"]?.stringValue == "SIGCHLD" })
    XCTAssertEqual(usr1["only_because_traced"]?.boolValue, false, "a handler catches SIGUSR1")
    XCTAssertEqual(chld["only_because_traced"]?.boolValue, true, "SIGCHLD's default action is to ignore it")
    // The handled signal cut the first sleep short (EINTR, -1); untraced as traced.
    XCTAssertEqual(facts["output"]?.stringValue, "-1 0\n")
    let text = ProcLabBinary.text("observe \(path)").stdout.replacing("\n               ", with: " ")
    XCTAssertTrue(text.contains("interrupted by SIGUSR1; after its handler the call fails with EINTR"), text)
    XCTAssertTrue(
      text.contains("the program ignores SIGCHLD: it was delivered only because the program is traced"), text)
  }

  func testACrashNamesTheSignalAndTheAddress() throws {
    let path = try build("crash", Self.crash)
    let facts = try observe(path)
    let root = try XCTUnwrap(facts["processes"]?.arrayValue?.first)
    XCTAssertEqual(root["exit"]?["signal"]?.stringValue, "SIGSEGV")
    let segv = facts["signals"]?.arrayValue?.first { $0["signal"]?.stringValue == "SIGSEGV" }
    XCTAssertEqual(segv?["fault_address"]?.stringValue, "0x10")
    XCTAssertEqual(facts["output"]?.stringValue, "about to crash\n")
    crossCheck(facts, try strace(path))
  }

  func testADescriptorTheDecoderDoesNotModelIsStillFoundOpenAtExit() throws {
    let path = try build(
      "eventfd",
      """
      #include <sys/eventfd.h>
      #include <unistd.h>
      int main(void) { int fd = eventfd(0, 0); (void)fd; if (fork() == 0) _exit(0); return 0; }
      """)
    let facts = try observe(path)
    let leaks = facts["leaked_descriptors"]?.arrayValue ?? []
    let pids = Set(leaks.compactMap { $0["pid"]?.intValue })
    XCTAssertEqual(pids.count, 2, "the program and its child (which inherited it) held the eventfd: \(leaks)")
    XCTAssertTrue(leaks.allSatisfy { ($0["target"]?.stringValue ?? "").contains("eventfd") }, "\(leaks)")
  }

  func testTheTimeoutKillsTheWholeTreeEvenOutsideItsGroup() throws {
    let path = try build(
      "daemon",
      """
      #include <stdio.h>
      #include <unistd.h>
      int main(void) {
        if (fork() == 0) { setsid(); if (fork() == 0) { for (;;) pause(); } _exit(0); }
        for (;;) pause();
      }
      """)
    let facts = try observe(path, "--timeout 0.5")
    XCTAssertEqual(facts["timed_out"]?.boolValue, true)
    let pids = (facts["processes"]?.arrayValue ?? []).compactMap { $0["pid"]?.intValue }
    XCTAssertEqual(pids.count, 3)
    for pid in pids { XCTAssertFalse(processExists(Int32(pid)), "\(pid) was left behind") }
  }

  func testFromAFileObserveNeedsAllowExec() throws {
    let file = NSTemporaryDirectory() + "proclab-observe-\(getpid()).txt"
    try "observe /bin/true\n".write(toFile: file, atomically: true, encoding: .utf8)
    defer { unlink(file) }
    let refused = ProcLabBinary.run(["run", file])
    XCTAssertTrue(refused.stdout.contains("needs --allow-exec"), refused.stdout)
    let allowed = ProcLabBinary.run(["run", "--allow-exec", file])
    XCTAssertTrue(allowed.stdout.contains("observe /bin/true: 1 process"), allowed.stdout + allowed.stderr)
  }

  func testWhenPtraceIsRefusedOneLineSaysWhy() throws {
    // A process has one tracer: under strace, observe's PTRACE_SEIZE is refused (EPERM).
    let strace: String
    do { strace = try CPrograms.strace() } catch let u as CPrograms.Unavailable { throw XCTSkip(u.reason) }
    let (_, output) = CPrograms.run(
      strace, ["-f", "-qq", "-o", "/dev/null", ProcLabBinary.path, "-c", "observe /bin/true"])
    let line = output.split(separator: "\n").first { $0.contains("observe:") }
    XCTAssertNotNil(line, output)
    XCTAssertTrue(line?.contains("ptrace is not permitted here (EPERM)") ?? false, output)
  }
}
