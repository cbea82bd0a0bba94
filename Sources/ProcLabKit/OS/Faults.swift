import CLab
import Glibc

/// Faults that end the calling process: the CPU traps, or the C library
/// gives up. For lab children only (`crash`); never called in the shell.
/// Each one is C (CLab/crash.c) with volatile accesses, so the optimizer
/// cannot remove it, and writes one line to standard error just before.
public enum Faults {
  public enum Kind: Int32, Sendable {
    /// A store to address 0x10: the page fault becomes SIGSEGV.
    case segv = 1
    /// abort(3): raises SIGABRT.
    case abort = 2
    /// idiv by zero: the CPU's divide-error trap becomes SIGFPE.
    case fpe = 3
    /// ud2 (udf on ARM): the invalid-opcode trap becomes SIGILL.
    case ill = 4
    /// A read through a MAP_SHARED mapping of a file ftruncate'd to 0 bytes: SIGBUS.
    case bus = 5
    /// Unbounded recursion past the stack's limit: SIGSEGV.
    case stack = 6
    /// exit(3): not a fault, the contrast.
    case exit = 7
  }

  /// The address the segv fault writes to (below vm.mmap_min_addr: never mapped).
  public static var segvAddress: UInt { UInt(clab_fault_segv_address()) }

  /// Runs the fault on the calling thread. Returns only if it did not end the
  /// process: the unexpected result, or nil with the errno of a failed setup.
  public static func trigger(_ kind: Kind, exitCode: Int32 = 0, directory: String, reportEvery: Int = 0)
    -> (value: Int, errno: Int32)
  {
    let start = MonotonicClock.nanoseconds()
    Trace.record("fault", "\(kind)", result: "(the process should end here)", since: start)
    let r = clab_fault(kind.rawValue, exitCode, directory, Int32(clamping: reportEvery))
    return (Int(r), r == -1 ? clab_errno() : 0)
  }

  /// malloc(block) until it returns NULL or `maxBlocks` are held, then free(3)
  /// them all: how many succeeded, and the errno malloc left (ENOMEM).
  public static func exhaustMemory(block: Int, maxBlocks: Int) -> (blocks: Int, errno: Int32) {
    let start = MonotonicClock.nanoseconds()
    var error: Int32 = 0
    let n = clab_exhaust_memory(block, maxBlocks, &error)
    Trace.record(
      "malloc", "\(Units.bytes(block)) × up to \(maxBlocks)",
      result: "\(n) blocks, then \(error == 0 ? "stopped" : "NULL " + SystemError.name(of: error))",
      since: start)
    return (n, error)
  }

  /// pthread_sigmask(SIG_BLOCK, {sig}): the signal waits until sigtimedwait takes it.
  public static func block(signal sig: Int32) {
    let start = MonotonicClock.nanoseconds()
    let rc = clab_block_signal(sig)
    Trace.record("pthread_sigmask", "SIG_BLOCK, \(Signals.name(sig))", result: "\(rc)", since: start)
  }

  /// sigtimedwait({sig}, timeout): true when the signal arrived in time.
  public static func wait(signal sig: Int32, timeout: Duration) -> Bool {
    let start = MonotonicClock.nanoseconds()
    let rc = clab_wait_signal(sig, Int32(clamping: timeout.nanoseconds / 1_000_000))
    Trace.record(
      "sigtimedwait", "\(Signals.name(sig)), \(Units.duration(timeout))",
      result: rc == 0 ? Signals.name(sig) : "-1 EAGAIN", since: start)
    return rc == 0
  }

  /// tgkill(pid, tid, sig): a signal addressed to one thread of a process.
  public static func signal(_ sig: Int32, thread tid: Int32, of pid: Int32) throws {
    try Trace.call("tgkill", "\(pid), \(tid), \(Signals.name(sig))") { clab_tgkill(pid, tid, sig) }
  }

  /// pthread_create × count (each with a `stackBytes` stack), waiting until
  /// every thread has written its gettid(): the new threads' TIDs.
  public static func startThreads(count: Int, stackBytes: Int) -> [Int32] {
    let start = MonotonicClock.nanoseconds()
    var tids = [pid_t](repeating: 0, count: max(count, 1))
    let n = Int(clab_fate_start(Int32(count), stackBytes, &tids))
    Trace.record(
      "pthread_create", "× \(count), stack \(Units.bytes(stackBytes))", result: "\(n) threads", since: start)
    return Array(tids.prefix(n))
  }

  /// Wakes worker `index` (pthread_cond_broadcast) to run the fault, and joins
  /// it. Returns only if the fault did not end the process.
  public static func triggerInThread(
    _ index: Int, _ kind: Kind, exitCode: Int32 = 0, directory: String, reportEvery: Int = 0
  ) -> Int {
    let start = MonotonicClock.nanoseconds()
    Trace.record("pthread_cond_broadcast", "worker \(index): \(kind)", result: "0", since: start)
    return Int(
      clab_fate_crash(Int32(index), kind.rawValue, exitCode, directory, Int32(clamping: reportEvery)))
  }
}
