import Foundation
import Glibc
import ProcLabKit
import TestSupport
import XCTest

/// Every command family, run by the real binary at 80 columns: under a pipe with COLUMNS=80
/// and at a pseudo-terminal 80 columns wide. No line may be wider than the terminal (a table
/// adapts, prose wraps at word boundaries) and no number may end a line whose next line
/// starts with its unit (nor `pid`/`fd` end one whose next starts with their number).
final class LayoutEndToEndTests: XCTestCase {
  static let columns = 80
  var state = ""

  override func setUp() {
    state = NSTemporaryDirectory() + "proclab-layout-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
  }
  override func tearDown() { try? FileManager.default.removeItem(atPath: state) }

  /// Each group runs in one `proclab -c`; iteration counts are small so all of it takes seconds.
  static let groups: [String] = [
    "spawn 2 --hold 1; ps; wait all",
    "spawn --no-reap; ps; wait; spawn 2 --fork",
    "memory; memory --threads; files; files --offset; orphan",
    "thread 3; thread 2 --fork; race --iterations 20000",
    "race --schedule 't1:load t2:load t1:store t2:store' --iterations 1000",
    "lock --rounds 1 --hold 2; lock --try --rounds 1 --hold 2; lock --processes --rounds 1 --hold 2",
    "lock --impl all --turns 2000 --ms 50; lock --impl peterson --no-fence --turns 2000 --ms 50",
    "rwlock --rounds 1 --hold 2; rwlock --starve --for 60",
    "condvar --items 2000; condvar --if --items 2000 --timeout 300",
    "condvar --lost-wakeup --items 2000 --timeout 300",
    "semaphore --rounds 1 --hold 2; semaphore --rendezvous --rounds 1; semaphore --join",
    "barrier --rounds 1 --work 1; barrier --pthread --rounds 1 --work 1",
    "counter --increments 10000; counter --packed --increments 100000; counter --sloppy 100 --increments 10000",
    "bugs --checks 1000; bugs --order --rounds 3; bugs --fixed --checks 1000",
    "io --tasks 4 --wait 5; io --sweep --tasks 100 --wait 5",
    "parallel --work 20; parallel --processes 2 --work 20; parallel --gil --work 20",
    "cost --iterations 20; cost --iterations 10 --parent-size 4M",
    "switch --iterations 200; switch --iterations 200 --working-set 16K",
    "pipe --bytes 64K --rounds 20; pipe --pipeline; pipe --fill; pipe --interleave",
    "pipe --pipeline --leave-open; fifo --bytes 64K; socket --bytes 64K; mq",
    "shm; shm --no-sync --iterations 10000; shm --lock --iterations 10000; shm --private",
    "signal USR1; signal USR1 --handler; signal USR1 --block; signal --merge",
    "signal --threads; signal --no-reader; signal --auto-reap; ipc compare",
    "crash; crash --in-thread --threads 2; crash --in-thread --handled --threads 2; crash --clone-vm",
    "deadlock --pause 5 --timeout 300; deadlock --ordered --pause 5; deadlock --trylock --pause 5",
    "set trace on; spawn 1; pipe --rounds 2 --bytes 1K; set trace off; trace; trace --summary; explain",
    "lessons; info; exercises; history; observe /bin/true; observe --all /bin/true",
  ]

  func testEveryCommandFamilyFitsEightyColumnsUnderAPipe() {
    // Help for every command and area, and every explain topic.
    let refused = ProcLabBinary.text("explain nonsense", strict: false)
    let topicsLine = refused.stdout + refused.stderr
    let topics =
      topicsLine.components(separatedBy: "topics: ").last?
      .split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\n" }).map(String.init) ?? []
    XCTAssertGreaterThan(topics.count, 5, topicsLine)
    let areas = [
      "shell", "processes", "threads", "synchronization", "ipc", "failure", "measurement", "programs",
    ]
    let help =
      "help; "
      + (Catalog.commands.map(\.name) + areas).map { "help \($0)" }.joined(separator: "; ")
    let explain = topics.map { "explain \($0)" }.joined(separator: "; ")
    var checked = 0
    for group in Self.groups + [help, explain] {
      let run = ProcLabBinary.run(
        ["-c", group], environment: ["COLUMNS": "\(Self.columns)", "XDG_STATE_HOME": state])
      XCTAssertEqual(run.status, 0, "\(group):\n\(run.stdout)\n\(run.stderr)")
      let lines = (run.stdout + run.stderr).split(separator: "\n", omittingEmptySubsequences: false).map(
        String.init)
      checked += lines.count
      for problem in Self.problems(lines, columns: Self.columns) { XCTFail("\(group): \(problem)") }
    }
    XCTAssertGreaterThan(checked, 1500, "every family printed its report")
  }

  /// The program's own --help (argument-parser's text, its USAGE line wrapped by proclab) and a
  /// usage error's message.
  func testTheProgramsHelpFitsEightyColumns() {
    let subcommands = ["", "check", "replay", "record", "lesson"]
    for sub in subcommands {
      let arguments = (sub.isEmpty ? [] : [sub]) + ["--help"]
      let run = ProcLabBinary.run(arguments, environment: ["COLUMNS": "\(Self.columns)"])
      XCTAssertEqual(run.status, 0, "\(arguments): \(run.stderr)")
      XCTAssertTrue(run.stdout.contains("USAGE: proclab"), run.stdout)
      let lines = run.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
      for problem in Self.problems(lines, columns: Self.columns) { XCTFail("\(arguments): \(problem)") }
    }
    let wrong = ProcLabBinary.run(["--no-such-option"], environment: ["COLUMNS": "\(Self.columns)"])
    XCTAssertEqual(wrong.status, 64, "a usage error exits EX_USAGE")
    XCTAssertTrue(wrong.stderr.contains("Unknown option '--no-such-option'"), wrong.stderr)
    let lines = wrong.stderr.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    for problem in Self.problems(lines, columns: Self.columns) { XCTFail("usage error: \(problem)") }
  }

  func testEveryKindOfOutputFitsAnEightyColumnTerminal() throws {
    let shell = try TerminalSession(environment: ["XDG_STATE_HOME": state], columns: Self.columns)
    XCTAssertTrue(shell.waitFor("proclab> "), shell.screen)
    func run(_ command: String, prompt: String = "proclab> ") {
      let mark = shell.mark
      shell.type(command + "\r")
      XCTAssertTrue(shell.waitFor(prompt, after: mark, timeout: 60), "\(command): \(shell.screen)")
    }
    run("spawn 2 --hold 30")
    let children = ProcFS.children(of: shell.pid)
    XCTAssertEqual(children.count, 2, shell.screen)
    run("ps")
    for child in children { run("kill \(child)") }
    run("wait all")
    for command in [
      "help", "help ipc", "help lock", "lock --impl all --turns 2000 --ms 50",
      "io --sweep --tasks 100 --wait 5",
      "cost --iterations 20", "thread 3", "crash", "set trace on", "spawn 1", "set trace off", "explain",
    ] {
      run(command)
    }
    // Ctrl-C during a command with a progress line: the message starts a clean line.
    var mark = shell.mark
    shell.type("io --serial --tasks 40 --wait 200\r")
    XCTAssertTrue(shell.waitFor("%", after: mark), "a progress line: \(shell.screen[mark...])")
    shell.type("\u{03}")
    XCTAssertTrue(shell.waitFor("proclab> ", after: mark), shell.screen)
    // Leaving a lesson and the shell: where progress is saved, wrapped at a word.
    run("lesson 1", prompt: "]> ")
    mark = shell.mark
    shell.type("quit\r")
    XCTAssertEqual(shell.waitForExit(), .exited(0))
    XCTAssertTrue(shell.screen[mark...].contains("Bye."), shell.screen)

    var terminal = VirtualTerminal(columns: Self.columns)
    terminal.feed(shell.screen)
    XCTAssertEqual(terminal.overflows, [], "lines the terminal had to wrap")
    for problem in Self.problems(terminal.lines, columns: Self.columns) { XCTFail(problem) }
    let interrupted = terminal.lines.filter { $0.contains("interrupted (Ctrl-C)") }
    XCTAssertEqual(interrupted.count, 1, terminal.lines.suffix(40).joined(separator: "\n"))
    XCTAssertTrue(
      interrupted.allSatisfy { $0.hasPrefix("io: interrupted") },
      "the progress line was erased first: \(interrupted)")
    let saved = terminal.lines.firstIndex { $0.contains("progress is saved in") }
    XCTAssertNotNil(saved, terminal.lines.suffix(10).joined(separator: "\n"))
    XCTAssertGreaterThan(terminal.lines.count, 300, "every command printed its report")
  }

  /// The checks above can fail: what the learner saw before the fixes is caught.
  func testTheChecksCatchWhatALearnerSawBefore() {
    var terminal = VirtualTerminal(columns: 80)
    terminal.feed("proclab> io\r\n\r\u{1B}[2Kio serial [····] 0%^Cio: interrupted; everything it started\r\n")
    XCTAssertEqual(terminal.lines[1], "io serial [····] 0%^Cio: interrupted; everything it started")
    terminal.feed(
      "\r\u{1B}[2Kio serial [··] 5%\r\u{1B}[2Kio: interrupted\r\n" + String(repeating: "x", count: 80)
        + "\r\n")
    XCTAssertEqual(terminal.lines[2], "io: interrupted", "an erased progress line leaves nothing behind")
    XCTAssertEqual(terminal.overflows, [], "80 characters fit in 80 columns")
    terminal.feed(String(repeating: "進", count: 40) + "y\r\n")
    XCTAssertEqual(terminal.overflows.count, 1, "the 81st column wraps")
    let apart = Self.problems(["the round trip took 264", "  ms; then pid", "  4711 exited"], columns: 80)
    XCTAssertEqual(apart.count, 2, "\(apart)")
  }

  static let units: Set<String> = [
    "ns", "µs", "us", "ms", "s", "B", "KiB", "MiB", "GiB", "%", "M/s", "MiB/s", "GiB/s", "bytes", "cores",
  ]

  /// Lines wider than `columns`, and a number or `pid`/`fd` broken from what belongs to it.
  static func problems(_ lines: [String], columns: Int) -> [String] {
    var out: [String] = []
    for line in lines where DisplayWidth.columns(line) > columns {
      out.append("\(DisplayWidth.columns(line)) columns: \(line)")
    }
    for (a, b) in zip(lines, lines.dropFirst()) {
      guard let last = a.split(separator: " ").last, let first = b.split(separator: " ").first else {
        continue
      }
      let lastWord = Style.stripped(String(last))
      let firstWord = Style.stripped(String(first))
      let unit = String(firstWord.prefix { !",;:.)".contains($0) })
      if lastWord.last?.isNumber == true && lastWord.first?.isNumber == true && units.contains(unit) {
        out.append("a number apart from its unit:\n\(a)\n\(b)")
      }
      if ["pid", "fd", "(pid", "(fd"].contains(lastWord) && firstWord.first?.isNumber == true {
        out.append("\(lastWord) apart from its number:\n\(a)\n\(b)")
      }
    }
    return out
  }
}

/// What a terminal of `columns` columns shows for the bytes a program wrote: `\r` returns to
/// the first column, `\n` goes down, `ESC[K` erases, `\b` and `ESC[nC`/`ESC[nD` move, a
/// character takes its display width. A character that would pass the last column is where a
/// real terminal wraps the line on its own: that is recorded as an overflow.
struct VirtualTerminal {
  let columns: Int
  private var rows: [[String]] = [[]]
  private var row = 0
  private var column = 0
  private(set) var overflows: [String] = []

  init(columns: Int) { self.columns = columns }

  /// The rows as shown, trailing spaces removed.
  var lines: [String] {
    rows.map { $0.joined().trimmingCharacters(in: .whitespaces) == "" ? "" : trimmedRight($0.joined()) }
  }

  private func trimmedRight(_ s: String) -> String {
    var t = s
    while t.last == " " { t.removeLast() }
    return t
  }

  mutating func feed(_ text: String) {
    var scalars = Array(text.unicodeScalars)[...]
    while let s = scalars.popFirst() {
      switch s {
      case "\r": column = 0
      case "\n": newline()
      case "\u{08}": column = max(0, column - 1)
      case "\u{07}": break
      case "\t": column = min(columns - 1, (column / 8 + 1) * 8)
      case "\u{1B}": escape(&scalars)
      default:
        let width = DisplayWidth.columns(s)
        if width == 0 {
          if column > 0 { put(String(s), at: column - 1, append: true) }
          continue
        }
        if column + width > columns {
          overflows.append(rows[row].joined() + String(s))
          newline()
          column = 0
        }
        put(String(s), at: column, append: false)
        if width == 2 { put("", at: column + 1, append: false) }
        column += width
      }
    }
  }

  private mutating func newline() {
    row += 1
    if row == rows.count { rows.append([]) }
    column = 0
  }

  private mutating func put(_ cell: String, at index: Int, append: Bool) {
    while rows[row].count <= index { rows[row].append(" ") }
    if append { rows[row][index] += cell } else { rows[row][index] = cell }
  }

  /// CSI sequences that move or erase on the current row; every other escape is skipped.
  private mutating func escape(_ scalars: inout ArraySlice<Unicode.Scalar>) {
    guard let kind = scalars.popFirst() else { return }
    if kind == "]" {  // OSC, to BEL or ST
      while let s = scalars.popFirst(), s != "\u{07}", s != "\u{1B}" {}
      return
    }
    guard kind == "[" else { return }
    var parameter = ""
    while let s = scalars.popFirst() {
      if (0x40...0x7E).contains(s.value) {
        let n = Int(parameter.filter(\.isNumber)) ?? 0
        switch s {
        case "K":
          if n == 2 { rows[row] = [] } else if n == 0 { rows[row] = Array(rows[row].prefix(column)) }
        case "C": column = min(columns - 1, column + max(1, n))
        case "D": column = max(0, column - max(1, n))
        case "G": column = max(0, min(columns - 1, max(1, n) - 1))
        case "A": row = max(0, row - max(1, n))
        default: break
        }
        return
      }
      parameter.unicodeScalars.append(s)
    }
  }
}
