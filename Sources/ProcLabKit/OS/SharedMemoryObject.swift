import CLab
import Glibc

/// A POSIX shared-memory object (shm_overview(7)): a file in /dev/shm (a tmpfs)
/// mapped into the address space. It stays listed until shm_unlink, and its
/// memory until the last mapping goes.
public final class SharedMemoryObject {
  public let name: String
  public let size: Int
  /// Where this process mapped it.
  public let address: UnsafeMutableRawPointer
  private var mapped = true
  private var linked = true

  /// shm_open(name, O_CREAT|O_EXCL|O_RDWR|O_CLOEXEC, 0600) + ftruncate(size) +
  /// mmap(PROT_READ|PROT_WRITE, MAP_SHARED or MAP_PRIVATE) + close(fd).
  public init(creating name: String, size: Int, privateMapping: Bool = false) throws {
    self.name = name
    self.size = size
    let fd = try Trace.call("shm_open", "\(name), O_CREAT|O_EXCL|O_RDWR, 0600") {
      shm_open(name, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0o600)
    }
    defer { Descriptors.close(fd) }
    let flags = privateMapping ? MAP_PRIVATE : MAP_SHARED
    do {
      try Trace.call("ftruncate", "\(fd), \(size)") { ftruncate(fd, off_t(size)) }
      let start = MonotonicClock.nanoseconds()
      let p = mmap(nil, size, PROT_READ | PROT_WRITE, flags, fd, 0)
      let failed = p == MAP_FAILED || p == nil
      let flagName = privateMapping ? "MAP_PRIVATE" : "MAP_SHARED"
      Trace.record(
        "mmap", "NULL, \(size), PROT_READ|PROT_WRITE, \(flagName), \(fd)",
        result: failed ? "-1 \(SystemError.name(of: errno))" : Units.address(UInt(bitPattern: p)),
        since: start)
      if failed { throw SystemError("mmap") }
      address = p!
    } catch {
      _ = shm_unlink(name)
      throw error
    }
  }

  deinit {
    unmap()
    if linked { try? unlink() }
  }

  /// Where Linux lists it.
  public var path: String { "/dev/shm" + name }
  /// Whether /dev/shm lists it (access F_OK).
  public var isListed: Bool { access(path, F_OK) == 0 }

  /// shm_unlink(name): the name goes, the memory stays while anyone maps it.
  public func unlink() throws {
    guard linked else { return }
    linked = false
    try Trace.call("shm_unlink", "\(name) (the memory stays until the last munmap)") { shm_unlink(name) }
  }

  /// munmap.
  public func unmap() {
    guard mapped else { return }
    mapped = false
    let start = MonotonicClock.nanoseconds()
    let rc = munmap(address, size)
    Trace.record(
      "munmap", "\(Units.address(UInt(bitPattern: address))), \(size)", result: "\(rc)", since: start)
  }
}

/// A process-shared POSIX semaphore placed in shared memory (sem_init with pshared = 1).
enum SharedSemaphore {
  /// sem_init(sem, 1, value).
  static func initialize(_ sem: UnsafeMutablePointer<sem_t>, value: UInt32) throws {
    try systemCall("sem_init") { sem_init(sem, 1, value) }
  }

  /// sem_timedwait in steps of 100 ms until it succeeds; between steps, Ctrl-C
  /// throws `Interrupted` and a peer that has ended throws EPIPE.
  static func wait(_ sem: UnsafeMutablePointer<sem_t>, peer: IPCChild) throws {
    while true {
      if sem_trywait(sem) == 0 { return }
      var limit = MessageQueue.deadline(in: .milliseconds(100))
      if sem_timedwait(sem, &limit) == 0 { return }
      let e = errno
      if e != ETIMEDOUT && e != EINTR { throw SystemError("sem_timedwait", errno: e) }
      try Interrupt.check()
      if peer.hasEnded { throw SystemError("sem_timedwait (the child ended)", errno: EPIPE) }
    }
  }
}
