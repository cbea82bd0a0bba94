/// Limits of one shell session as a whole, on top of each command's own caps:
/// whatever the arguments, a session cannot pile up processes on the machine.
public enum SessionLimits {
  /// Children the shell may hold at once (held with --hold, or kept as zombies with --no-reap).
  public static let heldChildren = 64

  /// Refuses to create `count` more held children when the session would then
  /// hold more than `heldChildren`; the message says how to free some.
  public static func checkHeldChildren(adding count: Int, command: String, session: Session) throws {
    session.children.reapFinished()
    let holding = session.children.children.count
    if holding + count > heldChildren {
      throw UsageError(
        "\(command): this shell already holds \(holding) children and keeps at most \(heldChildren) at once; "
          + "'wait' or 'kill PID' some first (asked for \(count) more)")
    }
  }
}
