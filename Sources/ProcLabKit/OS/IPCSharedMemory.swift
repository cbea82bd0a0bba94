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
  /// The child mapped the object twice: two addresses of one page in one process.
  public var childAddress: UInt
  public var childSecondAddress: UInt
  public var listedBeforeUnlink: Bool
  public var listedAfterUnlink: Bool
  public var childSawParent: Bool
  /// The child's second mapping showed the shell's message too.
  public var childSecondSaw: Bool
  public var childWaited: Duration
  public var childRead: String
  public var parentSawChild: Bool
  public var counterMode: Counter
  public var iterations: Int
  public var counter: Int
  public var counterTime: Duration
  /// How long both processes were counting at the same time (their intervals' overlap).
  public var overlap: Duration
  public var nameLeft: Bool
  public var status: TerminationStatus
  public var expected: Int { 2 * iterations }
  public var lost: Int { max(0, expected - counter) }
}

public enum IPCSharedMemory {
  /// shm_open(O_CREAT|O_EXCL) + ftruncate + mmap(MAP_SHARED or MAP_PRIVATE); fork; the child
  /// opens the object by name and maps it twice; shm_unlink once both mapped; each writes a
  /// message the other looks for; optionally both, released together, increment one counter
  /// `iterations` times (clab_shm_count).
  public static func run(
    privateMapping: Bool, counter: SharedMemoryResult.Counter, iterations: Int
  ) throws -> SharedMemoryResult {
    try IPCChild.stoppable {
      let name = IPCNames.unique("shm")
      let object = try SharedMemoryObject(
        creating: name, size: MemoryLayout<clab_shm_region>.size, privateMapping: privateMapping)
      let region = object.address.bindMemory(to: clab_shm_region.self, capacity: 1)
      var semaphore = false
      defer {
        if semaphore { sem_destroy(&region.pointee.lock) }
        object.unmap()
      }
      if counter == .semaphore {
        try SharedSemaphore.initialize(&region.pointee.lock, value: 1)
        semaphore = true
      }
      let listedBefore = object.isListed
      let control = try IPCPipe()
      let report = try IPCPipe()
      let child = try object.path.withCString { path in
        let args = clab_shm_args(
          path: path, inherited: object.address, private_mapping: privateMapping ? 1 : 0,
          counter_mode: counter.rawValue,
          iterations: Int64(iterations), control_fd: control.read, report_fd: report.write)
        return try IPCChild.fork(
          "unmaps what it inherited, opens \(object.path) by name and maps it twice", body: clab_child_shm,
          args: args,
          closing: [control.write, report.read])
      }
      defer { child.stop() }
      control.closeRead()
      report.closeWrite()
      let mapped = try report.receive(clab_shm_report.self)
      // Both mapped it: the name can go, and nothing is left if either side is killed later.
      try object.unlink()
      let listedAfter = object.isListed

      let message = Array("hello from the parent".utf8) + [0]
      withUnsafeMutableBytes(of: &region.pointee.parent_message) { $0.copyBytes(from: message) }
      region.pointee.parent_wrote = 1
      try control.send("1")
      var saw = try report.receive(clab_shm_report.self)
      // The child wrote its message before it answered: it is there now, or never.
      let reply = withUnsafeBytes(of: &region.pointee.child_message) {
        String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
      }
      let parentSaw = region.pointee.child_wrote != 0 && reply == "hello from the child"

      var count = 0
      var counting = Duration.zero
      var overlap = Duration.zero
      if counter != .none {
        region.pointee.counter = 0
        try control.send("c")
        let start = MonotonicClock.nanoseconds()
        let rc = clab_shm_count(region, counter.rawValue, Int64(iterations), 0)
        if rc == -2 { throw Interrupted() }
        _ = try report.readExactly(1, within: .seconds(60))
        counting = MonotonicClock.since(start)
        count = Int(region.pointee.counter)
        let (s0, s1, e0, e1) = (
          region.pointee.started.0, region.pointee.started.1, region.pointee.ended.0, region.pointee.ended.1
        )
        overlap = .nanoseconds(max(0, min(e0, e1) - max(s0, s1)))
        Trace.record(
          "load+add+store",
          "\(iterations) increments in each of 2 processes\(counter == .semaphore ? ", sem_wait/sem_post around each" : "")",
          result: "counter \(count)", since: start)
      } else {
        try control.send("q")
      }
      let text = withUnsafeBytes(of: &saw.text) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
      return SharedMemoryResult(
        name: name, privateMapping: privateMapping, child: child.pid,
        parentAddress: UInt(bitPattern: object.address), childAddress: UInt(mapped.address),
        childSecondAddress: UInt(mapped.second_address), listedBeforeUnlink: listedBefore,
        listedAfterUnlink: listedAfter, childSawParent: saw.seen != 0, childSecondSaw: saw.second_saw != 0,
        childWaited: .nanoseconds(saw.waited_ns), childRead: text, parentSawChild: parentSaw,
        counterMode: counter,
        iterations: iterations, counter: count, counterTime: counting, overlap: overlap,
        nameLeft: IPCNames.listed(shm: name), status: child.finish())
    }
  }
}
