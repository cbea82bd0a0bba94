import CLab
import Glibc
import Synchronization

/// The mechanisms a byte transfer between two processes can use.
public enum IPCMechanism: String, CaseIterable, Sendable {
  case pipe = "pipe"
  case stream = "socketpair stream"
  case datagram = "socketpair datagram"
  case fifo = "fifo"
  case sharedMemory = "shared memory + semaphores"
  case messageQueue = "message queue"

  /// The channel of this mechanism, not yet opened.
  func makeChannel() throws -> TransferChannel {
    switch self {
    case .pipe: PipeChannel()
    case .stream: SocketChannel(datagram: false)
    case .datagram: SocketChannel(datagram: true)
    case .fifo: FifoChannel(directory: try IPCFifo.makePrivateDirectory())
    case .sharedMemory: try SharedChannel(name: IPCNames.unique("shm"))
    case .messageQueue: try QueueChannel(name: IPCNames.unique("mq"))
    }
  }
}

/// What one transfer between the shell and a forked child observed.
public struct IPCTransferResult: Sendable {
  public var mechanism: IPCMechanism
  public var child: Int32
  public var parentSendFD: Int32
  public var parentReceiveFD: Int32
  public var childReceiveFD: Int32
  public var childSendFD: Int32
  public var chunk: Int
  public var bytesSent: Int
  public var bytesReceived: Int
  public var childReads: Int
  public var sentChecksum: UInt64
  public var receivedChecksum: UInt64
  public var rounds: Int
  public var message: Int
  public var echoMismatches: Int
  public var roundTripAverage: Duration
  public var roundTripMin: Duration
  public var roundTripMax: Duration
  public var bulk: Duration
  /// The names it created (FIFOs, the shm object, the queues), all removed by now.
  public var names: [String]
  public var namesLeft: Int
  /// The FIFO directory and what was still in it before rmdir (fifo only).
  public var directory: String?
  public var leftInDirectory: [String]
  public var status: TerminationStatus

  public var checksumsMatch: Bool { sentChecksum == receivedChecksum && bytesSent == bytesReceived }
  /// Bytes per second of the bulk phase (child counted them all and answered).
  public var throughput: Double { bulk.seconds > 0 ? Double(bytesSent) / bulk.seconds : 0 }
}

/// Moving bytes between the shell and a forked child: the shell's side here, the
/// child's in C (clab_child_transfer), one channel class per mechanism.
public enum IPCTransfer {
  static let patternSize = 1 << 20

  /// fork() + the mechanism's calls: `rounds` round trips of `message` bytes (the child
  /// echoes each), then `bytes` to the child, which counts and checksums them and answers.
  /// Everything is closed, unlinked, killed and reaped before it returns, also on Ctrl-C.
  public static func run(
    _ mechanism: IPCMechanism, bytes: Int, rounds: Int, message: Int
  ) throws -> IPCTransferResult {
    try IPCChild.stoppable {
      let channel = try mechanism.makeChannel()
      let fifo = channel as? FifoChannel
      defer {
        channel.close()
        if let fifo { IPCFifo.removeDirectory(fifo.directory) }
      }
      try channel.open()
      // The numbers the child uses, for the report, before the shell closes its copies of them.
      let childFDs = (channel.childReceive, channel.childSend)
      let chunk = channel.chunk
      let child = try channel.withChildArguments { args, closing -> IPCChild in
        var args = args
        args.rounds = Int64(rounds)
        args.message = Int64(message)
        args.bytes = Int64(bytes)
        return try IPCChild.fork(
          "echoes \(rounds) messages, then counts \(bytes) bytes", body: clab_child_transfer, args: args,
          closing: closing)
      }
      defer { child.stop() }
      try channel.connect(to: child)

      let pattern = makePattern(byteCount: patternSize + chunk)
      defer { pattern.deallocate() }
      let buffer = UnsafeMutableRawBufferPointer.allocate(
        byteCount: max(chunk, message, 64 * 1024), alignment: 8)
      defer { buffer.deallocate() }
      let wholeMessages = mechanism == .messageQueue || mechanism == .sharedMemory

      // Round trips: the child echoes each message.
      var total: Int64 = 0
      var fastest = Int64.max
      var slowest: Int64 = 0
      var mismatches = 0
      let roundsStart = MonotonicClock.nanoseconds()
      for r in 0..<rounds {
        try Interrupt.check()
        let msg = UnsafeRawBufferPointer(rebasing: pattern[((r * 131) % patternSize)...].prefix(message))
        let t0 = MonotonicClock.nanoseconds()
        try channel.send(msg, to: child)
        var got = 0
        while got < message {
          let room = wholeMessages ? buffer.count - got : message - got
          got += try channel.receive(
            into: UnsafeMutableRawBufferPointer(rebasing: buffer[got...].prefix(room)), from: child)
        }
        let dt = Int64(MonotonicClock.nanoseconds() - t0)
        if !buffer.prefix(message).elementsEqual(msg) { mismatches += 1 }
        total += dt
        fastest = min(fastest, dt)
        slowest = max(slowest, dt)
      }
      Trace.record(
        "send+receive", "\(rounds) round trips of \(message) B to child \(child.pid) and back",
        result: "\(rounds) echoed", since: roundsStart)

      // Bulk: the child counts and checksums, then answers.
      var sent = 0
      var sends = 0
      let bulkStart = MonotonicClock.nanoseconds()
      while sent < bytes {
        if sends & 15 == 0 { try Interrupt.check() }
        let n = min(chunk, bytes - sent)
        try channel.send(
          UnsafeRawBufferPointer(rebasing: pattern[((sends * 4099) % patternSize)...].prefix(n)), to: child)
        sent += n
        sends += 1
      }
      let answer = try receiveAnswer(through: channel, from: child, buffer: buffer)
      let answerSize = MemoryLayout<clab_transfer_answer>.size
      let bulk = MonotonicClock.since(bulkStart)
      Trace.record(
        "send", "\(sends) sends of up to \(chunk) B, then the child's \(answerSize)-byte answer",
        result: "\(sent) B", since: bulkStart)

      // The shell's own checksum of what it sent, outside the timed part.
      let checksum = checksumOfSent(sent, chunk: chunk, pattern: pattern)
      let status = child.finish()
      let parentFDs = (channel.parentSend, channel.parentReceive, childFDs.0, childFDs.1)
      channel.close()
      let leftInDirectory = fifo.map { ProcFS.list($0.directory) ?? [] } ?? []
      return IPCTransferResult(
        mechanism: mechanism, child: child.pid, parentSendFD: parentFDs.0, parentReceiveFD: parentFDs.1,
        childReceiveFD: parentFDs.2, childSendFD: parentFDs.3, chunk: chunk, bytesSent: sent,
        bytesReceived: Int(answer.received), childReads: Int(answer.reads), sentChecksum: checksum,
        receivedChecksum: answer.checksum, rounds: rounds, message: message, echoMismatches: mismatches,
        roundTripAverage: .nanoseconds(rounds > 0 ? total / Int64(rounds) : 0),
        roundTripMin: .nanoseconds(rounds > 0 ? fastest : 0), roundTripMax: .nanoseconds(slowest), bulk: bulk,
        names: channel.names, namesLeft: channel.namesLeft().count, directory: fifo?.directory,
        leftInDirectory: leftInDirectory, status: status)
    }
  }
}

extension IPCTransfer {
  /// Bytes from a xorshift generator: what the bulk phase sends, never all one value, so a
  /// byte lost, doubled or reordered changes the checksum. The caller deallocates it.
  static func makePattern(byteCount: Int) -> UnsafeMutableRawBufferPointer {
    let pattern = UnsafeMutableRawBufferPointer.allocate(byteCount: byteCount, alignment: 8)
    var x: UInt64 = 0x9E37_79B9_7F4A_7C15
    for i in 0..<pattern.count {
      x ^= x << 13
      x ^= x >> 7
      x ^= x << 17
      pattern[i] = UInt8(truncatingIfNeeded: x)
    }
    return pattern
  }

  /// The child's clab_transfer_answer, which may come in pieces on a byte stream.
  static func receiveAnswer(
    through channel: TransferChannel, from child: IPCChild, buffer: UnsafeMutableRawBufferPointer
  ) throws -> clab_transfer_answer {
    var answer = clab_transfer_answer()
    let answerSize = MemoryLayout<clab_transfer_answer>.size
    var got = 0
    while got < answerSize {
      let n = try channel.receive(into: buffer, from: child)
      withUnsafeMutableBytes(of: &answer) { a in
        let take = min(n, answerSize - got)
        a.baseAddress!.advanced(by: got).copyMemory(from: buffer.baseAddress!, byteCount: take)
      }
      got += n
    }
    return answer
  }

  /// The shell's own checksum of the `sent` bytes, chunk by chunk as the bulk phase sent
  /// them (outside the timed part).
  static func checksumOfSent(_ sent: Int, chunk: Int, pattern: UnsafeMutableRawBufferPointer) -> UInt64 {
    var checksum = IPCChecksum()
    var left = sent
    var i = 0
    while left > 0 {
      let n = min(chunk, left)
      checksum.add(UnsafeRawBufferPointer(rebasing: pattern[((i * 4099) % patternSize)...].prefix(n)))
      left -= n
      i += 1
    }
    return checksum.value
  }
}

/// Unique names for POSIX IPC objects (shm, message queues): `/proclab-KIND-PID-N-RANDOM`.
/// The PID after the prefix lets the next shell sweep what a killed one left (Leftovers).
public enum IPCNames {
  private static let counter = Counter()

  public static func unique(_ what: String) -> String {
    "/proclab-\(what)-\(getpid())-\(counter.next())-\(UInt32.random(in: 0...UInt32.max))"
  }

  /// Whether a name is still listed where Linux shows it (/dev/shm).
  public static func listed(shm name: String) -> Bool { access("/dev/shm" + name, F_OK) == 0 }

  final class Counter: Sendable {
    private let value = Mutex(0)
    func next() -> Int {
      value.withLock {
        $0 += 1
        return $0
      }
    }
  }
}
