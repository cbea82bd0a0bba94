import Synchronization

/// Children the shell starts for itself, not for the learner: the tracer behind
/// `set trace on` lives only while a command runs and must not show up as one of
/// the command's children (`ps`, the process tree).
public enum HelperProcesses {
  private static let pids = Mutex<Set<Int32>>([])

  public static var current: Set<Int32> { pids.withLock { $0 } }
  public static func add(_ pid: Int32) { pids.withLock { _ = $0.insert(pid) } }
  public static func remove(_ pid: Int32) { pids.withLock { _ = $0.remove(pid) } }
}
