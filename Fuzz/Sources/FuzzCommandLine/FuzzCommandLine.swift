import FuzzSupport
import ProcLabKit

/// Splits arbitrary bytes as a command line, looks up each verb, and parses its
/// arguments against the command's options, the way the shell does before
/// running anything. Only the shell's harmless verbs are actually run.
let fuzzCommandLine: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32 = { data, size in
  guard let data else { return 0 }
  let line = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
  guard let commands = try? WordSplitter.split(line) else { return 0 }
  let registry = Catalog.registry
  for words in commands {
    guard let verb = words.first else { continue }
    guard let command = registry.command(named: verb) else {
      _ = registry.suggestion(for: String(verb.prefix(64)))
      continue
    }
    // Typed options: parsing reads every word against the command's declarations (nothing runs).
    _ = try? command.parse(Array(words.dropFirst()))
    _ = Completer.complete(before: verb + " ", word: words.last ?? "", session: FuzzState.session)
    if ["help", "explain", "set", "history"].contains(command.name) {
      _ = FuzzState.session.run(words: words)
    }
  }
  return 0
}

enum FuzzState {
  // why: libFuzzer calls the entry point from one thread only; Session is not Sendable.
  nonisolated(unsafe) static let session: Session = {
    let s = Session()
    s.write = { _ in }
    return s
  }()
}

/// SwiftPM links an executable's entry point under this name; libFuzzer's driver takes over from here.
@_cdecl("FuzzCommandLine_main")
func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
  FuzzDriver.run(argc: argc, argv: argv, fuzzCommandLine)
}
