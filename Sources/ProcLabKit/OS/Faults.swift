import CLab
import Glibc
import Synchronization

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

    /// The signal the kernel (or abort) sends for this fault; nil for exit.
    public var signal: Int32? {
      switch self {
      case .segv, .stack: SIGSEGV
      case .abort: SIGABRT
      case .fpe: SIGFPE
      case .ill: SIGILL
      case .bus: SIGBUS
      case .exit: nil
      }
    }
  }

  /// The address the segv fault writes to (below vm.mmap_min_addr: never mapped).
  public static var segvAddress: UInt { UInt(clab_fault_segv_address()) }

  /// Runs the fault on the calling thread. Returns only if it did not end the
  /// process: the unexpected result, or nil with the errno of a failed setup.
  public static func trigger(_ kind: Kind, exitCode: Int32 = 0, directory: String, reportEvery: Int = 0)
    -> (value: Int, errno: Int32)
  {
    var page: UnsafeMutableRawPointer? = nil
    if kind == .bus {
      do { page = try truncatedMapping(in: directory) } catch let e as SystemError {
        return (-1, e.errno)
      } catch {
        return (-1, EINVAL)
      }
    }
    let start = MonotonicClock.nanoseconds()
    Trace.record("fault", "\(kind)", result: "(the process should end here)", since: start)
    let r = clab_fault(
      kind.rawValue, exitCode, page?.assumingMemoryBound(to: CChar.self), Int32(clamping: reportEvery))
    return (Int(r), r == -1 ? errno : 0)
  }

  /// A page of a file mapped MAP_SHARED and written once, then the file cut to 0 bytes
  /// (mkstemp, unlink, ftruncate, mmap, ftruncate): the page has nothing behind it any
  /// more, so reading it is SIGBUS. The file is unlinked at once: nothing is left behind
  /// whatever happens next, and the mapping keeps the file alive after close.
  static func truncatedMapping(in directory: String) throws -> UnsafeMutableRawPointer {
    var template = Array("\(directory.isEmpty ? "/tmp" : directory)/proclab-bus-XXXXXX".utf8CString)
    let fd = try systemCall("mkstemp") {
      template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
    }
    defer { Descriptors.close(fd) }
    unlink(template)
    let page = Int(sysconf(Int32(_SC_PAGESIZE)))
    try systemCall("ftruncate") { ftruncate(fd, off_t(page)) }
    guard let p = mmap(nil, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), p != MAP_FAILED else {
      throw SystemError("mmap")
    }
    p.storeBytes(of: 1, as: UInt8.self)  // the file has a page behind the mapping: this works
    try systemCall("ftruncate") { ftruncate(fd, 0) }
    return p
  }

  /// malloc(block) until it returns NULL or `maxBlocks` are held, then free(3)
  /// them all: how many succeeded, and the errno malloc left (ENOMEM).
  public static func exhaustMemory(block: Int, maxBlocks: Int) -> (blocks: Int, errno: Int32) {
    let start = MonotonicClock.nanoseconds()
    var error: Int32 = 0
    var n = 0
    // Each block holds the address of the one before: every block is written to (one page
    // of it touched) and reachable, so no allocation can be optimized away.
    var chain: UnsafeMutableRawPointer? = nil
    while n < maxBlocks {
      guard let p = malloc(block) else {
        error = errno
        break
      }
      p.storeBytes(of: chain, as: UnsafeMutableRawPointer?.self)
      chain = p
      n += 1
    }
    while let p = chain {
      chain = p.load(as: UnsafeMutableRawPointer?.self)
      free(p)
    }
    Trace.record(
      "malloc", "\(Units.bytes(block)) × up to \(maxBlocks)",
      result: "\(n) blocks, then \(error == 0 ? "stopped" : "NULL " + SystemError.name(of: error))",
      since: start)
    return (n, error)
  }

  /// Runs fault `kind` on the calling thread with a handler installed for its
  /// signal that jumps back (sigaction, sigsetjmp/siglongjmp; sigaltstack for a
  /// stack overflow): the signal the handler caught, or nil when no fault happened.
  public static func survive(_ kind: Kind, directory: String) throws -> Int32? {
    guard let sig = kind.signal, sig != SIGABRT else { throw SystemError("sigaction", errno: EINVAL) }
    let page = kind == .bus ? try truncatedMapping(in: directory) : nil
    let start = MonotonicClock.nanoseconds()
    // A stack overflow leaves no stack to run the handler on: give it one of its own.
    let alternateBytes = 1 << 16
    let alternate = UnsafeMutableRawPointer.allocate(byteCount: alternateBytes, alignment: 16)
    defer { alternate.deallocate() }
    var alt = stack_t(ss_sp: alternate, ss_flags: 0, ss_size: alternateBytes)
    var oldAlt = stack_t()
    sigaltstack(&alt, &oldAlt)
    defer { sigaltstack(&oldAlt, nil) }
    let old = try SignalHandlers.install(clab_escape_handler, for: sig, flags: Int32(SA_ONSTACK | SA_NODEFER))
    let caught = clab_fault_escaping(kind.rawValue, page?.assumingMemoryBound(to: CChar.self))
    SignalHandlers.restore(old, for: sig)
    Trace.record(
      "sigaction+fault", "\(kind), handler that siglongjmps",
      result: caught > 0 ? "caught \(Signals.name(caught))" : "\(caught)", since: start)
    return caught == 0 ? nil : caught
  }

  /// A task made with clone(CLONE_VM | SIGCHLD): it shares this process's memory
  /// but is a thread group of its own. It writes `value` where this process can
  /// read it (`sharedValue`), then runs fault `kind` (segv, fpe or ill).
  public final class SharedMemoryTask {
    public let pid: Int32
    private let stack: UnsafeMutableRawPointer
    static let stackBytes = 256 << 10

    /// clone(fn, stack, CLONE_VM | SIGCHLD, arg) on a stack of its own (malloc).
    public init(_ kind: Kind, value: Int) throws {
      stack = UnsafeMutableRawPointer.allocate(byteCount: Self.stackBytes, alignment: 16)
      let pointer = stack
      do {
        pid = try Trace.call(
          "clone", "CLONE_VM|SIGCHLD: shares memory, not the thread group; then \(kind)",
          describe: { "pid \($0)" }
        ) { clab_clone_vm_fault(kind.rawValue, value, pointer, Self.stackBytes) }
      } catch {
        stack.deallocate()
        throw error
      }
    }

    /// What the task wrote into the shared variable, read by this process.
    public var sharedValue: Int { clab_clone_shared_value() }

    /// The stack is freed only once the task is reaped (the caller's duty).
    deinit { stack.deallocate() }
  }

  /// tgkill(pid, tid, sig): a signal addressed to one thread of a process.
  public static func signal(_ sig: Int32, thread tid: Int32, of pid: Int32) throws {
    try Trace.call("tgkill", "\(pid), \(tid), \(Signals.name(sig))") { tgkill(pid, tid, sig) }
  }
}

/// The "go" a lab child waits for: a signal blocked in every thread (so no
/// handler runs) and taken with sigtimedwait(2) by the one thread that waits.
public enum GoSignal {
  /// pthread_sigmask(SIG_BLOCK, {sig}): threads created afterwards inherit the mask.
  public static func block(_ sig: Int32) {
    var set = sigset_t()
    sigemptyset(&set)
    sigaddset(&set, sig)
    let start = MonotonicClock.nanoseconds()
    let rc = pthread_sigmask(SIG_BLOCK, &set, nil)
    Trace.record("pthread_sigmask", "SIG_BLOCK, \(Signals.name(sig))", result: "\(rc)", since: start)
  }

  /// sigtimedwait({sig}, timeout), resumed after EINTR with the time left:
  /// true when the signal arrived in time.
  public static func wait(_ sig: Int32, timeout: Duration) -> Bool {
    var set = sigset_t()
    sigemptyset(&set)
    sigaddset(&set, sig)
    let start = MonotonicClock.nanoseconds()
    let end = start + UInt64(max(0, timeout.nanoseconds))
    var got: Int32 = -1
    while true {
      let now = MonotonicClock.nanoseconds()
      if now >= end { break }
      let left = end - now
      var ts = timespec(tv_sec: Int(left / 1_000_000_000), tv_nsec: Int(left % 1_000_000_000))
      got = (try? systemCall("sigtimedwait", onInterrupt: .retry) { sigtimedwait(&set, nil, &ts) }) ?? -1
      if got == sig || got == -1 { break }
    }
    Trace.record(
      "sigtimedwait", "\(Signals.name(sig)), \(Units.duration(timeout))",
      result: got == sig ? Signals.name(sig) : "-1 EAGAIN", since: start)
    return got == sig
  }
}

/// Worker threads of a lab child that wait, each blocked in read(2) on a pipe
/// of its own, until one is told to fault. The others stay blocked (state S).
// why: every stored property is set in init and only read afterwards, except
// `orders`, which only the creating thread touches (order, release).
public final class FaultThreads: @unchecked Sendable {
  /// The workers' TIDs: worker 1 first.
  public let tids: [Int32]
  /// Each worker's stack size (pthread_getattr_np).
  public let stackBytes: Int
  private let handles: [Threads.Handle]
  private var orders: [Int32]
  private let done: (read: Int32, write: Int32)
  private let results = Results()
  private var joined = false

  /// What each worker's order came to, written by the worker before it reports done.
  final class Results: Sendable {
    let byWorker = Mutex<[Int: Int32]>([:])
  }

  /// What a worker does when its order comes.
  public enum Order: UInt8 {
    /// Run the fault (the process may end here).
    case fault = 70
    /// Run it with a handler that jumps back (`Faults.survive`).
    case survive = 72
  }

  /// pthread_create × count; returns once every thread has reported its gettid().
  public init(count: Int, kind: Faults.Kind, exitCode: Int32, directory: String, reportEvery: Int) throws {
    var handles: [Threads.Handle] = []
    var orders: [Int32] = []
    let ready = try Descriptors.pipe()
    defer {
      Descriptors.close(ready.read)
      Descriptors.close(ready.write)
    }
    done = try Descriptors.pipe()
    let box = results
    let doneFD = done.write
    for index in 0..<count {
      let pipe = try Descriptors.pipe()
      orders.append(pipe.write)
      let readFD = pipe.read
      let readyFD = ready.write
      let handle = try Threads.spawn("crash worker \(index + 1)") {
        // Its index, TID and stack size (pthread_getattr_np), in one write (atomic on a pipe).
        var record: (Int64, Int64, Int64) = (
          Int64(index), Int64(Threads.currentTID()), Int64((try? Threads.probeSelf().stackBytes) ?? 0)
        )
        Descriptors.writeQuietly(readyFD, withUnsafeBytes(of: &record) { Array($0) })
        defer { Descriptors.close(readFD) }
        guard let order = (try? Descriptors.read(readFD, max: 1))?.first.flatMap(Order.init(rawValue:)) else {
          return  // end of file: released without an order
        }
        switch order {
        case .fault:
          let r = Faults.trigger(kind, exitCode: exitCode, directory: directory, reportEvery: reportEvery)
          box.byWorker.withLock { $0[index] = r.errno == 0 ? 0 : -r.errno }
        case .survive:
          let caught = (try? Faults.survive(kind, directory: directory)) ?? nil
          box.byWorker.withLock { $0[index] = caught ?? 0 }
        }
        // Still alive: say so, then wait to be released like the others.
        Descriptors.writeQuietly(doneFD, [1])
        _ = try? Descriptors.read(readFD, max: 1)
      }
      handles.append(handle)
    }
    var tids = [Int32](repeating: 0, count: count)
    var stack = 0
    for _ in 0..<count {
      let bytes = try Fork.readExactly(ready.read, count: 24, timeout: .seconds(10))
      let field = { (i: Int) in
        bytes.withUnsafeBytes { Int($0.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self)) }
      }
      if (0..<count).contains(field(0)) { tids[field(0)] = Int32(field(1)) }
      stack = field(2)
    }
    self.tids = tids
    self.stackBytes = stack
    self.handles = handles
    self.orders = orders
  }

  deinit {
    release()
    Descriptors.close(done.read)
    Descriptors.close(done.write)
  }

  /// write(2) the order to worker `index`'s pipe, then read(2) until it reports
  /// that it is still alive: returns only if the process survived the order. The
  /// result is the signal a handler caught (`survive`), 0, or -errno of a fault
  /// that could not be set up. The worker then waits for `release`.
  @discardableResult
  public func order(_ index: Int, _ order: Order) -> Int32 {
    let start = MonotonicClock.nanoseconds()
    try? Descriptors.writeAll(orders[index], [order.rawValue])
    Trace.record("write", "worker \(index + 1)'s pipe: \(order)", result: "1", since: start)
    _ = try? Fork.readExactly(done.read, count: 1, timeout: .seconds(120))
    return results.byWorker.withLock { $0[index] } ?? 0
  }

  /// close(2) every order pipe (each worker reads end of file and returns), then pthread_join them all.
  public func release() {
    guard !joined else { return }
    joined = true
    for fd in orders where fd >= 0 { Descriptors.close(fd) }
    orders = orders.map { _ in -1 }
    for (i, h) in handles.enumerated() { Threads.join(h, label: "crash worker \(i + 1)") }
  }
}
