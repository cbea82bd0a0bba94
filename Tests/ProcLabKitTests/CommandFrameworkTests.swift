import ProcLabKit
import XCTest

final class CommandFrameworkTests: XCTestCase {
  enum Mode: Equatable, Sendable { case plain, lock, atomic }

  struct SampleOptions: CommandOptions {
    var count = 1
    var threads = 2
    var mode = Mode.plain
    var verbose = false
    var program: [String]?
    var signal = SignalValue(15)

    static var declarations: [OptionDeclaration<Self>] {
      [
        .positional("count", \.count, "N", in: 1...64, "how many"),
        .value("--threads", \.threads, "N", in: 1...64, "threads"),
        .choice(
          "mode", \.mode, [("--lock", .lock, "lock"), ("--atomic", .atomic, "atomic")], unchosen: "plain"),
        .flag("--verbose", aliases: ["-v-long"], \.verbose, "say more"),
        .value("--signal", \.signal, "SIG", "which signal"),
        .rest("--exec", \.program, "PROGRAM ARGS...", "run"),
      ]
    }
  }

  static let sample = Command(
    name: "sample", aliases: ["smp"], area: .shell, summary: "a test command", options: SampleOptions.self
  ) { _, _ in Report() }

  func parse(_ line: String) throws -> SampleOptions {
    try OptionParser.parse(Array(line.split(separator: " ").map(String.init).dropFirst()), command: "sample")
  }

  func message(_ line: String) -> String? {
    do {
      _ = try parse(line)
      return nil
    } catch { return (error as? UsageError)?.message }
  }

  func testOptionsAndPositionalsAreParsedIntoTypedValues() throws {
    let o = try parse("sample 3 --threads 4 --lock")
    XCTAssertEqual(o.count, 3)
    XCTAssertEqual(o.threads, 4)
    XCTAssertEqual(o.mode, .lock)
    XCTAssertFalse(o.verbose)
    XCTAssertEqual(try parse("sample --threads=8").threads, 8)
    XCTAssertEqual(try parse("sample").threads, 2, "an option left out has its declared default")
  }

  func testTheUsageLineAndHelpComeFromTheDeclarations() {
    XCTAssertEqual(
      Self.sample.usage,
      "sample [N] [--threads N] [--lock | --atomic] [--verbose] [--signal SIG] [--exec PROGRAM ARGS...]")
    let rows = Self.sample.options.flatMap(\.rows)
    XCTAssertEqual(rows.first { $0.label == "--threads N" }?.help, "threads (1…64, default 2)")
    XCTAssertEqual(rows.first { $0.label == "N" }?.help, "how many (1…64, default 1)")
    XCTAssertEqual(
      rows.map(\.label).filter { $0.hasPrefix("--lock") || $0 == "--atomic" }, ["--lock", "--atomic"])
  }

  func testOutOfRangeValuesSayWhatWorks() {
    XCTAssertEqual(message("sample 100000"), "sample: count must be 1…64, got 100000")
    XCTAssertEqual(message("sample --threads -3"), "sample: --threads must be 1…64, got -3")
    XCTAssertEqual(message("sample lots"), "sample: count must be a whole number, got 'lots'")
    XCTAssertEqual(message("sample --threads"), "sample: --threads needs a value (--threads N)")
  }

  func testUnknownOptionsAndConflictsAreRefused() {
    XCTAssertEqual(
      message("sample --thread 3"),
      "sample: unknown option --thread — did you mean --threads? (usage: \(Self.sample.usage))")
    XCTAssertEqual(
      message("sample --lock --atomic"), "sample: --lock and --atomic cannot be used together; choose one")
    XCTAssertNil(message("sample --lock --lock"), "the same flag twice is no conflict")
    XCTAssertEqual(message("sample 1 2"), "sample: unexpected '2'; usage: \(Self.sample.usage)")
    XCTAssertEqual(
      message("sample --verbose=yes"), "sample: --verbose takes no value; usage: \(Self.sample.usage)")
  }

  func testARestOptionTakesEveryRemainingWord() throws {
    let o = try parse("sample 2 --exec /bin/echo --lock hi")
    XCTAssertEqual(o.program, ["/bin/echo", "--lock", "hi"])
    XCTAssertEqual(o.mode, .plain, "--lock after --exec belongs to the program")
  }

  func testCommandsThatMeanTheSameParseToTheSameForm() throws {
    func parsed(_ line: String) throws -> ParsedCommand { try Self.sample.parse(line: line).parsed }
    XCTAssertTrue(try parsed("sample --lock --threads 4").means(parsed("sample --threads 4 --lock")))
    XCTAssertTrue(try parsed("sample").means(parsed("sample 1 --threads 2")), "defaults filled in")
    XCTAssertTrue(try parsed("sample --signal SIGSTOP").means(parsed("sample --signal 19")))
    XCTAssertTrue(try parsed("sample --signal stop").means(parsed("sample --signal STOP")))
    XCTAssertFalse(try parsed("sample --lock").means(parsed("sample --atomic")))
    XCTAssertTrue(
      try parsed("sample --threads 9").means(parsed("sample --threads 3"), ignoring: ["threads"]),
      "a lesson can leave an option free")
    XCTAssertEqual(
      try parsed("sample --threads 2 --signal 19 --lock").canonicalLine, "sample --lock --signal STOP")
  }

  func testTheEffectiveOptionsAreEchoedInJSON() throws {
    let session = Session()
    session.settings.json = true
    var printed: [String] = []
    session.write = { printed.append($0) }
    session.execute(line: "race --iterations 10 --lock --threads 1")
    let options = try XCTUnwrap(JSON.parse(try XCTUnwrap(printed.first))?["options"])
    XCTAssertEqual(options["threads"]?.intValue, 1)
    XCTAssertEqual(options["iterations"]?.intValue, 10)
    XCTAssertEqual(options["only"]?.stringValue, "lock")
  }

  func testControlCharactersInBadInputAreEscaped() {
    XCTAssertEqual(Printable.word("a\u{1B}[31mb"), "a\\x1b[31mb")
    XCTAssertEqual(Printable.line("x\u{202E}y\u{9B}"), "x\\u{202e}y\\u{9b}")
    XCTAssertTrue(Printable.word(String(repeating: "x", count: 500)).count < 50)
  }

  func testTheRegistryFindsNamesAndAliasesAndSuggestsTypos() {
    let registry = Registry([
      Self.sample, Command(name: "spawn", area: .processes, summary: "") { _ in Report() },
    ])
    XCTAssertEqual(registry.command(named: "smp")?.name, "sample")
    XCTAssertEqual(registry.suggestion(for: "spwn"), "spawn")
    XCTAssertEqual(registry.suggestion(for: "sapwn"), "spawn")
    XCTAssertEqual(registry.suggestion(for: "SPAWN"), "spawn")
    XCTAssertNil(registry.suggestion(for: "xyzzy"))
    XCTAssertNil(
      Catalog.registry.suggestion(for: "e"), "one letter is no typo of anything: no 'did you mean ?'")
  }

  func testCompletionOffersCommandsThenOptionsThenValues() {
    let session = Session()
    XCTAssertEqual(Completer.complete(before: "", word: "he", session: session), .words(["help"]))
    XCTAssertEqual(Completer.complete(before: "info; ", word: "his", session: session), .words(["history"]))
    XCTAssertEqual(Completer.complete(before: "trace ", word: "--s", session: session), .words(["--summary"]))
    XCTAssertEqual(Completer.complete(before: "set ", word: "ex", session: session), .words(["explain"]))
    XCTAssertEqual(Completer.complete(before: "help ", word: "inf", session: session), .words(["info"]))
    XCTAssertEqual(
      Completer.complete(before: "race --threads 2 ", word: "--ra", session: session), .words(["--racy"]))
    XCTAssertEqual(Completer.complete(before: "kill 12 ", word: "ST", session: session), .words(["STOP"]))
  }

  func testAnUnknownCommandFailsWithOneLine() {
    let session = Session()
    var printed: [String] = []
    session.write = { printed.append($0) }
    let outcome = session.execute(line: "hepl")
    XCTAssertEqual(outcome.first?.succeeded, false)
    XCTAssertEqual(printed, ["unknown command 'hepl' — did you mean 'help'?"])
  }
}
