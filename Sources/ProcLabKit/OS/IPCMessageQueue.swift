import CLab
import Glibc

/// A POSIX message queue (mq_overview(7)): whole messages with priorities, kept
/// by the kernel under a name until mq_unlink, even after every process closed it.
public final class MessageQueue {
  public let name: String
  public let descriptor: mqd_t
  private var open = true
  private var linked = true

  /// mq_open(name, O_CREAT|O_EXCL|O_RDWR|O_CLOEXEC, 0600, {maxmsg, msgsize}). A claim
  /// file of the same name goes into TMPDIR first (Leftovers): /dev/mqueue is not
  /// always mounted, and a queue outlives a shell killed before mq_unlink.
  public init(creating name: String, maxMessages: Int, messageSize: Int) throws {
    self.name = name
    let claim = MessageQueue.claimPath(name)
    let fd = try Trace.call("open", "\(claim), O_CREAT|O_EXCL|O_WRONLY (a claim: whose queue this is)") {
      Glibc.open(claim, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
    }
    Descriptors.close(fd)
    do {
      descriptor = try Trace.call(
        "mq_open", "\(name), O_CREAT|O_EXCL|O_RDWR, 0600, maxmsg \(maxMessages), msgsize \(messageSize)"
      ) {
        clab_mq_open(name, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0o600, maxMessages, messageSize)
      }
    } catch {
      _ = Glibc.unlink(claim)
      throw error
    }
  }

  deinit {
    close()
    unlink()
  }

  static func claimPath(_ name: String) -> String { Leftovers.temporaryDirectory + "/" + name.dropFirst() }

  /// mq_close(descriptor).
  public func close() {
    guard open else { return }
    open = false
    let start = MonotonicClock.nanoseconds()
    let rc = mq_close(descriptor)
    Trace.record("mq_close", "\(descriptor)", result: "\(rc)", since: start)
  }

  /// mq_unlink(name), then the claim file goes.
  public func unlink() {
    guard linked else { return }
    linked = false
    let start = MonotonicClock.nanoseconds()
    let rc = mq_unlink(name)
    Trace.record(
      "mq_unlink", name, result: rc == 0 ? "0" : "-1 \(SystemError.name(of: errno))", since: start)
    _ = Glibc.unlink(MessageQueue.claimPath(name))
  }

  /// mq_getattr: how many messages wait in it.
  public func waiting() throws -> Int {
    var attr = mq_attr()
    try Trace.call("mq_getattr", "\(descriptor)", describe: { _ in "\(attr.mq_curmsgs) messages" }) {
      mq_getattr(descriptor, &attr)
    }
    return Int(attr.mq_curmsgs)
  }

  /// mq_timedsend, waiting at most until `deadline` (CLOCK_REALTIME): false on ETIMEDOUT.
  func send(_ bytes: UnsafeRawBufferPointer, priority: UInt32 = 0, deadline: timespec) throws -> Bool {
    var limit = deadline
    do {
      try systemCall("mq_timedsend") {
        mq_timedsend(
          descriptor, bytes.baseAddress!.assumingMemoryBound(to: CChar.self), bytes.count, priority, &limit)
      }
      return true
    } catch let e as SystemError where e.errno == ETIMEDOUT { return false }
  }

  /// mq_timedreceive into `buffer` (at least msgsize bytes): the message's size and
  /// priority, or nil on ETIMEDOUT.
  func receive(into buffer: UnsafeMutableRawBufferPointer, deadline: timespec) throws -> (
    size: Int, priority: Int
  )? {
    var limit = deadline
    var priority: UInt32 = 0
    do {
      let n = try systemCall("mq_timedreceive") {
        mq_timedreceive(
          descriptor, buffer.baseAddress!.assumingMemoryBound(to: CChar.self), buffer.count, &priority, &limit
        )
      }
      return (n, Int(priority))
    } catch let e as SystemError where e.errno == ETIMEDOUT { return nil }
  }

  /// mq_open(name, O_RDONLY) + mq_close: whether a queue of this name exists.
  public static func exists(_ name: String) -> Bool {
    let start = MonotonicClock.nanoseconds()
    let q = clab_mq_open(name, O_RDONLY | O_CLOEXEC, 0, 0, 0)
    let found = q >= 0
    if found { mq_close(q) }
    Trace.record(
      "mq_open", "\(name), O_RDONLY", result: found ? "exists" : "-1 \(SystemError.name(of: errno))",
      since: start)
    return found
  }

  /// An absolute CLOCK_REALTIME deadline `d` from now, as the timed calls want it.
  static func deadline(in d: Duration) -> timespec {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    let ns = Int(now.tv_nsec) + Int(d.nanoseconds)
    return timespec(tv_sec: now.tv_sec + ns / 1_000_000_000, tv_nsec: ns % 1_000_000_000)
  }
}

public struct MessageQueueResult: Sendable {
  public var name: String
  public var child: Int32
  public var sentPriorities: [Int]
  public var queued: Int
  public var received: [(priority: Int, text: String)]
  public var nameLeft: Bool
  public var status: TerminationStatus
}

public enum IPCMessageQueue {
  /// mq_open(O_CREAT|O_EXCL, maxmsg 8, msgsize 32); fork: the child mq_sends one message
  /// per priority and exits; the shell reaps it, then mq_getattr, mq_timedreceive until
  /// empty, mq_close, mq_unlink.
  public static func priorities(_ priorities: [Int]) throws -> MessageQueueResult {
    try IPCChild.stoppable {
      let name = IPCNames.unique("mq")
      let queue = try MessageQueue(creating: name, maxMessages: 8, messageSize: 32)
      defer {
        queue.close()
        queue.unlink()
      }
      var args = clab_mq_sender_args()
      args.queue = queue.descriptor
      args.count = Int32(min(8, priorities.count))
      withUnsafeMutableBytes(of: &args.priorities) { raw in
        for (i, p) in priorities.prefix(8).enumerated() {
          raw.storeBytes(of: Int32(p), toByteOffset: 4 * i, as: Int32.self)
        }
      }
      let child = try IPCChild.fork(
        "mq_send ×\(args.count) with priorities \(priorities), then _exit", body: clab_child_mq_sender,
        args: args)
      // The child sends everything and ends before the shell receives anything.
      guard let status = try child.waitForEnd(within: .seconds(10)) else {
        throw SystemError("mq_send (the sender did not finish)", errno: ETIMEDOUT)
      }
      let queued = try queue.waiting()
      var received: [(priority: Int, text: String)] = []
      let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 8)
      defer { buffer.deallocate() }
      let start = MonotonicClock.nanoseconds()
      while received.count < queued,
        let (n, priority) = try queue.receive(
          into: buffer, deadline: MessageQueue.deadline(in: .milliseconds(100)))
      {
        received.append((priority, String(decoding: buffer.prefix(n).prefix { $0 != 0 }, as: UTF8.self)))
      }
      Trace.record(
        "mq_timedreceive", "\(queue.descriptor), ×\(received.count)",
        result: "priorities \(received.map(\.priority))", since: start)
      queue.close()
      queue.unlink()
      return MessageQueueResult(
        name: name, child: child.pid, sentPriorities: priorities, queued: queued, received: received,
        nameLeft: MessageQueue.exists(name), status: status)
    }
  }
}
