import CLab
import Glibc
import Synchronization

/// POSIX threads of the shell's own process: creating and joining them
/// (pthread_create, pthread_join), and what a thread can learn about itself
/// (gettid, sched_getcpu, pthread_getattr_np, /proc/self/task).
public enum Threads {
  /// A thread that was started and must be joined.
  public struct Handle: Sendable {
    public let thread: pthread_t
    /// Nanoseconds pthread_create took in the creating thread.
    public let creationNanoseconds: UInt64
  }

  private final class Body {
    let run: () -> Void
    let name: String
    init(_ name: String, _ run: @escaping () -> Void) {
      self.name = name
      self.run = run
    }
    /// pthread_setname_np(pthread_self(), name): the name `ps -L` and /proc/self/task/TID/comm
    /// show. The kernel keeps 15 bytes and refuses more (ERANGE), so the name is cut first.
    func nameThisThread() {
      let bytes = name.utf8.prefix(15).map { CChar(bitPattern: $0) } + [0]
      _ = pthread_setname_np(pthread_self(), bytes)
    }
  }

  /// pthread_create(&thread, NULL, start, arg): starts `body` on a new thread.
  /// Every signal is blocked in the new thread (the mask is inherited), so
  /// Ctrl-C always reaches the shell's main thread and never wakes a worker.
  /// The thread names itself after `label` (pthread_setname_np), so `ps -L` shows it.
  public static func spawn(_ label: String = "", _ body: @escaping @Sendable () -> Void) throws -> Handle {
    let context = Unmanaged.passRetained(Body(label, body)).toOpaque()
    var all = sigset_t()
    var saved = sigset_t()
    sigfillset(&all)
    _ = pthread_sigmask(SIG_BLOCK, &all, &saved)
    defer { _ = pthread_sigmask(SIG_SETMASK, &saved, nil) }
    var thread = pthread_t()
    let start = MonotonicClock.nanoseconds()
    let rc = pthread_create(
      &thread, nil,
      { raw in
        let body = Unmanaged<Body>.fromOpaque(raw!).takeRetainedValue()
        if !body.name.isEmpty { body.nameThisThread() }
        body.run()
        return nil
      }, context)
    let took = MonotonicClock.nanoseconds() &- start
    Trace.record(
      "pthread_create", label.isEmpty ? "start routine" : label,
      result: rc == 0 ? "0" : SystemError.name(of: rc), since: start)
    if rc != 0 {
      Unmanaged<Body>.fromOpaque(context).release()
      throw SystemError("pthread_create", errno: rc)
    }
    return Handle(thread: thread, creationNanoseconds: took)
  }

  /// pthread_join(thread, NULL): waits for the thread to end and frees its stack.
  public static func join(_ handle: Handle, label: String = "") {
    let start = MonotonicClock.nanoseconds()
    let rc = pthread_join(handle.thread, nil)
    Trace.record("pthread_join", label.isEmpty ? "thread" : label, result: "\(rc)", since: start)
  }

  /// Joins every handle, then waits (up to `within`) until the kernel has removed
  /// their tasks from /proc/self/task: pthread_join returns when the thread has
  /// cleared its TID, a moment before the kernel forgets the task.
  public static func joinAll(_ handles: [Handle], tids: [Int32] = [], within: Duration = .milliseconds(500)) {
    for h in handles { join(h) }
    waitUntilGone(tids, within: within)
  }

  /// Polls /proc/self/task until none of `tids` is listed any more, or the time is up.
  @discardableResult
  public static func waitUntilGone(_ tids: [Int32], within: Duration = .milliseconds(500)) -> Bool {
    let deadline = MonotonicClock.nanoseconds() + UInt64(max(0, within.nanoseconds))
    while true {
      let live = Set(tasks())
      if !tids.contains(where: { live.contains($0) }) { return true }
      if MonotonicClock.nanoseconds() >= deadline { return false }
      usleep(1000)
    }
  }

  /// getpid(): the process every thread of the shell belongs to.
  public static var processID: Int32 { getpid() }

  /// nanosleep for a short pause that Ctrl-C need not cut short (waiting for a
  /// thread to reach its blocking call, a server's idle tick).
  public static func pause(_ d: Duration) {
    let ns = max(0, d.nanoseconds)
    var ts = timespec(tv_sec: Int(ns / 1_000_000_000), tv_nsec: Int(ns % 1_000_000_000))
    _ = nanosleep(&ts, nil)
  }

  /// gettid(): the kernel's ID of the calling thread.
  public static func currentTID() -> Int32 { gettid() }

  /// sched_getcpu(): the CPU the calling thread runs on at this instant.
  public static func currentCPU() -> Int { Int(sched_getcpu()) }

  /// clock_gettime(CLOCK_THREAD_CPUTIME_ID): CPU time the calling thread has used.
  public static func cpuTime() -> Duration {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return .seconds(ts.tv_sec) + .nanoseconds(ts.tv_nsec)
  }

  /// A thread's name as the kernel keeps it (/proc/self/task/TID/comm).
  public static func name(of tid: Int32) -> String? {
    ProcFS.read("/proc/self/task/\(tid)/comm").map { String($0.split(separator: "\n").first ?? "") }
  }

  /// The read-write mappings of this process (/proc/self/maps): a new thread
  /// whose stack lies inside one that existed before pthread_create got a
  /// stack glibc had cached from an ended thread, not a new mmap.
  public static func readWriteMappings() -> [ClosedRange<UInt>] {
    guard let text = ProcFS.read("/proc/self/maps") else { return [] }
    return text.split(separator: "\n").compactMap { line in
      let parts = line.split(separator: " ", omittingEmptySubsequences: true)
      guard parts.count >= 2, parts[1].hasPrefix("rw") else { return nil }
      let range = parts[0].split(separator: "-")
      guard range.count == 2, let lo = UInt(range[0], radix: 16), let hi = UInt(range[1], radix: 16), hi > lo
      else { return nil }
      return lo...(hi - 1)
    }
  }

  /// The name of the thread `proclab replay` reads keys on at a terminal. It belongs to the
  /// presentation, not to the session being replayed: `ps` leaves it out, so a replay shows
  /// what the recording showed.
  public static let replayKeysName = "proclab-keys"

  /// The thread IDs of this process right now (/proc/self/task).
  public static func tasks() -> [Int32] { ProcFS.threads(of: getpid()) }

  /// Online CPUs (sysconf(_SC_NPROCESSORS_ONLN)): the machine's, not necessarily this thread's.
  public static var onlineCPUs: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

  /// The CPUs the calling thread may run on (sched_getaffinity(0)): `taskset -c 0`
  /// leaves one, whatever the machine has. New threads and forked children inherit it.
  public static func allowedCPUs() -> [Int] {
    var set = cpu_set_t()
    guard sched_getaffinity(0, MemoryLayout<cpu_set_t>.size, &set) == 0 else { return Array(0..<onlineCPUs) }
    let cpus = CPUSet.members(of: set)
    return cpus.isEmpty ? Array(0..<onlineCPUs) : cpus
  }

  /// What the calling thread sees of itself: TID, CPU, a local variable's address
  /// and its stack range (gettid, sched_getcpu, pthread_getattr_np + pthread_attr_getstack).
  public struct SelfView: Sendable, Equatable {
    public var tid: Int32
    public var cpu: Int
    public var localAddress: UInt
    public var stackLow: UInt
    public var stackHigh: UInt
    public var started: UInt64
    public var stackBytes: Int { Int(stackHigh - stackLow) }
    public func stackContains(_ a: UInt) -> Bool { a >= stackLow && a < stackHigh }
  }

  /// Probes the calling thread (see `SelfView`): gettid, sched_getcpu, the address
  /// of a local variable, and pthread_getattr_np + pthread_attr_getstack for its stack.
  public static func probeSelf() throws -> SelfView {
    let start = MonotonicClock.nanoseconds()
    var local = 42  // lives in this thread's own stack frame
    let localAddress = withUnsafeMutablePointer(to: &local) { UInt(bitPattern: $0) }
    var attr = pthread_attr_t()
    var base: UnsafeMutableRawPointer? = nil
    var size = 0
    var rc = pthread_getattr_np(pthread_self(), &attr)
    if rc == 0 {
      rc = pthread_attr_getstack(&attr, &base, &size)
      pthread_attr_destroy(&attr)
    }
    let low = UInt(bitPattern: base)
    let high = low + UInt(size)
    Trace.record(
      "pthread_getattr_np", "pthread_self()", result: rc == 0 ? "0" : SystemError.name(of: rc), since: start)
    if rc != 0 { throw SystemError("pthread_getattr_np", errno: rc) }
    return SelfView(
      tid: gettid(), cpu: currentCPU(), localAddress: localAddress, stackLow: low, stackHigh: high,
      started: start)
  }

  /// A blocked thread's registers as the kernel shows them in
  /// /proc/self/task/TID/syscall: the system call it waits in, its stack pointer
  /// and program counter.
  public struct SyscallState: Sendable, Equatable {
    public var number: Int?
    public var stackPointer: UInt
    public var programCounter: UInt
    /// `read`, `poll`… for the numbers proclab's threads block in (x86-64 and arm64).
    public var callName: String {
      guard let n = number else { return "running" }
      #if arch(x86_64)
        let names = [
          0: "read", 7: "poll", 202: "futex", 230: "clock_nanosleep", 271: "ppoll", 35: "nanosleep",
        ]
      #else
        let names = [63: "read", 73: "ppoll", 98: "futex", 115: "clock_nanosleep", 101: "nanosleep"]
      #endif
      return names[n] ?? "syscall \(n)"
    }
  }

  /// Reads /proc/self/task/TID/syscall: "NR arg1 … arg6 SP PC" while blocked,
  /// "running" or "-1 SP PC" otherwise. Nil when unreadable.
  public static func syscallState(_ tid: Int32) -> SyscallState? {
    let start = MonotonicClock.nanoseconds()
    let text = ProcFS.read("/proc/self/task/\(tid)/syscall")
    Trace.record("read", "/proc/self/task/\(tid)/syscall", result: text == nil ? "-1" : "ok", since: start)
    guard let words = text?.split(whereSeparator: { $0 == " " || $0 == "\n" }), words.count >= 3 else {
      return nil
    }
    func hex(_ s: Substring) -> UInt? { UInt(s.hasPrefix("0x") ? s.dropFirst(2) : s, radix: 16) }
    guard let sp = hex(words[words.count - 2]), let pc = hex(words[words.count - 1]) else { return nil }
    let n = Int(words[0])
    return SyscallState(number: (n ?? -1) >= 0 ? n : nil, stackPointer: sp, programCounter: pc)
  }
}

/// A pthread mutex at a fixed address (pthread_mutex_init/destroy), shared with
/// C loops that lock it (race's mutex, parallel's global lock): lesson material,
/// so it stays a pthread mutex rather than Synchronization.Mutex.
// why: the C loops lock it from several threads through `pointer`; the class only owns the memory.
public final class PthreadMutex: @unchecked Sendable {
  public let pointer: UnsafeMutablePointer<pthread_mutex_t>
  public init() {
    pointer = .allocate(capacity: 1)
    pthread_mutex_init(pointer, nil)
  }
  deinit {
    pthread_mutex_destroy(pointer)
    pointer.deallocate()
  }
  public func lock() { pthread_mutex_lock(pointer) }
  public func unlock() { pthread_mutex_unlock(pointer) }
}

/// A countdown: threads call `arrive()`; `wait` returns once `count` have arrived, or at the timeout.
public final class Latch: Sendable {
  private let remaining: Atomic<Int>
  public init(count: Int) { remaining = Atomic(count) }
  public func arrive() { remaining.subtract(1, ordering: .releasing) }
  /// True when everyone arrived in time (checked every 100 µs).
  public func wait(timeout: Duration) -> Bool {
    let deadline = MonotonicClock.nanoseconds() + UInt64(max(0, timeout.nanoseconds))
    while remaining.load(ordering: .acquiring) > 0 {
      if MonotonicClock.nanoseconds() >= deadline { return false }
      MonotonicClock.pause(.microseconds(100))
    }
    return true
  }
}

/// A long integer on the heap, shared by every thread of the process: C loops
/// load and store it through `pointer` (the race), Swift adds atomically.
// why: C loops write through `pointer` from several threads; Swift touches it only atomically.
public final class SharedCounter: @unchecked Sendable {
  private let cell: UnsafeMutablePointer<Atomic<Int>>
  public init() {
    cell = .allocate(capacity: 1)
    cell.initialize(to: Atomic(0))
  }
  deinit {
    cell.deinitialize(count: 1)
    cell.deallocate()
  }
  /// The same memory as a plain `long *` for C (Atomic<Int> has Int's layout).
  public var pointer: UnsafeMutablePointer<Int> {
    UnsafeMutableRawPointer(cell).assumingMemoryBound(to: Int.self)
  }
  public var address: UInt { UInt(bitPattern: cell) }
  public var value: Int { cell.pointee.load(ordering: .sequentiallyConsistent) }
  /// An atomic add (lock xadd): one indivisible step.
  @discardableResult public func atomicAdd(_ n: Int) -> Int {
    cell.pointee.wrappingAdd(n, ordering: .sequentiallyConsistent).newValue
  }
}
