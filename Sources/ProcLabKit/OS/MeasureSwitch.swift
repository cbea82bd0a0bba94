import CLab
import Glibc
import Synchronization

/// A ping-pong over two pipes for measuring context switches: the caller writes
/// a byte, the partner (a thread, or a forked child process) reads it and writes
/// one back. Pinned to one CPU, every round trip is two real switches. The timed
/// loop and the partner's loop are C (CLab `clab_switch_*`); a process partner
/// only reads, writes, sums its working set and _exits.
public final class PingPong {
  public enum Partner: String, Sendable {
    /// Nobody: the caller writes and reads one pipe itself (the pipe calls without a switch).
    case none
    case thread
    case process
  }

  public let partner: Partner
  /// Bytes each side reads (one load per cache line) every time it gets the byte.
  public let workingSet: Int
  /// The partner's TID (thread) or PID (process); 0 for `.none`.
  public private(set) var partnerID: Int32 = 0
  private let ping: IPCPipe
  private let pong: IPCPipe
  private var child: IPCChild?
  private var thread: Threads.Handle?
  private let threadPartner = ThreadPartner()

  /// What the partner thread reports back: its TID once started, its switches once ended.
  final class ThreadPartner: Sendable {
    let tid = Mutex<Int32>(0)
    let switches = Mutex((voluntary: 0, involuntary: 0))
  }
  private var closed = false

  /// pipe2(O_CLOEXEC) ×2, then pthread_create or fork. Partners created while the
  /// caller is pinned (CPUPin) inherit the pin.
  public init(_ partner: Partner, workingSet: Int = 0) throws {
    self.partner = partner
    self.workingSet = workingSet
    ping = try IPCPipe()
    pong = try IPCPipe()
    switch partner {
    case .none:
      break
    case .thread:
      let (input, output, ws) = (ping.read, pong.write, Int64(workingSet))
      let report = threadPartner
      thread = try Threads.spawn("switch partner") {
        report.tid.withLock { $0 = gettid() }
        var v = 0
        var i = 0
        clab_switch_answer(input, output, ws, &v, &i)
        report.switches.withLock { $0 = (v, i) }
      }
      while report.tid.withLock({ $0 }) == 0 { sched_yield() }
      partnerID = report.tid.withLock { $0 }
    case .process:
      let args = clab_switch_partner_args(in: ping.read, out: pong.write, working_set: Int64(workingSet))
      let c = try IPCChild.fork(
        "answers each byte on one pipe with a byte on another", body: clab_child_switch_partner, args: args,
        closing: [ping.write, pong.read])
      child = c
      partnerID = c.pid
      ping.closeRead()
      pong.closeWrite()
    }
  }

  deinit { close() }

  /// `roundTrips` ping-pongs (write + read on each side): the elapsed time and the
  /// caller's voluntary and involuntary switches meanwhile (getrusage RUSAGE_THREAD).
  /// With no partner, 2 × `roundTrips` writes and reads of one pipe: the same calls
  /// as the two halves of a round trip.
  public func batch(_ roundTrips: Int) throws -> (nanoseconds: Int64, voluntary: Int, involuntary: Int) {
    var voluntary = 0
    var involuntary = 0
    let start = MonotonicClock.nanoseconds()
    let (input, calls) = partner == .none ? (ping.read, 2 * roundTrips) : (pong.read, roundTrips)
    let ns = clab_switch_batch(ping.write, input, Int32(calls), Int64(workingSet), &voluntary, &involuntary)
    if ns < 0 {
      Trace.record(
        "write+read", "\(roundTrips) round trips", result: "-1 \(SystemError.name(of: Int32(-ns)))",
        since: start)
      if Interrupt.isRequested { throw Interrupted() }
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
    guard !closed else { return (0, 0) }
    closed = true
    if partner != .none { try? Descriptors.writeAll(ping.write, "q") }
    ping.closeWrite()
    var switches = (voluntary: 0, involuntary: 0)
    if let thread {
      Threads.join(thread, label: "switch partner")
      switches = threadPartner.switches.withLock { $0 }
    }
    if let child {
      child.finish()
      switches = (child.usage?.voluntarySwitches ?? 0, child.usage?.involuntarySwitches ?? 0)
    }
    ping.close()
    pong.close()
    return switches
  }
}

/// Pinning the calling thread to one CPU (sched_setaffinity), so that two
/// partners take turns on it and each hand-over is a real context switch.
public final class CPUPin {
  private var saved: cpu_set_t?
  /// The CPU pinned to, or nil when pinning was refused.
  public let cpu: Int32?
  /// Why pinning failed (errno name), when it did.
  public let failure: String?

  /// sched_getaffinity + sched_getcpu + sched_setaffinity(0, {this CPU}).
  public init() {
    let start = MonotonicClock.nanoseconds()
    var mask = cpu_set_t()
    let here = max(0, sched_getcpu())
    var one = CPUSet.only(Int(here))
    let size = MemoryLayout<cpu_set_t>.size
    if sched_getaffinity(0, size, &mask) == 0 && sched_setaffinity(0, size, &one) == 0 {
      saved = mask
      cpu = here
      failure = nil
    } else {
      cpu = nil
      failure = SystemError.name(of: errno)
    }
    Trace.record(
      "sched_setaffinity", "0, {CPU \(cpu.map(String.init) ?? "?")}",
      result: cpu != nil ? "0" : "-1 \(failure ?? "")", since: start)
  }

  deinit { release() }

  /// sched_setaffinity(0, the mask saved before pinning).
  public func release() {
    guard var mask = saved else { return }
    saved = nil
    let start = MonotonicClock.nanoseconds()
    let rc = sched_setaffinity(0, MemoryLayout<cpu_set_t>.size, &mask)
    Trace.record("sched_setaffinity", "0, saved mask", result: "\(rc)", since: start)
  }
}
