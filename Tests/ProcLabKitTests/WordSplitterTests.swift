import ProcLabKit
import Testing

/// The shell's word splitting, in Swift Testing (the rest of the suite is XCTest,
/// which runs serially, as the timing-sensitive experiments need).
@Suite struct WordSplitterTests {
  @Test func wordsAreSplitOnWhitespace() throws {
    #expect(try WordSplitter.split("spawn  2   --hold 5") == [["spawn", "2", "--hold", "5"]])
  }

  @Test func semicolonsSeparateCommandsAndEmptyOnesAreDropped() throws {
    #expect(try WordSplitter.split("info; help spawn;;  ; ps") == [["info"], ["help", "spawn"], ["ps"]])
  }

  @Test func quotesWorkAsInAShell() throws {
    #expect(
      try WordSplitter.split(#"record 'my demo.txt'; set "a b" c\ d"#) == [
        ["record", "my demo.txt"], ["set", "a b", "c d"],
      ])
    #expect(try WordSplitter.split(#"echo "semi;colon" 'it''s'"#) == [["echo", "semi;colon", "its"]])
    #expect(try WordSplitter.split(#"x "" y"#) == [["x", "", "y"]], "an empty quoted word is still a word")
  }

  @Test func aHashStartsAComment() throws {
    #expect(try WordSplitter.split("info # what am I?") == [["info"]])
    #expect(try WordSplitter.split("# only narration") == [])
    #expect(try WordSplitter.split("kill a#b") == [["kill", "a#b"]], "inside a word # is literal")
  }

  @Test func anUnterminatedQuoteIsOneClearError() {
    #expect(throws: UsageError("unterminated ' quote; close it or remove it")) {
      try WordSplitter.split("record 'oops")
    }
  }

  @Test(arguments: ["plain", "two words", "it's", "", "semi;colon", "#hash"])
  func quotingRoundTrips(word: String) throws {
    #expect(try WordSplitter.split("x " + WordSplitter.quote(word)) == [["x", word]])
  }
}
