/// The lab side of `observe`: the tracer runs in a lab child (`proclab __lab observe`).
enum ObserveLab {
  /// ptrace was refused: the message says why and what to change.
  struct NotPermitted: Error, CustomStringConvertible {
    let reason: String
    var description: String { reason }
  }

  static let entry = LabEntry("observe") { request in
    guard let r = ProgramObserver.Request(json: request) else { throw NotPermitted(reason: "bad request") }
    // The watchdog interrupts the tracer's waitpid with SIGINT: a handler without SA_RESTART.
    Interrupt.install()
    do {
      return try ProgramObserver.observe(r).json
    } catch let e as SystemError where e.call.hasPrefix("ptrace") {
      throw NotPermitted(reason: Ptrace.refusalReason(e))
    }
  }
}
