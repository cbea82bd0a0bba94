import Foundation
import Glibc
import ProcLabKit
import XCTest

/// The standard-library helpers that replace Foundation's international part give
/// the same answers as the Foundation calls they replace (the tests may use
/// Foundation; proclab will not).
final class FoundationFreeHelpersTests: XCTestCase {
  let samples = [
    "", " ", "\t", "  race --threads 4  ", "\tx\t", "a b", "\u{00A0}nbsp\u{3000}", " line\n",
    "\r\n step \n\n",
    "\u{2028}x\u{85}", "é ", " 🧵 ", "only", "\n", "  \n  ", "a\u{200B}",
  ]

  func testTrimmedMatchesFoundationsWhitespaceSets() {
    for v in UInt32(0)..<0x1_0000 {
      guard let scalar = Unicode.Scalar(v) else { continue }
      let s = "\(scalar)"
      XCTAssertEqual(
        s.trimmed().isEmpty, s.trimmingCharacters(in: .whitespaces).isEmpty, "U+\(String(v, radix: 16))")
      XCTAssertEqual(
        s.trimmed(newlines: true).isEmpty, s.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty,
        "U+\(String(v, radix: 16))")
    }
    for s in samples {
      XCTAssertEqual(s.trimmed(), s.trimmingCharacters(in: .whitespaces), "\(s.debugDescription)")
      XCTAssertEqual(
        s.trimmed(newlines: true), s.trimmingCharacters(in: .whitespacesAndNewlines), "\(s.debugDescription)")
      let sub = Substring(s)
      XCTAssertEqual(sub.trimmed(), sub.trimmingCharacters(in: .whitespaces))
    }
  }

  func testStandardLibrarySpellingsMatchFoundationsStringAPI() {
    let line = "race --threads 4 --threads 8"
    XCTAssertEqual(
      line.replacing("--threads", with: "-t"), line.replacingOccurrences(of: "--threads", with: "-t"))
    XCTAssertEqual(line.firstRange(of: "--threads"), line.range(of: "--threads"))
    XCTAssertNil(line.firstRange(of: "{{"))
    let bold = "a **b** c ****"
    XCTAssertEqual(
      bold.split(separator: "**", omittingEmptySubsequences: false).map(String.init),
      bold.components(separatedBy: "**"))
  }

  func testFixedDigitsAreWhatStringFormatPrinted() {
    let values: [Double] = [
      0, -0.0, 0.125, 0.375, 2.675, 1.005, 3.14159, -2.5, 1e-7, 99.95, 999.5, 1234567.891, 1e15, 1e300,
      -1e300,
      .nan, .infinity, -.infinity, 0.1 + 0.2, Double.ulpOfOne, 12.345,
    ]
    for x in values {
      for digits in 0...3 {
        XCTAssertEqual(
          NumberFormat.fixed(x, digits: digits), String(format: "%.\(digits)f", x),
          "\(x) with \(digits) digits")
      }
    }
  }

  func testHexIsPrintfsZeroPaddedLowerCase() {
    let values: [UInt64] = [0, 1, 0x1f, 0xdead_beef, UInt64.max, 1 << 63]
    for v in values {
      XCTAssertEqual(NumberFormat.hex(v, width: 16), String(format: "%016llx", v))
    }
    XCTAssertEqual(NumberFormat.hex(UInt32(0x41), width: 4), String(format: "%04x", 0x41))
    XCTAssertEqual(NumberFormat.hex(255), "ff")
  }

  func testPathTextMatchesNSString() {
    let paths = [
      "/a/b.md", "/a/b/", "b.md", "/", "/a", "a/b/c.tar.gz", ".hidden", "dir/.hidden", "", "a//b", "/a/b//",
      "lessons/05-cost.md",
    ]
    for p in paths {
      let ns = p as NSString
      XCTAssertEqual(Paths.lastComponent(p), ns.lastPathComponent, "last component of \(p.debugDescription)")
      XCTAssertEqual(
        Paths.deletingLastComponent(p), ns.deletingLastPathComponent, "parent of \(p.debugDescription)")
      XCTAssertEqual(Paths.pathExtension(p), ns.pathExtension, "extension of \(p.debugDescription)")
    }
    for (p, c) in [("/a/", "b"), ("/", "b"), ("a", "b.md"), ("/a/b", "c/d")] {
      XCTAssertEqual(Paths.appending(p, c), (p as NSString).appendingPathComponent(c), "\(p) + \(c)")
    }
  }

  func testDirectoryWalkFindsWhatFileManagerFinds() throws {
    let fm = FileManager.default
    let root = NSTemporaryDirectory() + "proclab-paths-\(getpid())"
    defer { try? fm.removeItem(atPath: root) }
    try fm.createDirectory(atPath: root + "/lessons/nested", withIntermediateDirectories: true)
    for f in ["lessons/01.md", "lessons/nested/02.md", "a.txt", "lessons/.dot"] {
      XCTAssertTrue(fm.createFile(atPath: root + "/" + f, contents: Data("x".utf8)))
    }
    try fm.createSymbolicLink(atPath: root + "/loop", withDestinationPath: root)

    XCTAssertEqual(Paths.subpaths(root).map(Set.init), fm.subpaths(atPath: root).map(Set.init))
    XCTAssertNil(Paths.subpaths(root + "/a.txt"))
    XCTAssertNil(Paths.subpaths(root + "/missing"))
    XCTAssertTrue(Paths.isDirectory(root + "/lessons"))
    XCTAssertTrue(Paths.isDirectory(root + "/loop"), "a link to a directory is followed, as fileExists does")
    XCTAssertFalse(Paths.isDirectory(root + "/a.txt"))
    XCTAssertTrue(Paths.exists(root + "/a.txt"))
    XCTAssertFalse(Paths.exists(root + "/missing"))
  }

  func testHomeAndWorkingDirectoriesAreFoundationsAnswers() {
    XCTAssertEqual(Paths.homeDirectory(environment: ["HOME": "/somewhere"]), "/somewhere")
    var entry = passwd()
    var result: UnsafeMutablePointer<passwd>?
    var buffer = [CChar](repeating: 0, count: 4096)
    XCTAssertEqual(getpwuid_r(getuid(), &entry, &buffer, buffer.count, &result), 0)
    XCTAssertEqual(Paths.homeDirectory(environment: [:]), String(cString: entry.pw_dir))
    XCTAssertEqual(Paths.currentDirectory(), fm().currentDirectoryPath)
  }

  private func fm() -> FileManager { FileManager.default }
}
