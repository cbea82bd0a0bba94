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
  /// socketpair(AF_UNIX, SOCK_STREAM or SOCK_DGRAM) + fork: the shell sends `sizes`,
  /// the child recv()s only after all were sent and answers with its read sizes.
  public static func boundaries(datagram: Bool, sizes: [Int]) throws -> BoundariesResult {
    try IPCChild.stoppable {
      let sockets = SocketChannel(datagram: datagram)
      defer { sockets.close() }
      try sockets.open()
      let go = try IPCPipe()
      let args = clab_boundaries_args(
        socket_fd: sockets.childSend, go_fd: go.read, total: Int32(sizes.reduce(0, +)))
      let child = try IPCChild.fork(
        "recv() once told to, then answers over the same socket", body: clab_child_boundaries, args: args,
        closing: [sockets.parentSend, go.write])
      defer { child.stop() }
      let childFD = sockets.childSend
      try sockets.connect(to: child)
      go.closeRead()
      for (i, size) in sizes.enumerated() {
        let message = [UInt8](repeating: UInt8(ascii: "a") + UInt8(i), count: size)
        try Trace.call("send", "\(sockets.parentSend), \(size) bytes, MSG_NOSIGNAL") {
          message.withUnsafeBytes {
            Glibc.send(sockets.parentSend, $0.baseAddress, size, Int32(MSG_NOSIGNAL))
          }
        }
      }
      try go.send("g")
      let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 17 * 4, alignment: 4)
      defer { buffer.deallocate() }
      let n = try Trace.call("recv", "\(sockets.parentSend): the child's answer") {
        recv(sockets.parentSend, buffer.baseAddress, buffer.count, 0)
      }
      let ints = (0..<n / 4).map { Int(buffer.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self)) }
      let reads = Array(ints.dropFirst().prefix(ints.first ?? 0))
      return BoundariesResult(
        datagram: datagram, sizes: sizes, parentFD: sockets.parentSend, childFD: childFD, child: child.pid,
        readSizes: reads, answerBytes: n, status: child.finish())
    }
  }
}
