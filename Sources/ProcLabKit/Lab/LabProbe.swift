import Glibc

/// A lab experiment that exists to prove lab mode itself: it answers, sleeps
/// past a timeout, or crashes with a chosen signal.
enum LabProbe {
  static let entry = LabEntry("probe") { request in
    let action = request["action"]?.stringValue ?? "answer"
    switch action {
    case "sleep":
      let ms = request["ms"]?.intValue ?? 1000
      LabChild.announce(["sleeping": .int(ms)])
      usleep(UInt32(ms) * 1000)
    case "signal":
      let sig = Int32(request["signal"]?.intValue ?? Int(SIGSEGV))
      writeError("about to raise \(Signals.name(sig))")
      raise(sig)
    case "exit":
      exit(Int32(request["code"]?.intValue ?? 3))
    default: break
    }
    return ["pid": .int(Int(getpid())), "parent": .int(Int(getppid()))]
  }

  static func writeError(_ s: String) {
    let bytes = Array((s + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
  }
}
