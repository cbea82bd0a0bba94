/// A lab experiment that exists to prove lab mode itself: it answers, sleeps
/// past a timeout, or crashes with a chosen signal.
enum LabProbe {
  static let entry = LabEntry("probe") { request in
    let action = request["action"]?.stringValue ?? "answer"
    switch action {
    case "sleep":
      let ms = request["ms"]?.intValue ?? 1000
      LabChild.announce(["sleeping": .int(ms)])
      MonotonicClock.pause(.milliseconds(ms))
    case "signal":
      let sig = Int32(request["signal"]?.intValue ?? 11)  // SIGSEGV
      Output.err("about to raise \(Signals.name(sig))\n")
      ThisProcess.raise(sig)
    case "exit":
      ThisProcess.exit(Int32(request["code"]?.intValue ?? 3))
    default: break
    }
    return ["pid": .int(Int(ThisProcess.id)), "parent": .int(Int(ThisProcess.parent))]
  }
}
