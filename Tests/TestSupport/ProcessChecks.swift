import Foundation
import Glibc
import ProcLabKit

/// Facts about the test process itself, read from /proc, for checking that an
/// in-process experiment cleaned up after itself.
public struct CleanupSnapshot {
  public let threads: Int
  public let tids: Set<Int32>
  public let descriptors: Int
  public let children: [Int32]

  public init() {
    tids = Set(ProcFS.threads(of: getpid()))
    threads = tids.count
    descriptors = Descriptors.openCount()
    children = ProcFS.children(of: getpid())
  }

  /// What differs now from this snapshot: leftover threads, descriptors or children.
  /// Test threads of the runner itself may come and go, so only increases count.
  public func leftovers() -> [String] {
    var now = CleanupSnapshot()
    // A thread just joined, or one the test runner starts and ends for itself, may be in
    // /proc/self/task for a moment: only one still there after a second counts.
    for _ in 0..<50 where now.threads > threads {
      usleep(20_000)
      now = CleanupSnapshot()
    }
    var problems: [String] = []
    let newChildren = Set(now.children).subtracting(children)
    if !newChildren.isEmpty { problems.append("children left: \(newChildren.sorted())") }
    if now.descriptors > descriptors {
      problems.append("descriptors leaked: \(now.descriptors - descriptors)")
    }
    if now.threads > threads {
      let names = now.tids.subtracting(tids).sorted().map { tid in
        (ProcFS.read("/proc/self/task/\(tid)/comm") ?? "?").trimmingCharacters(in: .whitespacesAndNewlines)
      }
      problems.append("threads left: \(now.threads - threads) (new: \(names.joined(separator: ", ")))")
    }
    return problems
  }
}

/// True if a PID names a live (or zombie) process right now.
public func processExists(_ pid: Int32) -> Bool { kill(pid, 0) == 0 || errno == EPERM }

/// The children of `parent` once there are at least `count` of them (read from /proc every
/// 20 ms), or those there are after `timeout`: a test that needs a command's children to exist
/// before it acts.
public func children(of parent: Int32, atLeast count: Int, timeout: Duration = .seconds(5)) -> [Int32] {
  let clock = ContinuousClock()
  let deadline = clock.now + timeout
  var found = ProcFS.children(of: parent)
  while found.count < count && clock.now < deadline {
    usleep(20_000)
    found = ProcFS.children(of: parent)
  }
  return found
}
