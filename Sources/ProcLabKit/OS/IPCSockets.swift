import CLab
import Glibc

/// Three messages sent quickly over a socketpair and how the child's reads cut them.
public struct BoundariesResult: Sendable {
  public var datagram: Bool
  public var sizes: [Int]
  public var parentFD: Int32
  public var childFD: Int32
  public var child: Int32
  public var readSizes: [Int]
  /// Bytes of the child's answer, which came back over the same socket.
  public var answerBytes: Int
  public var status: TerminationStatus
}

public enum IPCSockets {
  /// socketpair(AF_UNIX, SOCK_STREAM or SOCK_DGRAM) + fork: the parent sends `sizes`,
  /// the child reads (4096-byte buffer) only after all were sent, and answers with its read sizes.
  public static func boundaries(datagram: Bool, sizes: [Int]) throws -> BoundariesResult {
    var b = clab_ipc_boundaries()
    b.datagram = datagram ? 1 : 0
    b.sizes = (Int32(sizes[0]), Int32(sizes[1]), Int32(sizes[2]))
    let start = MonotonicClock.nanoseconds()
    let rc = {
      IPCCallLog.begin()
      defer { IPCCallLog.end() }
      return clab_ipc_boundaries_run(&b)
    }()
    let failed = b.failed_call.map { String(cString: $0) }
    var reads: [Int] = []
    withUnsafeBytes(of: &b.read_sizes) { raw in
      let all = raw.bindMemory(to: Int32.self)
      for i in 0..<min(Int(b.reads), 16) { reads.append(Int(all[i])) }
    }
    Trace.record(
      "socketpair", "AF_UNIX, \(datagram ? "SOCK_DGRAM" : "SOCK_STREAM"); fork; send ×3 \(sizes); recv",
      result: rc == 0
        ? "[\(b.parent_fd), \(b.child_fd)], child \(b.child) read \(reads)"
        : "-1 \(SystemError.name(of: b.failed_errno))",
      since: start)
    if rc == -2 { throw Interrupted() }
    if rc != 0 { throw SystemError(failed ?? "socketpair", errno: b.failed_errno) }
    return BoundariesResult(
      datagram: datagram, sizes: sizes, parentFD: b.parent_fd, childFD: b.child_fd, child: b.child,
      readSizes: reads,
      answerBytes: Int(b.answer_bytes), status: TerminationStatus(waitStatus: b.status))
  }
}
