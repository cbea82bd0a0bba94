import CLab
import Glibc

/// What two processes mapping one shared-memory object saw.
public struct SharedMemoryResult: Sendable {
  public enum Counter: Int32, Sendable {
    case none = 0
    case unsynchronized = 1
    case semaphore = 2
  }
  public var name: String
  public var privateMapping: Bool
  public var child: Int32
  public var parentAddress: UInt
  public var childAddress: UInt
  public var listedBeforeUnlink: Bool
  public var listedAfterUnlink: Bool
  public var childSawParent: Bool
  public var childWaited: Duration
  public var childRead: String
  public var parentSawChild: Bool
  public var parentWaited: Duration
  public var counterMode: Counter
  public var iterations: Int
  public var counter: Int
  public var counterTime: Duration
  public var nameLeft: Bool
  public var status: TerminationStatus
  public var expected: Int { 2 * iterations }
  public var lost: Int { max(0, expected - counter) }
}

public enum IPCSharedMemory {
  /// shm_open(O_CREAT|O_EXCL) + ftruncate + mmap(MAP_SHARED or MAP_PRIVATE); fork; the child
  /// opens the object by name and maps it; shm_unlink once both mapped; each writes a message the
  /// other looks for (200 ms); optionally both increment one counter `iterations` times.
  public static func run(
    name: String, privateMapping: Bool, counter: SharedMemoryResult.Counter, iterations: Int
  ) throws -> SharedMemoryResult {
    var s = clab_ipc_shm()
    s.private_mapping = privateMapping ? 1 : 0
    s.counter_mode = counter.rawValue
    s.iterations = Int64(iterations)
    let start = MonotonicClock.nanoseconds()
    let rc = name.withCString { p -> Int32 in
      s.name = p
      return {
        IPCCallLog.begin()
        defer { IPCCallLog.end() }
        return clab_ipc_shm_run(&s)
      }()
    }
    s.name = nil
    let failed = s.failed_call.map { String(cString: $0) }
    let flag = privateMapping ? "MAP_PRIVATE" : "MAP_SHARED"
    Trace.record(
      "shm_open+mmap",
      "\(name), O_CREAT|O_EXCL|O_RDWR; mmap(\(flag)); fork; child open+mmap(\(flag)); shm_unlink",
      result: rc == 0
        ? "parent \(Units.address(UInt(s.parent_address))), child \(s.child) at \(Units.address(UInt(s.child_address)))"
        : rc == -2 ? "interrupted" : "-1 \(SystemError.name(of: s.failed_errno)) in \(failed ?? "?")",
      since: start)
    if rc == -2 { throw Interrupted() }
    if rc != 0 { throw SystemError(failed ?? "shm", errno: s.failed_errno) }
    let text = withUnsafeBytes(of: &s.child_read) { raw in
      String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
    }
    return SharedMemoryResult(
      name: name, privateMapping: privateMapping, child: s.child, parentAddress: UInt(s.parent_address),
      childAddress: UInt(s.child_address), listedBeforeUnlink: s.listed_before_unlink != 0,
      listedAfterUnlink: s.listed_after_unlink != 0, childSawParent: s.child_saw_parent != 0,
      childWaited: .nanoseconds(s.child_saw_ns), childRead: text, parentSawChild: s.parent_saw_child != 0,
      parentWaited: .nanoseconds(s.parent_saw_ns), counterMode: counter, iterations: iterations,
      counter: Int(s.counter), counterTime: .nanoseconds(s.counter_ns), nameLeft: s.names_left != 0,
      status: TerminationStatus(waitStatus: s.status))
  }
}
