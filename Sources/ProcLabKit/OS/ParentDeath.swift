import CLab
import Glibc

/// Ties a child's life to the shell that started it: a shell killed with
/// SIGKILL cannot clean up, so its children must end by themselves.
public enum ParentDeath {
  /// The environment variable that tells a lab child which PID started it.
  public static let parentVariable = "PROCLAB_PARENT"

  /// prctl(PR_SET_PDEATHSIG, SIGKILL), then getppid() to close the race: if the
  /// parent (`expectedParent`, the PID the spawning process passed down, never
  /// the child's own getppid()) already died, the child was adopted and leaves
  /// at once with _exit(70). Without it a held or deadlocked lab child of a shell
  /// killed with SIGKILL would sleep on for up to an hour, or forever.
  public static func killWithParent(expectedParent parent: Int32?) {
    let start = MonotonicClock.nanoseconds()
    let rc = clab_die_with_parent()
    Trace.record(
      "prctl", "PR_SET_PDEATHSIG, SIGKILL", result: rc == 0 ? "0" : "-1 \(SystemError.name(of: errno))",
      since: start)
    if let parent, ThisProcess.parent != parent { _exit(70) }
  }
}
