import Glibc

/// Every child process the shell has created and still answers for: held
/// children (`spawn --hold`), unreaped ones (`--no-reap`), and lab children of
/// commands that keep them. `ps`, `kill` and `wait` act only on these.
public final class ChildTable {
  public struct Child: Sendable {
    public let pid: Int32
    /// What it is, in the learner's words: `lab copy (sleeping)`, `/bin/sleep`.
    public var label: String
    public let created: UInt64
    /// True when the learner asked to keep it unreaped (`--no-reap`).
    public var keepZombie: Bool
  }

  public private(set) var children: [Child] = []
  /// How children ended when the shell reaped them in the background.
  public private(set) var recentlyReaped: [ReapedChild] = []

  public init() {}

  public func add(_ pid: Int32, label: String, keepZombie: Bool = false) {
    children.append(
      Child(pid: pid, label: label, created: MonotonicClock.nanoseconds(), keepZombie: keepZombie))
  }

  public func contains(_ pid: Int32) -> Bool { children.contains { $0.pid == pid } }
  public func child(_ pid: Int32) -> Child? { children.first { $0.pid == pid } }
  public var pids: [Int32] { children.map(\.pid) }

  /// Forgets a child after it has been reaped (and remembers that it was one: `kill` and `wait`
  /// on it later say it ended rather than that the shell never made it).
  public func remove(_ pid: Int32) {
    guard contains(pid) else { return }
    children.removeAll { $0.pid == pid }
    reapedEarlier.append(pid)
    if reapedEarlier.count > 1024 { reapedEarlier.removeFirst(reapedEarlier.count - 1024) }
  }

  /// Children this shell created and has reaped (the latest 1024).
  public private(set) var reapedEarlier: [Int32] = []
  public func wasReaped(_ pid: Int32) -> Bool { !contains(pid) && reapedEarlier.contains(pid) }

  /// Reaps, without waiting, held children that have ended (not those kept as zombies).
  @discardableResult
  public func reapFinished() -> [ReapedChild] {
    var reaped: [ReapedChild] = []
    for c in children where !c.keepZombie {
      if let r = try? Wait.wait4(c.pid, noHang: true) {
        reaped.append(r)
        remove(c.pid)
      }
    }
    recentlyReaped.append(contentsOf: reaped)
    return reaped
  }

  /// Takes the list of children the shell reaped on its own since the last call; with `pid`,
  /// only that child's entry (the others stay for a later `wait`).
  public func takeRecentlyReaped(pid: Int32? = nil) -> [ReapedChild] {
    guard let pid else {
      defer { recentlyReaped = [] }
      return recentlyReaped
    }
    let taken = recentlyReaped.filter { $0.pid == pid }
    recentlyReaped.removeAll { $0.pid == pid }
    return taken
  }

  /// Ends every child (SIGKILL to its process group) and reaps it: on quit,
  /// Ctrl-D, end of script, SIGTERM or SIGHUP.
  public func killAll() {
    for c in children { SignalSender.killGroup(c.pid) }
    for c in children { Wait.reap(c.pid) }
    children = []
  }
}

/// Something a command left running on purpose (held threads, held children):
/// the cleanup invariant counts what keepers hold, and the shell releases
/// them on `release` or exit.
public protocol Keeper: AnyObject {
  /// Threads of the shell's own process kept alive.
  var heldThreads: Int { get }
  /// Descriptors of the shell's own process kept open.
  var heldDescriptors: Int { get }
  /// Ends what it holds (joins threads, closes descriptors).
  func release()
}
