import CLab
import Glibc

/// A ping-pong over two pipes for measuring context switches: the caller writes
/// a byte, the partner (a thread, or a forked child process) reads it and writes
/// one back. Pinned to one CPU, every round trip is two real switches. The timed
/// loop is C (CLab `clab_switch_*`); the forked child only reads, writes and _exits.
public final class PingPong {
  public enum Partner: String, Sendable {
    /// Nobody: the caller writes and reads one pipe itself (the pipe calls without a switch).
    case none
    case thread
    case process
  }

  public let partner: Partner
  /// The partner's TID (thread) or PID (process); 0 for `.none`.
  public let partnerID: Int32
  private var pair: OpaquePointer?

  /// pipe2(O_CLOEXEC) ×2, then pthread_create or fork (child: read/write/_exit only).
  public init(_ partner: Partner, pinnedTo cpu: Int32) throws {
    self.partner = partner
    let kind: Int32 =
      switch partner {
      case .none: Int32(CLAB_SWITCH_NONE)
      case .thread: Int32(CLAB_SWITCH_THREADS)
      case .process: Int32(CLAB_SWITCH_PROCESSES)
      }
    var error: Int32 = 0
    let start = MonotonicClock.nanoseconds()
    guard let p = clab_switch_open(kind, cpu, &error) else {
      Trace.record(
        "pipe2+\(partner == .process ? "fork" : "pthread_create")", "O_CLOEXEC",
        result: "-1 \(SystemError.name(of: error))", since: start)
      throw SystemError(
        partner == .process ? "fork" : partner == .thread ? "pthread_create" : "pipe2", errno: error)
    }
    pair = p
    partnerID = clab_switch_partner(p)
    let call = partner == .process ? " + fork" : partner == .thread ? " + pthread_create" : ""
    Trace.record(
      "pipe2 ×2\(call)", "O_CLOEXEC",
      result: partner == .none ? "one pipe used both ways" : "partner \(partnerID)",
      since: start)
  }

  deinit { _ = close() }

  /// `roundTrips` ping-pongs (write + read on each side): the elapsed time and the
  /// caller's voluntary and involuntary switches meanwhile (getrusage RUSAGE_THREAD).
  public func batch(_ roundTrips: Int) throws -> (nanoseconds: Int64, voluntary: Int, involuntary: Int) {
    guard let pair else { throw SystemError("write", errno: EBADF) }
    var voluntary = 0
    var involuntary = 0
    let start = MonotonicClock.nanoseconds()
    let ns = clab_switch_batch(pair, Int32(roundTrips), &voluntary, &involuntary)
    if ns < 0 {
      Trace.record(
        "write+read", "\(roundTrips) round trips", result: "-1 \(SystemError.name(of: Int32(-ns)))",
        since: start)
      throw SystemError("read", errno: Int32(-ns))
    }
    Trace.record(
      "write+read",
      "\(roundTrips) round trips with \(partner == .none ? "no partner" : "a " + partner.rawValue)",
      result: "\(voluntary) voluntary, \(involuntary) involuntary switches", since: start)
    return (ns, voluntary, involuntary)
  }

  /// Ends the partner ('q', then end of file), pthread_join or wait4 it, closes the pipes.
  /// Returns the partner's own voluntary and involuntary switches over its life.
  @discardableResult
  public func close() -> (voluntary: Int, involuntary: Int) {
    guard let p = pair else { return (0, 0) }
    pair = nil
    var voluntary = 0
    var involuntary = 0
    let start = MonotonicClock.nanoseconds()
    let rc = clab_switch_close(p, &voluntary, &involuntary)
    let call = partner == .process ? "wait4" : partner == .thread ? "pthread_join" : "close"
    Trace.record(
      call, partner == .none ? "the pipe" : "\(partnerID)",
      result: rc == 0 ? "\(voluntary) voluntary switches" : "-1 \(SystemError.name(of: -rc))", since: start)
    return (voluntary, involuntary)
  }
}

/// Pinning the calling thread to one CPU (sched_setaffinity), so that two
/// partners take turns on it and each hand-over is a real context switch.
public final class CPUPin {
  private var saved: UnsafeMutableRawPointer?
  /// The CPU pinned to, or nil when pinning was refused.
  public let cpu: Int32?
  /// Why pinning failed (errno name), when it did.
  public let failure: String?

  /// sched_getaffinity + sched_getcpu + sched_setaffinity(0, {this CPU}).
  public init() {
    var cpu: Int32 = 0
    let start = MonotonicClock.nanoseconds()
    saved = clab_pin_here(&cpu)
    if saved != nil {
      self.cpu = cpu
      failure = nil
    } else {
      self.cpu = nil
      failure = SystemError.name(of: -cpu)
    }
    Trace.record(
      "sched_setaffinity", "0, {CPU \(saved != nil ? String(cpu) : "?")}",
      result: saved != nil ? "0" : "-1 \(failure ?? "")", since: start)
  }

  deinit { release() }

  /// sched_setaffinity(0, the mask saved before pinning).
  public func release() {
    guard let s = saved else { return }
    saved = nil
    let start = MonotonicClock.nanoseconds()
    clab_unpin(s)
    Trace.record("sched_setaffinity", "0, saved mask", result: "0", since: start)
  }
}
