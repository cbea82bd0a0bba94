import Foundation
import ProcLabKit
import TestSupport
import XCTest

/// proclab uses no full Foundation: its international part (ICU and its data, for locales,
/// calendars and formatting proclab never does) was three quarters of the binary. A file in
/// `Sources/` may import `FoundationEssentials` where it needs it (Codable JSON), nothing more
/// (the tests may import Foundation: they are not shipped). PACKAGING.md tells the story.
final class NoFoundationTests: XCTestCase {
  /// Modules that bring Foundation's international part (or are only reached through it).
  static let refused: Set<String> = [
    "Foundation", "FoundationInternationalization", "FoundationNetworking", "FoundationXML", "CoreFoundation",
    "_FoundationICU",
  ]

  /// The module an `import` line names (`@preconcurrency internal import struct Foundation.URL` →
  /// `Foundation`), or nil for a line that is no import.
  static func importedModule(_ line: Substring) -> String? {
    var words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })[...]
    while let first = words.first, first.hasPrefix("@") { words = words.dropFirst() }
    let modifiers: Set<Substring> = ["public", "package", "internal", "fileprivate", "private"]
    if let first = words.first, modifiers.contains(first) { words = words.dropFirst() }
    guard words.first == "import" else { return nil }
    words = words.dropFirst()
    let kinds: Set<Substring> = ["typealias", "struct", "class", "enum", "protocol", "let", "var", "func"]
    if let first = words.first, kinds.contains(first) { words = words.dropFirst() }
    guard let path = words.first else { return nil }
    return String(path.split(separator: ".").first ?? path)
  }

  func testTheImportDetectorSeesEverySpelling() {
    for line in [
      "import Foundation", "  import Foundation", "@preconcurrency import Foundation",
      "@_exported public import Foundation", "internal import Foundation", "import struct Foundation.URL",
      "import func Foundation.NSHomeDirectory", "import FoundationInternationalization",
      "@_implementationOnly import CoreFoundation", "import Foundation // a comment",
    ] {
      XCTAssertTrue(Self.refused.contains(Self.importedModule(Substring(line)) ?? ""), line)
    }
    for line in [
      "import FoundationEssentials", "internal import FoundationEssentials", "import Glibc",
      "// import Foundation",
      "/// `import Foundation` is refused", "let s = \"import Foundation\"", "importFoundation()",
    ] {
      XCTAssertFalse(Self.refused.contains(Self.importedModule(Substring(line)) ?? ""), line)
    }
  }

  func testNoSourceFileImportsFoundation() throws {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
    let sources = root.appendingPathComponent("Sources").path
    let files = try XCTUnwrap(FileManager.default.subpaths(atPath: sources)).filter { $0.hasSuffix(".swift") }
    XCTAssertGreaterThan(files.count, 100, "the source files were found in \(sources)")
    var offenders: [String] = []
    for file in files.sorted() {
      let text = try String(contentsOfFile: sources + "/" + file, encoding: .utf8)
      for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
        if let module = Self.importedModule(line), Self.refused.contains(module) {
          offenders.append("Sources/\(file):\(n + 1): \(line.trimmingCharacters(in: .whitespaces))")
        }
      }
    }
    XCTAssertEqual(
      offenders, [],
      "proclab's sources must not import Foundation (its international part is ICU, most of the binary's size): "
        + "use FoundationEssentials where needed, else the standard library, Glibc and the helpers "
        + "(Render/TextHelpers.swift, Render/NumberFormat.swift, OS/Paths.swift). Found:\n"
        + offenders.joined(separator: "\n"))
  }

  /// The binary the tests run was linked without ICU: its data, `icudtNNl`, is not in it.
  /// (Catches what the source check cannot: a dependency that starts importing Foundation.)
  func testTheBuiltBinaryCarriesNoICUData() throws {
    let binary = try Data(contentsOf: URL(fileURLWithPath: ProcLabBinary.path), options: .alwaysMapped)
    XCTAssertGreaterThan(binary.count, 1_000_000, "the binary was read")
    XCTAssertNil(
      binary.range(of: Data("icudt".utf8)),
      "\(ProcLabBinary.path) holds ICU's data (icudt…): something linked Foundation's international part")
  }
}
