/// A lab experiment that rewrites one file atomically, over and over, so a test
/// can SIGKILL it mid-write and prove the file is always whole.
enum AtomicWriteProbe {
  static let entry = LabEntry("atomic-writer") { request in
    let path = request["path"]?.stringValue ?? "/tmp/proclab-atomic"
    let size = request["bytes"]?.intValue ?? 1 << 20
    var round = 0
    LabChild.announce(["writing": .string(path)])
    while true {
      round += 1
      let mark = Character(UnicodeScalar(UInt8(97 + round % 26)))
      // Every version is `size` copies of one letter: a torn file would mix letters or be short.
      try StateDirectory.writeAtomically(String(repeating: mark, count: size), to: path)
    }
  }
}
