import CLab
import Glibc

/// The fields of a wait(2) status, taken apart the way glibc's W* macros do
/// (bits/waitstatus.h); Swift does not import macros. The low 7 bits are the
/// signal that ended the process (0: it exited; 0x7f: it is stopped), bit 7 says
/// a core was dumped, the next byte is the exit code or the stop signal, and
/// 0xffff means "continued".
struct WaitStatus {
  let raw: Int32
  init(_ raw: Int32) { self.raw = raw }
  /// WTERMSIG
  var signal: Int32 { raw & 0x7f }
  /// WIFEXITED
  var exited: Bool { signal == 0 }
  /// WEXITSTATUS
  var exitCode: Int32 { (raw & 0xff00) >> 8 }
  /// WIFSIGNALED
  var signaled: Bool { signal != 0 && signal != 0x7f }
  /// WCOREDUMP
  var coreDumped: Bool { raw & 0x80 != 0 }
  /// WIFSTOPPED
  var stopped: Bool { raw & 0xff == 0x7f }
  /// WSTOPSIG
  var stopSignal: Int32 { exitCode }
}

/// How a process ended (or changed state), decoded from a wait(2) status.
public enum TerminationStatus: Sendable, Equatable, CustomStringConvertible {
  case exited(Int32)
  case signaled(Int32, coreDumped: Bool)
  case stopped(Int32)
  case continued

  public init(waitStatus raw: Int32) {
    let s = WaitStatus(raw)
    if s.exited {
      self = .exited(s.exitCode)
    } else if s.signaled {
      self = .signaled(s.signal, coreDumped: s.coreDumped)
    } else if s.stopped {
      self = .stopped(s.stopSignal)
    } else {
      self = .continued
    }
  }

  /// `exited 0`, `killed by SIGSEGV (core dumped)`, `stopped by SIGSTOP`.
  public var description: String {
    switch self {
    case .exited(let code): "exited \(code)"
    case .signaled(let sig, let core): "killed by \(Signals.name(sig))" + (core ? " (core dumped)" : "")
    case .stopped(let sig): "stopped by \(Signals.name(sig))"
    case .continued: "continued"
    }
  }

  public var signal: Int32? {
    if case .signaled(let s, _) = self { return s }
    return nil
  }
  public var exitCode: Int32? {
    if case .exited(let c) = self { return c }
    return nil
  }
  public var stopSignal: Int32? {
    if case .stopped(let s) = self { return s }
    return nil
  }

  public var json: JSON {
    switch self {
    case .exited(let code): ["how": "exited", "code": .int(Int(code))]
    case .signaled(let sig, let core):
      [
        "how": "signaled", "signal": .string(Signals.name(sig)), "number": .int(Int(sig)),
        "core_dumped": .bool(core),
      ]
    case .stopped(let sig): ["how": "stopped", "signal": .string(Signals.name(sig))]
    case .continued: ["how": "continued"]
    }
  }
}

/// What the kernel counted for a finished child (struct rusage from wait4).
public struct ResourceUsage: Sendable, Equatable {
  public var userTime: Duration
  public var systemTime: Duration
  /// Peak resident set size in bytes.
  public var maxResidentBytes: Int
  public var voluntarySwitches: Int
  public var involuntarySwitches: Int

  public init(
    userTime: Duration = .zero, systemTime: Duration = .zero, maxResidentBytes: Int = 0,
    voluntarySwitches: Int = 0, involuntarySwitches: Int = 0
  ) {
    self.userTime = userTime
    self.systemTime = systemTime
    self.maxResidentBytes = maxResidentBytes
    self.voluntarySwitches = voluntarySwitches
    self.involuntarySwitches = involuntarySwitches
  }

  public init(_ r: rusage) {
    func dur(_ t: timeval) -> Duration { .microseconds(Int64(t.tv_sec) * 1_000_000 + Int64(t.tv_usec)) }
    self.init(
      userTime: dur(r.ru_utime), systemTime: dur(r.ru_stime), maxResidentBytes: Int(r.ru_maxrss) * 1024,
      voluntarySwitches: Int(r.ru_nvcsw), involuntarySwitches: Int(r.ru_nivcsw))
  }

  /// getrusage(RUSAGE_THREAD): the calling thread's own counters.
  public static func currentThread() -> ResourceUsage {
    var r = rusage()
    _ = getrusage(rusageThread, &r)  // cannot fail for the calling thread
    return ResourceUsage(r)
  }
  /// RUSAGE_THREAD (1): a GNU extension Swift's Glibc module leaves out.
  static let rusageThread = __rusage_who_t(1)

  /// getrusage(RUSAGE_SELF): the whole process's counters.
  public static func currentProcess() -> ResourceUsage {
    var r = rusage()
    _ = getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &r)  // cannot fail for RUSAGE_SELF
    return ResourceUsage(r)
  }

  /// User and system time together: exact (the scheduler's own runtime count).
  public var cpuTime: Duration { userTime + systemTime }

  /// The kernel splits a task's CPU time into user and system by sampling, at each
  /// clock tick, which side the task was on (TICK_CPU_ACCOUNTING; the total is then
  /// scaled to the exact runtime). A split over one or two ticks is noise: one side
  /// is often exactly 0. Linux ticks at 100 to 1000 Hz; three ticks of the
  /// coarsest clock are 30 ms, below which proclab does not read the split.
  public static let splitThreshold: Duration = .milliseconds(30)

  /// Whether the user/system split rests on enough ticks to mean anything.
  public var splitIsMeaningful: Bool { cpuTime >= Self.splitThreshold }

  public var json: JSON {
    [
      "user_ms": .double(userTime.milliseconds), "system_ms": .double(systemTime.milliseconds),
      "max_rss_bytes": .int(maxResidentBytes), "voluntary_switches": .int(voluntarySwitches),
      "involuntary_switches": .int(involuntarySwitches), "cpu_ms": .double(cpuTime.milliseconds),
      "split_meaningful": .bool(splitIsMeaningful),
    ]
  }
}

/// A reaped child: who it was, how it ended, and what it used.
public struct ReapedChild: Sendable {
  public let pid: Int32
  public let status: TerminationStatus
  public let usage: ResourceUsage
}

public enum Wait {
  /// wait4(pid, &status, options, &rusage): reaps one child and returns its status and usage,
  /// or nil with WNOHANG when it has not changed state yet.
  public static func wait4(_ pid: Int32, noHang: Bool = false, untraced: Bool = false) throws -> ReapedChild?
  {
    var status: Int32 = 0
    var usage = rusage()
    var options: Int32 = noHang ? WNOHANG : 0
    if untraced { options |= WUNTRACED | WCONTINUED }
    let start = MonotonicClock.nanoseconds()
    // EINTR is retried even on Ctrl-C: reaping must finish, or a zombie is left.
    let got = try systemCall("wait4", onInterrupt: .retry) { Glibc.wait4(pid, &status, options, &usage) }
    let reaped: ReapedChild? =
      got == 0
      ? nil
      : ReapedChild(pid: got, status: TerminationStatus(waitStatus: status), usage: ResourceUsage(usage))
    Trace.record(
      "wait4", "\(pid)\(noHang ? ", WNOHANG" : "")",
      result: reaped.map { "\($0.status), \($0.usage.voluntarySwitches) voluntary switches" }
        ?? "0 (still running)",
      since: start)
    return reaped
  }

  /// Blocks until the child has ended and reaps it (wait4 without WNOHANG),
  /// ignoring Ctrl-C: used only after SIGKILL, when the end is certain and near.
  /// Returns nil if the child is not ours (ECHILD).
  @discardableResult
  public static func reap(_ pid: Int32) -> ReapedChild? {
    while true {
      do { return try wait4(pid) } catch let e as SystemError where e.errno == ECHILD { return nil } catch {
        continue
      }
    }
  }

  /// wait4(pid, WNOHANG) polled with growing pauses (nanosleep) until the child ends
  /// or `timeout` passes; nil if it is still running at the deadline.
  public static func wait4(_ pid: Int32, timeout: Duration) throws -> ReapedChild? {
    let end = MonotonicClock.nanoseconds() + UInt64(max(0, timeout.nanoseconds))
    var pause: UInt64 = 50_000
    while true {
      if let r = try wait4(pid, noHang: true) { return r }
      if MonotonicClock.nanoseconds() >= end { return nil }
      try MonotonicClock.sleep(.nanoseconds(Int64(pause)))
      pause = min(pause * 2, 10_000_000)
    }
  }
}
