/// The cleanup promise, checked from /proc: after a command the shell has no
/// zombies, no stray children, no leaked descriptors and no leftover threads,
/// except what it was asked to keep (held children, held threads).
public struct CleanupInvariant {
  public let baselineDescriptors: Int
  public let baselineThreads: Int

  /// Takes the baseline: call once the shell is set up, before any command.
  public init() {
    baselineDescriptors = Descriptors.openCount()
    baselineThreads = ProcFS.threads(of: ThisProcess.id).count
  }

  /// Every way the shell differs from its baseline that nothing explains, one line each.
  public func violations(children table: ChildTable, keepers: [Keeper]) -> [String] {
    var problems: [String] = []
    let me = ThisProcess.id
    for pid in ProcFS.children(of: me) {
      let state = ProcFS.stat(pid)?.state
      if let child = table.child(pid) {
        if state == "Z" && !child.keepZombie { problems.append("child \(pid) is a zombie nobody reaped") }
      } else {
        problems.append(state == "Z" ? "zombie child \(pid) left behind" : "stray child \(pid) left running")
      }
    }
    let heldThreads = keepers.reduce(0) { $0 + $1.heldThreads }
    // pthread_join returns when the thread's TID futex is cleared, a moment before the
    // kernel unlinks the task from /proc/PID/task: give a just-joined thread up to ~50 ms.
    var threads = ProcFS.threads(of: me).count
    var settle = 0
    while threads > baselineThreads + heldThreads && settle < 25 {
      MonotonicClock.pause(.milliseconds(2))
      threads = ProcFS.threads(of: me).count
      settle += 1
    }
    if threads > baselineThreads + heldThreads {
      problems.append("\(threads - baselineThreads - heldThreads) thread(s) left running")
    }
    let heldFDs = keepers.reduce(0) { $0 + $1.heldDescriptors }
    let fds = Descriptors.openCount()
    if fds > baselineDescriptors + heldFDs {
      let list = ProcFS.descriptors(of: me).map { "\($0)→\(ProcFS.descriptorTarget(pid: me, fd: $0) ?? "?")" }
      problems.append(
        "\(fds - baselineDescriptors - heldFDs) descriptor(s) leaked (open: \(list.joined(separator: ", ")))")
    }
    problems += Leftovers.owned(by: me).map { "\($0) left behind" }
    return problems
  }
}
