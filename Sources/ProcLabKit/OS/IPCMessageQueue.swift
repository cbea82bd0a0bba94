import CLab
import Glibc

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
  /// mq_open(O_CREAT|O_EXCL, maxmsg 8, msgsize 32); fork; the child mq_sends one message per
  /// priority and exits; mq_getattr; mq_receive until empty; mq_close; mq_unlink.
  public static func priorities(name: String, _ priorities: [Int]) throws -> MessageQueueResult {
    var m = clab_ipc_mq()
    m.count = Int32(priorities.count)
    withUnsafeMutableBytes(of: &m.priorities) { raw in
      let p = raw.bindMemory(to: Int32.self)
      for (i, v) in priorities.prefix(8).enumerated() { p[i] = Int32(v) }
    }
    let start = MonotonicClock.nanoseconds()
    let rc = name.withCString { p -> Int32 in
      m.name = p
      return {
        IPCCallLog.begin()
        defer { IPCCallLog.end() }
        return clab_ipc_mq_run(&m)
      }()
    }
    m.name = nil
    let failed = m.failed_call.map { String(cString: $0) }
    Trace.record(
      "mq_open",
      "\(name), O_CREAT|O_EXCL|O_RDWR, maxmsg 8, msgsize 32; fork; mq_send ×\(priorities.count); mq_receive; mq_unlink",
      result: rc == 0
        ? "child \(m.child), \(m.received) received"
        : "-1 \(SystemError.name(of: m.failed_errno)) in \(failed ?? "?")",
      since: start)
    if rc == -2 { throw Interrupted() }
    if rc != 0 { throw SystemError(failed ?? "mq_open", errno: m.failed_errno) }
    var received: [(Int, String)] = []
    let count = Int(m.received)
    withUnsafeBytes(of: &m.received_priorities) { pr in
      withUnsafeBytes(of: &m.received_text) { tx in
        let prios = pr.bindMemory(to: Int32.self)
        for i in 0..<count {
          let slice = tx[(i * 32)..<(i * 32 + 32)]
          received.append((Int(prios[i]), String(decoding: slice.prefix(while: { $0 != 0 }), as: UTF8.self)))
        }
      }
    }
    return MessageQueueResult(
      name: name, child: m.child, sentPriorities: priorities, queued: Int(m.queued),
      received: received.map { (priority: $0.0, text: $0.1) }, nameLeft: m.names_left != 0,
      status: TerminationStatus(waitStatus: m.status))
  }
}
