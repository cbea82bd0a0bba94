import ProcLabKit
import XCTest

/// The shell's own verbs, in process: typed options, help's areas, the `;` line, leaving.
final class ShellBuiltinsTests: XCTestCase {
  func session() -> (Session, () -> String) {
    let s = Session()
    var printed: [String] = []
    s.write = { printed.append($0) }
    return (s, { printed.joined(separator: "\n") })
  }

  func testTheBuiltinsParseTypedOptionsWithDefaultsFilledIn() throws {
    let registry = Catalog.registry
    let history = try XCTUnwrap(registry.command(named: "history"))
    XCTAssertEqual(try history.parse(line: "history").parsed.values["count"], .int(20), "the default")
    XCTAssertEqual(try history.parse(line: "history 5").parsed.canonicalLine, "history 5")
    XCTAssertThrowsError(try history.parse(line: "history 0")) { error in
      XCTAssertEqual((error as? UsageError)?.message, "history: count must be 1…1000, got 0")
    }
    XCTAssertEqual(history.usage, "history [N]")
    let help = try XCTUnwrap(registry.command(named: "?"), "help's alias")
    XCTAssertEqual(try help.parse(line: "help threads").parsed.values["subject"], .string("threads"))
    XCTAssertThrowsError(try help.parse(line: "help --verbose"))
    for name in ["info", "quit", "exit", "clear"] {
      let command = try XCTUnwrap(registry.command(named: name))
      XCTAssertThrowsError(try command.parse(line: "\(name) extra"), "\(name) takes nothing")
    }
  }

  func testHelpCompletesAreasAsWellAsCommands() {
    let (s, _) = session()
    XCTAssertEqual(Completer.complete(before: "help ", word: "sy", session: s), .words(["synchronization"]))
    XCTAssertEqual(
      Completer.complete(before: "help ", word: "thr", session: s), .words(["thread", "threads"]))
  }

  func testAQuitInTheMiddleOfALineEndsIt() {
    let (s, printed) = session()
    let outcomes = s.execute(line: "history; quit; info")
    XCTAssertEqual(outcomes.map(\.command), ["history", "quit"])
    XCTAssertTrue(s.wantsToQuit)
    XCTAssertFalse(printed().contains("process ID"))
  }

  func testAStopDuringACommandAbandonsTheRestOfItsLine() {
    let (s, printed) = session()
    // The progress sink runs inside `race`: pressing "Ctrl-C" there is a stop during the command.
    s.progressSink = { _ in Interrupt.request() }
    defer { Interrupt.clear() }
    let outcomes = s.execute(line: "race --threads 1 --iterations 1000; info; history")
    XCTAssertEqual(outcomes.count, 1, "info and history were not run")
    XCTAssertEqual(outcomes[0].stopSignal, Signals.interrupt)
    XCTAssertEqual(outcomes[0].notRun, ["info", "history"])
    XCTAssertTrue(printed().contains("(Ctrl-C: the rest of the line was not run: info; history)"), printed())
  }

  func testLeavingSaysWhatWasEnded() {
    let (s, _) = session()
    XCTAssertEqual(s.leave(), ["Nothing was left running.", "Bye."])
    XCTAssertEqual(s.leave(signal: Signals.terminate).first, "proclab: SIGTERM received: leaving.")
  }

  func testAnUnsplittableLineIsAFailure() {
    let (s, printed) = session()
    let outcomes = s.execute(line: "info \"")
    XCTAssertEqual(outcomes.first?.succeeded, false)
    XCTAssertTrue(s.anyFailed, "it counts for the script's exit status")
    XCTAssertTrue(printed().contains("unterminated"), printed())
  }
}
