/// A system call in progress on one thread: what the kernel saw at its entry.
struct ActiveCall {
  var number: Int32
  var arguments: SyscallArguments
  /// Monotonic nanoseconds at the entry stop.
  var entry: UInt64
  /// What was read from the tracee's memory at entry, for the calls that need it
  /// (after execve, the old memory is gone; a path may be freed after openat).
  var capture: EntryCapture = .none
  /// Whether the call is the native architecture's (a 32-bit call has other numbers).
  var native = true
}

/// Memory read at a call's entry.
enum EntryCapture: Sendable, Equatable {
  case none
  case path(String)
  case exec(path: String, argv: [String])
  case clone3(flags: UInt64, exitSignal: UInt64)
  case sigaction(handler: UInt64, flags: UInt64)
}

/// A finished system call as the tracer saw it.
struct FinishedCall {
  var tid: Int32
  var pid: Int32
  var call: ActiveCall
  /// Monotonic nanoseconds at the exit stop (the entry time when the call never returned).
  var exit: UInt64
  var result: Int64
  var isError: Bool

  var number: Int32 { call.number }
  var arguments: SyscallArguments { call.arguments }
  var name: String { call.native ? SyscallNames.name(Int(call.number)) : "syscall_\(call.number) (32-bit)" }
  var duration: UInt64 { exit >= call.entry ? exit - call.entry : 0 }
  var errorName: String { SystemError.name(of: Int32(truncatingIfNeeded: -result)) }

  /// `-1 ENOENT`; the kernel's internal restart codes (ERESTARTSYS…), which only a tracer
  /// sees, as an interruption (the signal, once the tracer sees it, says what follows).
  var failure: String {
    if interruption != nil { return Self.interrupted }
    return "-1 \(errorName)"
  }
  /// ERESTARTSYS… when a signal interrupted the call.
  var interruption: Int32? {
    let e = Int32(truncatingIfNeeded: -result)
    return isError && SignalInterruption.restartCodes.contains(e) ? e : nil
  }
  static let interrupted = "? (interrupted by a signal)"
}
