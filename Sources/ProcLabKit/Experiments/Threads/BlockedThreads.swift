/// Threads a command started and blocked on purpose: each waits in poll() on
/// the read end of one pipe. Closing the write end wakes them all at once
/// (end of file), after which they end and are joined.
// why: the descriptors change only in release(), which the shell calls from its main thread.
final class BlockedThreads: Keeper, @unchecked Sendable {
  let handles: [Threads.Handle]
  let tids: [Int32]
  let started: UInt64
  let holdFor: Duration
  private var readFD: Int32
  private var writeFD: Int32

  init(handles: [Threads.Handle], tids: [Int32], pipe: (read: Int32, write: Int32), holdFor: Duration) {
    self.handles = handles
    self.tids = tids
    self.readFD = pipe.read
    self.writeFD = pipe.write
    self.holdFor = holdFor
    self.started = MonotonicClock.nanoseconds()
  }

  /// Threads still listed in /proc/self/task (a held thread ends by itself when its hold time is up).
  var alive: [Int32] {
    let live = Set(Threads.tasks())
    return tids.filter { live.contains($0) }
  }

  var heldThreads: Int { alive.count }
  var heldDescriptors: Int { (readFD >= 0 ? 1 : 0) + (writeFD >= 0 ? 1 : 0) }

  /// Wakes every thread (close of the write end), joins them and closes the pipe.
  func release() {
    if writeFD >= 0 {
      Descriptors.close(writeFD)
      writeFD = -1
    }
    if !handles.isEmpty { Threads.joinAll(handles, tids: tids) }
    if readFD >= 0 {
      Descriptors.close(readFD)
      readFD = -1
    }
  }

  /// The body each blocked thread runs after reporting: wait in poll() until the
  /// write end closes or `limit` passes.
  static func block(on fd: Int32, for limit: Duration) {
    _ = Descriptors.readable([fd], timeout: limit)
  }
}
