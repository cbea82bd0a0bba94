import Foundation
import ProcLabKit
import XCTest

/// The man page's shell-command sections and `proclab -c`'s shell completion come
/// from the registry `help` and Tab read, so they cannot fall behind it.
final class ManualAndCompletionTests: XCTestCase {
  func testManualListsEveryCommandWithItsUsageAndOptions() {
    let page = ManualPage.sections()
    let lines = page.split(separator: "\n").map(String.init)
    for c in Catalog.registry.commands {
      XCTAssertTrue(lines.contains(".It Sy \"\(roff(c.usage))\""), "\(c.name) is missing from the manual")
      for row in c.options.flatMap(\.rows) {
        XCTAssertTrue(
          page.contains(".It Li \"\(roff(row.label))\""), "\(c.name) \(row.label) is missing from the manual")
      }
    }
    XCTAssertEqual(
      lines.filter { $0.hasPrefix(".Bl") }.count, lines.filter { $0 == ".El" }.count, "every list is closed")
    XCTAssertFalse(lines.contains { $0.hasPrefix("'") }, "no line starts with roff's other control character")
    XCTAssertFalse(lines.contains { $0.isEmpty }, "blank lines are not mdoc")
    XCTAssertTrue(page.unicodeScalars.allSatisfy(\.isASCII), "non-ASCII is escaped")
  }

  /// What the page's text is: roff escapes for `\`, `-` and non-ASCII (`…` is `\[u2026]`).
  private func roff(_ s: String) -> String {
    s.unicodeScalars.map { u in
      if u == "\\" { return "\\e" }
      if u == "-" { return "\\-" }
      if u.isASCII { return String(u) }
      let hex = String(u.value, radix: 16, uppercase: true)
      return "\\[u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex + "]"
    }.joined()
  }

  /// groff, which man(1) runs, reads the sections without a warning (when it is installed).
  func testGroffReadsTheManualWithoutWarnings() throws {
    let candidates: [String] = ["/usr/bin/groff", "/bin/groff"]
    guard let groff = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
      throw XCTSkip("groff is not installed")
    }
    let page =
      ".Dd November 30, 2026\n.Dt PROCLAB 1\n.Os\n.Sh NAME\n.Nm proclab\n.Nd a learning shell\n"
      + ManualPage.sections()
    let process = Process()
    process.executableURL = URL(fileURLWithPath: groff)
    process.arguments = ["-mandoc", "-Tutf8", "-ww", "-z"]
    let input = Pipe()
    let errors = Pipe()
    process.standardInput = input
    process.standardError = errors
    try process.run()
    input.fileHandleForWriting.write(Data(page.utf8))
    try input.fileHandleForWriting.close()
    let warnings = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    XCTAssertEqual(process.terminationStatus, 0)
    XCTAssertEqual(warnings, "", "groff warned")
  }

  func testDashCCompletesTheShellsVerbsAndOptionsInsideTheQuotes() {
    let session = Session()
    XCTAssertEqual(Completer.commandString("'race --th", session: session), ["race --threads"])
    XCTAssertEqual(Completer.commandString("\"race --th", session: session), ["race --threads"])
    XCTAssertTrue(Completer.commandString("sp", session: session).contains("spawn"))
    XCTAssertEqual(
      Set(Completer.commandString("'spawn 2; ra", session: session)), ["spawn 2; race"],
      "after ';' a new command starts")
    XCTAssertEqual(
      Completer.commandString("'", session: session).count, Catalog.registry.allNames.count,
      "an empty line offers every name")
    XCTAssertEqual(Completer.commandString("'nosuchverb --", session: session), [])
  }
}
