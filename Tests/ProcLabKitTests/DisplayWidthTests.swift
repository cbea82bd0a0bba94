import Glibc
import ProcLabKit
import XCTest

/// Columns as a terminal draws them, checked against glibc's own `wcwidth(3)`
/// under its built-in UTF-8 locale (an independent table of the same standard).
final class DisplayWidthTests: XCTestCase {
  func testWideCombiningAndBoxDrawingCharacters() {
    XCTAssertEqual(DisplayWidth.columns("proclab"), 7)
    XCTAssertEqual(DisplayWidth.columns("進程"), 4, "CJK ideographs take two columns each")
    XCTAssertEqual(DisplayWidth.columns("e\u{301}"), 1, "a combining accent sits on its letter")
    XCTAssertEqual(DisplayWidth.columns("├─ └ │ █▏ · → µ ×"), 17, "box drawing and blocks take one")
    XCTAssertEqual(DisplayWidth.columns("\u{1B}[2mdim\u{1B}[0m"), 3, "colour escapes take none")
    XCTAssertEqual(DisplayWidth.columns("🙂"), 2)
    XCTAssertEqual(Style.width("Ａ1"), 3, "Style.width is the display width")
  }

  func testAgreesWithGlibcWcwidthOverTheBasicPlaneAndCJKPlanes() throws {
    let saved = setlocale(LC_CTYPE, nil).map { String(cString: $0) } ?? "C"
    guard setlocale(LC_CTYPE, "C.UTF-8") != nil else { throw XCTSkip("no C.UTF-8 locale here") }
    defer { _ = setlocale(LC_CTYPE, saved) }
    // glibc declares wcwidth only under _XOPEN_SOURCE, which Swift's Glibc module leaves out.
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "wcwidth") else {
      throw XCTSkip("wcwidth not found in libc")
    }
    typealias WCWidth = @convention(c) (wchar_t) -> Int32
    let wcwidth = unsafeBitCast(symbol, to: WCWidth.self)
    var differ: [String] = []
    var compared = 0
    for v in UInt32(0x20)...UInt32(0x2FFFF) {
      guard let scalar = Unicode.Scalar(v) else { continue }
      let reference = Int(wcwidth(wchar_t(bitPattern: v)))
      // Unassigned code points (-1) and glibc's Unicode version aside, both must agree.
      guard reference >= 0, scalar.properties.generalCategory != .unassigned else { continue }
      compared += 1
      if DisplayWidth.columns(scalar) != reference {
        differ.append(
          "U+\(String(v, radix: 16, uppercase: true)): \(DisplayWidth.columns(scalar)) vs \(reference)")
      }
    }
    XCTAssertGreaterThan(compared, 100_000)
    // A character or two reclassified between Unicode versions may differ; no more.
    XCTAssertLessThan(differ.count, 20, differ.prefix(40).joined(separator: ", "))
  }
}
