import CLab
import Glibc

/// Waiting at the prompt without losing a Ctrl-C. While the shell reads a line,
/// SIGINT, SIGTERM and SIGHUP stay blocked everywhere except inside ppoll(2),
/// which swaps in a mask without them for the time it sleeps: a signal can never
/// slip in between checking the flag and going to sleep.
public struct PromptSignals {
  /// The mask before `block()`: commands run with the signals deliverable again.
  private var previous = sigset_t()

  private static var shellSignals: sigset_t {
    var set = sigset_t()
    sigemptyset(&set)
    for sig in [SIGINT, SIGTERM, SIGHUP] { sigaddset(&set, sig) }
    return set
  }

  /// The corresponding call is `sigprocmask(SIG_BLOCK, {SIGINT, SIGTERM, SIGHUP}, &previous)`.
  public static func block() -> PromptSignals {
    var signals = PromptSignals()
    var set = shellSignals
    sigprocmask(SIG_BLOCK, &set, &signals.previous)  // cannot fail: a valid `how` and set
    return signals
  }

  /// The corresponding call is `sigprocmask(SIG_SETMASK, &previous, NULL)`.
  public func unblock() {
    var mask = previous
    sigprocmask(SIG_SETMASK, &mask, nil)
  }

  /// The corresponding call is `ppoll({fd, POLLIN}, 1, NULL, previous mask without the shell
  /// signals)`: true when input is ready, false when a signal interrupted the wait, nil on error.
  public func waitForInput(_ fd: Int32) -> Bool? {
    var during = previous
    for sig in [SIGINT, SIGTERM, SIGHUP] { sigdelset(&during, sig) }
    var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
    let n = ppoll(&p, 1, nil, &during)
    if n < 0 { return errno == EINTR ? false : nil }
    return n > 0
  }
}
