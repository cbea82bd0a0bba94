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
      XCTAssertEqual(
        s.trimmed(blanks: false, newlines: true).isEmpty, s.trimmingCharacters(in: .newlines).isEmpty,
        "U+\(String(v, radix: 16))")
    }
    for s in samples {
      XCTAssertEqual(s.trimmed(), s.trimmingCharacters(in: .whitespaces), "\(s.debugDescription)")
      XCTAssertEqual(
        s.trimmed(newlines: true), s.trimmingCharacters(in: .whitespacesAndNewlines), "\(s.debugDescription)")
      XCTAssertEqual(
        s.trimmed(blanks: false, newlines: true), s.trimmingCharacters(in: .newlines), "\(s.debugDescription)"
      )
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
    // (NSString also folds a doubled slash inside, which deletingExtension leaves.)
    for p in paths + ["/a/b.tar.gz", "lessons/05-cost.md/", "/a.b/c"] where !p.contains("//") {
      XCTAssertEqual(
        Paths.deletingExtension(p), (p as NSString).deletingPathExtension,
        "without extension: \(p.debugDescription)")
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

  func testFilesAndDirectoriesAreWhatFileManagerMakesAndReads() throws {
    let fm = FileManager.default
    let root = NSTemporaryDirectory() + "proclab-files-\(getpid())"
    defer { try? fm.removeItem(atPath: root) }
    XCTAssertTrue(Paths.makeDirectories(root + "/a/b/c"))
    XCTAssertTrue(Paths.makeDirectories(root + "/a/b/c"), "an existing directory is no failure")
    var isDirectory: ObjCBool = false
    XCTAssertTrue(fm.fileExists(atPath: root + "/a/b/c", isDirectory: &isDirectory) && isDirectory.boolValue)
    let mode = try XCTUnwrap(fm.attributesOfItem(atPath: root + "/a/b")[.posixPermissions] as? Int)
    let mask = umask(0)
    umask(mask)
    XCTAssertEqual(mode, 0o777 & ~Int(mask), "mode 0777 less the umask, as createDirectory gives")

    let text = "line one\né\n" + String(repeating: "x", count: 100_000)
    XCTAssertTrue(fm.createFile(atPath: root + "/a/text.md", contents: Data(text.utf8)))
    XCTAssertTrue(fm.createFile(atPath: root + "/a/bad.md", contents: Data([0x66, 0xFF, 0x0A])))
    XCTAssertFalse(Paths.makeDirectories(root + "/a/text.md/d"), "a file stands in the way")
    XCTAssertEqual(
      Paths.readFile(root + "/a/text.md"), fm.contents(atPath: root + "/a/text.md").map { Array($0) })
    XCTAssertEqual(
      Paths.readText(root + "/a/text.md"), try String(contentsOfFile: root + "/a/text.md", encoding: .utf8))
    XCTAssertNil(Paths.readText(root + "/a/bad.md"), "not UTF-8")
    XCTAssertNil(try? String(contentsOfFile: root + "/a/bad.md", encoding: .utf8))
    XCTAssertNil(Paths.readFile(root + "/a"), "a directory is not read")
    XCTAssertNil(fm.contents(atPath: root + "/a"))
    XCTAssertNil(Paths.readFile(root + "/missing"))
    XCTAssertEqual(Paths.entries(root + "/a"), try fm.contentsOfDirectory(atPath: root + "/a").sorted())
    XCTAssertNil(Paths.entries(root + "/a/text.md"))
  }

  func testUnnotedValuesAreWhatTheLookBehindExpressionMatched() throws {
    let pattern =
      #"\\\{\{|\{\{.*?\}\}|(?<![\w.{])-?\d+(?:\.\d+)? ?(?:ns|µs|us|ms|s)(?![\w])|(?<![\w.{])-?\d+\.\d+(?![\w]|\.\d)|(?<![\w.{])\d+(?:\.\d+)?(?=×)|(?<![\w.{,])\d{7,}(?![\w.,])"#
    let regex = try NSRegularExpression(pattern: pattern)
    var lines = [
      "14.9 ms CPU in all, 26.1% of it in the kernel", "fork 480 µs, thread 21.3 µs: 22.5×", "-3.5 s -2ms",
      "v1.2.3 and 1.2.3.4 a1.5 _2.5 x.3.5 {4.5} {{A:pid}} \\{{ 12345678 1,2345678 12345678.5",
      "pid 1234567, 9876543210x 1.5×faster 10×", "é1.5 µ2.5 ×3.5 ·4.5 ms 5 s", "{{:duration <50ms}} 3.0ms",
      "", "-", "{{", "\\", "1.5", "100 us.", "1 nsx 2 ns_ 3 ns.",
    ]
    // Every line of the shipped transcripts and lessons as well: what the recorder meets.
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
    for folder in ["transcripts", "lessons"] {
      let dir = root.appendingPathComponent(folder).path
      for name in try FileManager.default.contentsOfDirectory(atPath: dir) {
        let text = try String(contentsOfFile: dir + "/" + name, encoding: .utf8)
        lines += text.split(separator: "\n").map(String.init)
      }
    }
    XCTAssertGreaterThan(lines.count, 1000, "the course's lines were read")
    var matched = 0
    for line in lines {
      let ns = line as NSString
      let expected = regex.matches(in: line, range: NSRange(location: 0, length: ns.length)).map {
        ns.substring(with: $0.range) + "@\($0.range.location)"
      }
      let found = UnnotedValues.ranges(in: line).map {
        String(line[$0]) + "@\(line.utf16.distance(from: line.startIndex, to: $0.lowerBound))"
      }
      XCTAssertEqual(found, expected, line)
      matched += found.count
    }
    XCTAssertGreaterThan(matched, 100, "the lines held values to find")
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
