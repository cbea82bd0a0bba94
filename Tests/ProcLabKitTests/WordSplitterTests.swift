import ProcLabKit
import XCTest

final class WordSplitterTests: XCTestCase {
  func testWordsAreSplitOnWhitespace() throws {
    XCTAssertEqual(try WordSplitter.split("spawn  2   --hold 5"), [["spawn", "2", "--hold", "5"]])
  }

  func testSemicolonsSeparateCommandsAndEmptyOnesAreDropped() throws {
    XCTAssertEqual(
      try WordSplitter.split("info; help spawn;;  ; ps"), [["info"], ["help", "spawn"], ["ps"]])
  }

  func testQuotesWorkAsInAShell() throws {
    XCTAssertEqual(
      try WordSplitter.split(#"record 'my demo.txt'; set "a b" c\ d"#),
      [["record", "my demo.txt"], ["set", "a b", "c d"]])
    XCTAssertEqual(try WordSplitter.split(#"echo "semi;colon" 'it''s'"#), [["echo", "semi;colon", "its"]])
    XCTAssertEqual(
      try WordSplitter.split(#"x "" y"#), [["x", "", "y"]], "an empty quoted word is still a word")
  }

  func testAHashStartsAComment() throws {
    XCTAssertEqual(try WordSplitter.split("info # what am I?"), [["info"]])
    XCTAssertEqual(try WordSplitter.split("# only narration"), [])
    XCTAssertEqual(try WordSplitter.split("kill a#b"), [["kill", "a#b"]], "inside a word # is literal")
  }

  func testAnUnterminatedQuoteIsOneClearError() {
    XCTAssertThrowsError(try WordSplitter.split("record 'oops")) { error in
      XCTAssertEqual((error as? UsageError)?.message, "unterminated ' quote; close it or remove it")
    }
  }

  func testQuotingRoundTrips() throws {
    for word in ["plain", "two words", "it's", "", "semi;colon", "#hash"] {
      XCTAssertEqual(try WordSplitter.split("x " + WordSplitter.quote(word)), [["x", word]])
    }
  }
}
