import Glibc

/// What a signal did to the program, told from its disposition at the moment the
/// tracer saw it delivered (/proc/TID/status SigIgn and SigCgt).
///
/// Under ptrace the kernel delivers even a signal the program ignores (kernel/signal.c,
/// `sig_ignored`: a traced task's signals are never discarded at send time), so the
/// tracer sees SIGCHLD interrupt a sleep that, untraced, would have slept on. Saying so
/// keeps proclab from reporting its own side effect as the program's behaviour.
enum SignalInterruption {
  /// The kernel's internal codes a tracer sees for an interrupted call (never the program).
  static let restartCodes: ClosedRange<Int32> = 512...516
  static let ERESTARTNOINTR: Int32 = 513

  /// The signals whose default action is to ignore them (the kernel's SIG_KERNEL_IGNORE_MASK).
  static let ignoredByDefault: Set<Int32> = [SIGCHLD, SIGCONT, SIGURG, SIGWINCH]
  static let stopping: Set<Int32> = [SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU]

  /// True when an untraced program would never have received `signal`: it is not caught
  /// and either ignored or left at a default action of ignoring it.
  static func discardedUntraced(_ signal: Int32, _ d: SignalDispositions) -> Bool {
    !d.isCaught(signal) && (d.isIgnored(signal) || ignoredByDefault.contains(signal))
  }

  /// The result column of a call that `signal` interrupted, with the kernel's `code`
  /// (ERESTARTSYS 512, ERESTARTNOINTR 513, ERESTARTNOHAND 514, ERESTART_RESTARTBLOCK 516).
  static func result(code: Int32, signal: Int32, _ d: SignalDispositions?) -> String {
    let name = Signals.name(signal)
    guard let d else { return "? (interrupted by \(name))" }
    if d.isCaught(signal) {
      // Which calls come back after a handler is the code's meaning (kernel/signal.c, handle_signal).
      switch code {
      case ERESTARTNOINTR: return "? (interrupted by \(name); after its handler the kernel restarts the call)"
      case 512:
        return
          "? (interrupted by \(name); after its handler the call restarts if the handler was set with SA_RESTART, else fails with EINTR)"
      default: return "? (interrupted by \(name); after its handler the call fails with EINTR)"
      }
    }
    if discardedUntraced(signal, d) {
      return
        "? (interrupted by \(name), which the program ignores: it was delivered only because the program is traced; the kernel restarts the call)"
    }
    if stopping.contains(signal) {
      return "? (interrupted by \(name): the process stops, and the call restarts when it continues)"
    }
    return "? (interrupted by \(name), whose default action ends the process)"
  }
}
