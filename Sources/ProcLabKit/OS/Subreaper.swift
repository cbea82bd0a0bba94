import CLab
import Glibc

/// Child subreapers (prctl(2) PR_SET_CHILD_SUBREAPER): a process that adopts
/// orphaned descendants instead of letting them go to init.
public enum Subreaper {
  /// prctl(PR_SET_CHILD_SUBREAPER, 1). Permanent for the calling process,
  /// which is why proclab does it in a lab child, never in the shell.
  public static func become() throws {
    try Trace.call("prctl", "PR_SET_CHILD_SUBREAPER, 1") { clab_set_subreaper(1) }
  }

  /// prctl(PR_GET_CHILD_SUBREAPER).
  public static var isSubreaper: Bool { clab_is_subreaper() == 1 }

  public struct OrphanReport: Sendable {
    public var middle: Int32
    public var grandchild: Int32
    public var parentBefore: Int32
    public var parentAfter: Int32
    /// How long the grandchild waited to see its parent change.
    public var waited: Duration
  }

  /// fork() a middle parent that forks a grandchild and exits; the grandchild
  /// reports its parent before and after (clab_orphan_chain). The caller must
  /// reap the middle parent and the grandchild.
  public static func orphanChain(timeout: Duration) throws -> (middle: Int32, report: OrphanReport) {
    let pipe = try Descriptors.pipe()
    defer { Descriptors.close(pipe.read) }
    let middle: Int32
    do {
      middle = try Trace.call(
        "fork", "middle parent: fork grandchild, _exit(0)", describe: { "pid \($0)" }
      ) { clab_orphan_chain(pipe.write, pipe.read, timeout.nanoseconds) }
    } catch {
      Descriptors.close(pipe.write)
      throw error
    }
    Descriptors.close(pipe.write)
    let bytes = try Fork.readExactly(
      pipe.read, count: MemoryLayout<clab_orphan_report>.size, timeout: timeout + .seconds(5))
    let r = bytes.withUnsafeBytes { $0.loadUnaligned(as: clab_orphan_report.self) }
    return (
      middle,
      OrphanReport(
        middle: r.middle, grandchild: r.grandchild, parentBefore: r.parent_before,
        parentAfter: r.parent_after,
        waited: .nanoseconds(r.waited_ns))
    )
  }
}
