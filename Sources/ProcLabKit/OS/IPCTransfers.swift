import CLab
import Foundation
import Glibc

/// The mechanisms a byte transfer between two processes can use.
public enum IPCMechanism: String, CaseIterable, Sendable {
  case pipe = "pipe"
  case stream = "socketpair stream"
  case datagram = "socketpair datagram"
  case fifo = "fifo"
  case sharedMemory = "shared memory + semaphores"
  case messageQueue = "message queue"

  var kind: Int32 {
    switch self {
    case .pipe: Int32(CLAB_IPC_PIPE)
    case .stream: Int32(CLAB_IPC_STREAM)
    case .datagram: Int32(CLAB_IPC_DGRAM)
    case .fifo: Int32(CLAB_IPC_FIFO)
    case .sharedMemory: Int32(CLAB_IPC_SHM)
    case .messageQueue: Int32(CLAB_IPC_MQ)
    }
  }

  /// The calls that set the mechanism up, for the trace.
  var setupCalls: String {
    switch self {
    case .pipe: "pipe2 ×2, fork, read/write"
    case .stream: "socketpair(AF_UNIX, SOCK_STREAM), fork, read/write"
    case .datagram: "socketpair(AF_UNIX, SOCK_DGRAM), fork, send/read"
    case .fifo: "mkfifo ×2, fork, open by name, read/write"
    case .sharedMemory:
      "shm_open, mmap(MAP_SHARED), shm_unlink, sem_init(pshared=1) ×4, fork, sem_wait/sem_post"
    case .messageQueue: "mq_open ×2, fork, mq_timedsend/mq_timedreceive, mq_unlink"
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
  public var namesLeft: Int
  public var status: TerminationStatus

  public var checksumsMatch: Bool { sentChecksum == receivedChecksum && bytesSent == bytesReceived }
  /// Bytes per second of the bulk phase (child counted them all and answered).
  public var throughput: Double { bulk.seconds > 0 ? Double(bytesSent) / bulk.seconds : 0 }
}

/// Moving bytes between the shell and a forked child (CLab does the fork side).
public enum IPCTransfer {
  /// fork() + the mechanism's calls: `rounds` round trips of `message` bytes (the child echoes),
  /// then `bytes` to the child, which counts and checksums them and answers. `name` is the
  /// FIFO directory, the shm object name or the queue name prefix.
  public static func run(
    _ mechanism: IPCMechanism, bytes: Int, rounds: Int, message: Int, name: String = ""
  ) throws -> IPCTransferResult {
    var t = clab_ipc_transfer()
    t.kind = mechanism.kind
    t.bytes = Int64(bytes)
    t.rounds = Int32(rounds)
    t.message = Int32(message)
    let start = MonotonicClock.nanoseconds()
    let rc = name.withCString { p -> Int32 in
      t.name = p
      return {
        IPCCallLog.begin()
        defer { IPCCallLog.end() }
        return clab_ipc_transfer_run(&t)
      }()
    }
    t.name = nil
    let failed = t.failed_call.map { String(cString: $0) }
    Trace.record(
      "fork+\(mechanism.rawValue)",
      "\(mechanism.setupCalls); \(rounds) round trips of \(message) B, \(bytes) B",
      result: rc == 0
        ? "child \(t.child), \(t.child_received) B received in \(t.child_reads) reads"
        : rc == -2
          ? "interrupted, child \(t.child) killed and reaped"
          : "-1 \(SystemError.name(of: t.failed_errno)) in \(failed ?? "?")",
      since: start)
    if rc == -2 { throw Interrupted() }
    if rc != 0 { throw SystemError(failed ?? "transfer", errno: t.failed_errno) }
    let avg = rounds > 0 ? t.rtt_total_ns / Int64(rounds) : 0
    return IPCTransferResult(
      mechanism: mechanism, child: t.child, parentSendFD: t.parent_send_fd, parentReceiveFD: t.parent_recv_fd,
      childReceiveFD: t.child_recv_fd, childSendFD: t.child_send_fd, chunk: Int(t.chunk),
      bytesSent: Int(t.sent),
      bytesReceived: Int(t.child_received), childReads: Int(t.child_reads), sentChecksum: t.sent_checksum,
      receivedChecksum: t.child_checksum, rounds: rounds, message: message,
      echoMismatches: Int(t.echo_mismatches),
      roundTripAverage: .nanoseconds(avg), roundTripMin: .nanoseconds(max(0, t.rtt_min_ns)),
      roundTripMax: .nanoseconds(t.rtt_max_ns), bulk: .nanoseconds(t.bulk_ns), namesLeft: Int(t.names_left),
      status: TerminationStatus(waitStatus: t.status))
  }
}

/// Unique names for POSIX IPC objects (shm, message queues): `/proclab-PID-N-RANDOM`.
public enum IPCNames {
  nonisolated(unsafe) private static var counter = 0

  public static func unique(_ what: String) -> String {
    counter += 1
    return "/proclab-\(what)-\(getpid())-\(counter)-\(UInt32.random(in: 0...UInt32.max))"
  }

  /// Whether a name is still listed where Linux shows it (/dev/shm, /dev/mqueue when mounted).
  public static func listed(shm name: String) -> Bool { access("/dev/shm" + name, F_OK) == 0 }
  public static func listed(queue name: String) -> Bool { access("/dev/mqueue" + name, F_OK) == 0 }

  /// mq_open(name, O_RDONLY) + mq_close: whether a message queue of this name exists.
  public static func queueExists(_ name: String) -> Bool {
    let start = MonotonicClock.nanoseconds()
    let found = clab_ipc_queue_exists(name) != 0
    Trace.record(
      "mq_open", "\(name), O_RDONLY", result: found ? "exists" : "-1 \(SystemError.name(of: clab_errno()))",
      since: start)
    return found
  }
}

/// The calls the C side of an IPC experiment made in the shell's process, moved into the trace.
enum IPCCallLog {
  /// Starts logging (when tracing is on) before a CLab experiment.
  static func begin() { clab_ipc_trace_enable(Trace.isEnabled ? 1 : 0) }

  /// Moves what the experiment logged into the shell's trace, in order, and stops logging.
  static func end() {
    defer { clab_ipc_trace_enable(0) }
    guard Trace.isEnabled else { return }
    var calls = [clab_ipc_call](repeating: clab_ipc_call(), count: 64)
    let n = Int(clab_ipc_take_calls(&calls, 64))
    let pid = getpid()
    let tid = clab_gettid()
    for var c in calls.prefix(n) {
      let name = withUnsafeBytes(of: &c.name) {
        String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self)
      }
      let args = withUnsafeBytes(of: &c.args) {
        String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self)
      }
      let result = c.result < 0 ? "-1 \(SystemError.name(of: c.err))" : "\(c.result)"
      Trace.append(
        TraceCall(pid: pid, tid: tid, name: name, arguments: args, result: result, nanoseconds: c.ns))
    }
  }
}
