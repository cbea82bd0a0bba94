import CLab
import Glibc

/// Ties a lab child's life to the shell that started it.
public enum ParentDeath {
  /// prctl(PR_SET_PDEATHSIG, SIGKILL), then getppid() to close the race: if
  /// the parent already died (the child was adopted), the child leaves at once.
  /// Without it a held or deadlocked lab child of a shell killed with SIGKILL
  /// would sleep on for up to an hour, or forever (a deadlock uses no CPU time).
  public static func killWithParent(expectedParent parent: Int32) {
    let start = MonotonicClock.nanoseconds()
    let rc = clab_die_with_parent()
    Trace.record("prctl", "PR_SET_PDEATHSIG, SIGKILL", result: rc == 0 ? "0" : "-1", since: start)
    if getppid() != parent { _exit(70) }
  }
}
