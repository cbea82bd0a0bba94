import ProcLabKit
import XCTest

final class CommandFrameworkTests: XCTestCase {
  static let sample = Command(
    name: "sample", aliases: ["smp"], area: .shell, summary: "a test command",
    usage: "sample [N] [--lock | --atomic] [--threads N]",
    options: [
      .init("--lock", "lock"), .init("--atomic", "atomic"), .init("--threads", value: "N", "threads"),
      .init("--exec", value: "PROGRAM", "run", takesRest: true),
    ]
  ) { _, _ in Report() }

  func testOptionsAndPositionalsAreParsed() throws {
    let args = try Arguments(testing: Self.sample, "sample 3 --threads 4 --lock")
    XCTAssertEqual(try args.positionalInt(0, named: "count", default: 1, in: 1...64), 3)
    XCTAssertEqual(try args.int("--threads", default: 2, in: 1...64), 4)
    XCTAssertTrue(args.flag("--lock"))
    XCTAssertFalse(args.flag("--atomic"))
    XCTAssertEqual(
      try Arguments(testing: Self.sample, "sample --threads=8").int("--threads", default: 2, in: 1...64), 8)
  }

  func testOutOfRangeValuesSayWhatWorks() throws {
    let args = try Arguments(testing: Self.sample, "sample 100000 --threads -3")
    XCTAssertThrowsError(try args.positionalInt(0, named: "count", default: 1, in: 1...64)) {
      XCTAssertEqual(($0 as? UsageError)?.message, "sample: count must be 1…64, got 100000")
    }
    XCTAssertThrowsError(try args.int("--threads", default: 2, in: 1...64)) {
      XCTAssertEqual(($0 as? UsageError)?.message, "sample: --threads must be 1…64, got -3")
    }
    let words = try Arguments(testing: Self.sample, "sample lots")
    XCTAssertThrowsError(try words.positionalInt(0, named: "count", default: 1, in: 1...64)) {
      XCTAssertEqual(($0 as? UsageError)?.message, "sample: count must be a whole number, got 'lots'")
    }
  }

  func testUnknownOptionsAndConflictsAreRefused() throws {
    XCTAssertThrowsError(try Arguments(testing: Self.sample, "sample --fast")) {
      XCTAssertEqual(
        ($0 as? UsageError)?.message,
        "sample: unknown option --fast; usage: sample [N] [--lock | --atomic] [--threads N]")
    }
    let both = try Arguments(testing: Self.sample, "sample --lock --atomic")
    XCTAssertThrowsError(try both.exclusive("--lock", "--atomic")) {
      XCTAssertEqual(
        ($0 as? UsageError)?.message, "sample: --lock and --atomic cannot be used together; choose one")
    }
    XCTAssertThrowsError(try Arguments(testing: Self.sample, "sample --threads")) {
      XCTAssertEqual(($0 as? UsageError)?.message, "sample: --threads needs a value (--threads N)")
    }
  }

  func testARestOptionTakesEveryRemainingWord() throws {
    let args = try Arguments(testing: Self.sample, "sample 2 --exec /bin/echo --lock hi")
    XCTAssertEqual(args.rest, ["/bin/echo", "--lock", "hi"])
    XCTAssertFalse(args.flag("--lock"), "--lock after --exec belongs to the program")
  }

  func testControlCharactersInBadInputAreEscaped() {
    XCTAssertEqual(Arguments.printable("a\u{1B}[31mb"), "a\\x1b[31mb")
    XCTAssertTrue(Arguments.printable(String(repeating: "x", count: 500)).count < 50)
  }

  func testTheRegistryFindsNamesAndAliasesAndSuggestsTypos() {
    let registry = Registry([
      Self.sample, Command(name: "spawn", area: .processes, summary: "", usage: "spawn") { _, _ in Report() },
    ])
    XCTAssertEqual(registry.command(named: "smp")?.name, "sample")
    XCTAssertEqual(registry.suggestion(for: "spwn"), "spawn")
    XCTAssertEqual(registry.suggestion(for: "sapwn"), "spawn")
    XCTAssertEqual(registry.suggestion(for: "SPAWN"), "spawn")
    XCTAssertNil(registry.suggestion(for: "xyzzy"))
  }

  func testCompletionOffersCommandsThenOptions() {
    let session = Session()
    XCTAssertEqual(Completer.complete(before: "", word: "he", session: session), .words(["help"]))
    XCTAssertEqual(Completer.complete(before: "info; ", word: "his", session: session), .words(["history"]))
    XCTAssertEqual(Completer.complete(before: "trace ", word: "--s", session: session), .words(["--summary"]))
    XCTAssertEqual(Completer.complete(before: "set ", word: "ex", session: session), .words(["explain"]))
    XCTAssertEqual(Completer.complete(before: "help ", word: "inf", session: session), .words(["info"]))
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
