import CLab
import Glibc
import Synchronization

/// Requests to stop, set by the shell's signal handlers in CLab (interrupt.c):
/// Ctrl-C (SIGINT) stops the running command and the rest of its line;
/// SIGTERM and SIGHUP stop it too, and the shell then leaves.
///
/// The handlers only store the signal's number (all an async-signal-safe
/// handler may do); long loops poll it with `check()`, and a blocked call
/// wakes with EINTR because the handlers are installed without SA_RESTART.
public enum Interrupt {
  /// The signal that asked to stop: SIGINT, SIGTERM or SIGHUP; 0 when none did.
  public static var signal: Int32 { CLab.clab_interrupt_requested() }
  public static var isRequested: Bool { signal != 0 }
  /// Forgets a Ctrl-C once it has been handled; a SIGTERM or SIGHUP stays requested.
  public static func clear() { CLab.clab_clear_interrupt() }
  /// Raises the flag as Ctrl-C would (tests, watchdogs).
  public static func request() { CLab.clab_request_interrupt() }
  /// Throws `Interrupted` if a stop was requested: long loops call this often.
  public static func check() throws { if isRequested { throw Interrupted() } }
  /// sigaction(2) for SIGINT without SA_RESTART: blocked calls return EINTR.
  public static func install() { _ = try? SignalHandlers.install(clab_on_interrupt, for: SIGINT) }
  /// sigaction(2) for SIGTERM and SIGHUP, so the shell can clean up before leaving.
  public static func installTermination() {
    for sig in [SIGTERM, SIGHUP] { _ = try? SignalHandlers.install(clab_on_termination, for: sig) }
  }
  /// SIGTERM or SIGHUP once one arrived, else 0.
  public static var terminationSignal: Int32 { CLab.clab_termination_requested() }
  /// How many Ctrl-C presses arrived so far (never cleared: commands clear the flag).
  public static var count: Int { Int(CLab.clab_interrupt_count()) }
  /// While true, `clear()` leaves a raised flag raised (a replay: any Ctrl-C ends all of it).
  public static func setSticky(_ on: Bool) { CLab.clab_set_interrupt_sticky(on ? 1 : 0) }

  /// How a stop is named to the learner: `Ctrl-C` for SIGINT, else the signal's name (`SIGTERM`).
  public static func describe(_ signal: Int32) -> String {
    signal == SIGINT || signal == 0 ? (pressed.withLock { $0 } ?? "Ctrl-C") : Signals.name(signal)
  }

  /// What a person pressed when it was not Ctrl-C that sent SIGINT: replay's `q` interrupts the
  /// running command with the same signal, and the command's message names the key (nil: Ctrl-C).
  public static func pressing(_ key: String?) { pressed.withLock { $0 = key } }
  private static let pressed = Mutex<String?>(nil)

  /// sigaction(SIGPIPE, SIG_IGN): a write to a closed pipe (`proclab … | head`) fails
  /// with EPIPE instead of killing the shell. A refusal (the kernel refuses only a bad
  /// signal number) is said on standard error, and the shell goes on.
  public static func ignoreBrokenPipe() {
    var action = sigaction()  // zeroed: an empty mask, no flags
    action.__sigaction_handler.sa_handler = SIG_IGN
    do { _ = try systemCall("sigaction") { sigaction(SIGPIPE, &action, nil) } } catch {
      Output.err("proclab: \(error); a write to a closed pipe will end the shell\n")
    }
  }
}
