import CLab
import Glibc

/// A standard and a real-time signal, each sent N times while blocked.
public struct SignalMergeResult: Sendable {
  public var child: Int32
  public var standard: Int32
  public var realtime: Int32
  public var sent: Int
  /// /proc/PID/status ShdPnd while both were blocked and pending.
  public var sharedPending: UInt64
  public var standardDelivered: Int
  public var realtimeDelivered: Int
  /// The sigqueue values the real-time handler saw, in delivery order.
  public var realtimeOrder: [Int]
  public var status: TerminationStatus
}

/// Which thread of a three-thread process took each process-directed signal.
public struct SignalThreadsResult: Sendable {
  public enum Mode: Int32, Sendable, CaseIterable {
    /// No thread blocks the signal.
    case nobodyBlocks = 0
    /// The main thread blocks it, the two workers do not.
    case mainBlocks = 1
    /// Every thread blocks it; worker 2 waits for it in sigwait.
    case sigwaitThread = 2
  }
  public var mode: Mode
  public var child: Int32
  /// TIDs of the main thread, worker 1 and worker 2.
  public var threads: [Int32]
  /// The TID that took each signal sent (0: none within the time limit).
  public var receivedBy: [Int32]
  public var status: TerminationStatus
}

/// A write into a pipe whose every read end is closed.
public struct SigpipeResult: Sendable {
  public var ignored: Bool
  public var child: Int32
  /// With SIGPIPE ignored: write()'s return value and errno.
  public var writeResult: Int32?
  public var writeErrno: Int32?
  public var status: TerminationStatus
}

/// Children of a process that leaves SIGCHLD at its default or sets it to SIG_IGN.
public struct AutoReapResult: Sendable {
  public var ignored: Bool
  public var middle: Int32
  public var children: [Int32]
  /// Each child's state in /proc a moment after it exited: "Z" (zombie) or nil (gone).
  public var statesAfterExit: [String?]
  /// What the middle's waitpid(-1) loop then reaped, and the errno that ended it.
  public var reapedByWait: Int
  public var waitErrno: Int32
  public var status: TerminationStatus
  public var zombies: Int { statesAfterExit.filter { $0 == "Z" }.count }
}

extension IPCSignals {
  /// SIGRTMIN as glibc numbers it (it keeps the first real-time signals for itself).
  public static var firstRealtime: Int32 { __libc_current_sigrtmin() }  // what the SIGRTMIN macro calls

  /// fork: the child blocks `standard` and SIGRTMIN; the shell sends each `count` times
  /// (kill for the standard one, sigqueue with values 1…count for the real-time one),
  /// reads ShdPnd, then lets the child unblock both and report what its handlers saw.
  public static func merge(standard: Int32, count: Int) throws -> SignalMergeResult {
    try IPCChild.stoppable {
      let realtime = firstRealtime
      let control = try IPCPipe()
      let report = try IPCPipe()
      let args = clab_merge_args(
        standard: standard, realtime: realtime, control_fd: control.read, report_fd: report.write)
      let child = try IPCChild.fork(
        "blocks \(Signals.name(standard)) and SIGRTMIN, counts deliveries once unblocked",
        body: clab_child_signal_merge, args: args, closing: [control.write, report.read])
      defer { child.stop() }
      control.closeRead()
      report.closeWrite()
      _ = try report.readExactly(1, within: .seconds(5))
      let start = MonotonicClock.nanoseconds()
      for i in 1...count {
        try systemCall("kill") { Glibc.kill(child.pid, standard) }
        try systemCall("sigqueue") { sigqueue(child.pid, realtime, sigval(sival_int: Int32(i))) }
      }
      Trace.record(
        "kill+sigqueue",
        "\(child.pid), \(Signals.name(standard)) ×\(count); SIGRTMIN ×\(count) with values 1…\(count)",
        result: "0", since: start)
      let pending = statusMask(child.pid, "ShdPnd")
      try control.send("u")
      var seen = try report.receive(clab_merge_report.self)
      let order = withUnsafeBytes(of: &seen.realtime_values) { raw in
        (0..<min(64, Int(seen.realtime_delivered))).map {
          Int(raw.load(fromByteOffset: 4 * $0, as: Int32.self))
        }
      }
      try? control.send("q")
      return SignalMergeResult(
        child: child.pid, standard: standard, realtime: realtime, sent: count, sharedPending: pending,
        standardDelivered: Int(seen.standard_delivered), realtimeDelivered: Int(seen.realtime_delivered),
        realtimeOrder: order, status: child.finish())
    }
  }

  /// fork a child with three threads in `mode`, then kill(child, signal) `count` times,
  /// one at a time, each time reading which TID took it.
  public static func threads(signal: Int32, mode: SignalThreadsResult.Mode, count: Int) throws
    -> SignalThreadsResult
  {
    try IPCChild.stoppable {
      let control = try IPCPipe()
      let report = try IPCPipe()
      let args = clab_signal_threads_args(
        signal: signal, mode: mode.rawValue, control_fd: control.read, report_fd: report.write)
      let child = try IPCChild.fork(
        "main thread + 2 workers, \(Signals.name(signal)) \(["unblocked", "blocked in main", "blocked, sigwait in worker 2"][Int(mode.rawValue)])",
        body: clab_child_signal_threads, args: args, closing: [control.write, report.read])
      defer { child.stop() }
      control.closeRead()
      report.closeWrite()
      let tids = try report.receive(3, of: Int32.self)
      var receivedBy: [Int32] = []
      for _ in 0..<count {
        try SignalSender.send(signal, to: child.pid)
        receivedBy.append(try report.receiveIfAny(Int32.self, within: .seconds(2)) ?? 0)
      }
      try? control.send("q")
      return SignalThreadsResult(
        mode: mode, child: child.pid, threads: tids, receivedBy: receivedBy, status: child.finish())
    }
  }

  /// pipe2; fork a child that (with SIGPIPE at its default, or ignored) writes one byte
  /// once the shell has closed its read end, which the child closed too.
  public static func writeWithoutReader(ignore: Bool) throws -> SigpipeResult {
    try IPCChild.stoppable {
      let pipe = try IPCPipe()
      let control = try IPCPipe()
      let report = try IPCPipe()
      let args = clab_sigpipe_args(
        write_fd: pipe.write, control_fd: control.read, report_fd: report.write, ignore: ignore ? 1 : 0)
      let child = try IPCChild.fork(
        "\(ignore ? "signal(SIGPIPE, SIG_IGN); " : "")write(\(pipe.write), 1 byte) once no reader is left",
        body: clab_child_sigpipe, args: args, closing: [pipe.read, control.write, report.read])
      defer { child.stop() }
      pipe.closeRead()
      pipe.closeWrite()
      control.closeRead()
      report.closeWrite()
      try control.send("w")
      let result = try report.receiveIfAny((Int32, Int32).self, within: .seconds(2))
      return SigpipeResult(
        ignored: ignore, child: child.pid, writeResult: result?.0, writeErrno: result?.1,
        status: child.finish()
      )
    }
  }

  /// fork a middle process that (with SIGCHLD at its default, or SIG_IGN) forks
  /// `children` children that _exit(0) at once; the shell looks at them in /proc, then
  /// the middle calls waitpid(-1) until it fails.
  public static func autoReap(ignore: Bool, children: Int) throws -> AutoReapResult {
    try IPCChild.stoppable {
      let control = try IPCPipe()
      let report = try IPCPipe()
      let args = clab_autoreap_args(
        children: Int32(children), ignore: ignore ? 1 : 0, control_fd: control.read, report_fd: report.write)
      let middle = try IPCChild.fork(
        "\(ignore ? "signal(SIGCHLD, SIG_IGN); " : "")forks \(children) children that _exit(0)",
        body: clab_child_autoreap, args: args, closing: [control.write, report.read])
      defer { middle.stop() }
      control.closeRead()
      report.closeWrite()
      let pids = try report.receive(children, of: Int32.self)
      // Give each child time to exit, then look: a zombie shows state Z; a reaped one is gone.
      var states: [String?] = []
      let deadline = MonotonicClock.nanoseconds() + 1_000_000_000
      repeat {
        MonotonicClock.pause(.milliseconds(5))
        states = pids.map { pid in ProcFS.stat(pid).map { String($0.state) } }
      } while states.contains(where: { $0 != nil && $0 != "Z" }) && MonotonicClock.nanoseconds() < deadline
      try control.send("w")
      let waited = try report.receive((Int32, Int32).self)
      try? control.send("q")
      return AutoReapResult(
        ignored: ignore, middle: middle.pid, children: pids, statesAfterExit: states,
        reapedByWait: Int(waited.0),
        waitErrno: waited.1, status: middle.finish())
    }
  }
}
