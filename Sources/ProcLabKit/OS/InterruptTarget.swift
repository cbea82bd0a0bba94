import Glibc

/// A thread a Ctrl-C can be sent to on a person's behalf: replay's `q` pressed while a
/// command runs stops that command exactly as Ctrl-C would (its blocked call returns
/// EINTR, the handler counts the press, the command cleans up).
public struct InterruptTarget: Sendable {
  let thread: pthread_t

  /// The calling thread. The corresponding call is `pthread_self(3)`.
  public static func current() -> InterruptTarget { InterruptTarget(thread: pthread_self()) }

  /// Sends SIGINT to the thread. The corresponding call is `pthread_kill(3)`; it fails only
  /// for a thread that has ended, when there is nothing left to stop.
  public func interrupt() { _ = pthread_kill(thread, SIGINT) }
}
