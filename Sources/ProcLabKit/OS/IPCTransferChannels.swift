import CLab
import Glibc

/// One mechanism's channel between the shell and a transfer child: how it is made,
/// what the child gets, the shell's end after fork, and how it is taken down.
/// A new mechanism is one more class here and one more case of `IPCMechanism`.
class TransferChannel {
  /// The descriptors (or queues) each side uses, for the report: -1 when none.
  var parentSend: Int32 = -1
  var parentReceive: Int32 = -1
  var childReceive: Int32 = -1
  var childSend: Int32 = -1
  /// Bytes per send in the bulk phase.
  var chunk: Int { 64 * 1024 }
  /// The names it created (FIFOs, shm object, queues), for the report.
  var names: [String] { [] }

  /// What the child needs (kind, descriptors, paths, region), and the shell's
  /// descriptors it must close. Paths must stay valid until fork: `body` forks.
  func withChildArguments<R>(_ body: (clab_transfer_args, [Int32]) throws -> R) throws -> R {
    var args = clab_transfer_args()
    args.kind = Int32(CLAB_CHANNEL_DESCRIPTORS)
    args.receive_fd = childReceive
    args.send_fd = childSend
    return try body(args, [parentSend, parentReceive])
  }

  /// Makes the channel (pipes, sockets, FIFOs); the queue and shared-memory ones
  /// are made by their initializers. `close` undoes whatever part was done.
  func open() throws {}

  /// After fork: close the child's ends, open what must be opened by name.
  func connect(to child: IPCChild) throws {}

  /// One message, all of it.
  func send(_ bytes: UnsafeRawBufferPointer, to child: IPCChild) throws {
    var offset = 0
    while offset < bytes.count {
      offset += try systemCall("write") {
        write(parentSend, bytes.baseAddress! + offset, bytes.count - offset)
      }
    }
  }

  /// What is there, up to `buffer.count` (a whole message for queues and slots); throws
  /// EPIPE at end of file (the child is gone).
  func receive(into buffer: UnsafeMutableRawBufferPointer, from child: IPCChild) throws -> Int {
    let n = try systemCall("read") { read(parentReceive, buffer.baseAddress, buffer.count) }
    if n == 0 { throw SystemError("read (end of file: the child ended)", errno: EPIPE) }
    return n
  }

  /// Closes and unlinks everything it made (each descriptor once: a socket is both ends).
  func close() {
    for fd in Set([parentSend, parentReceive, childReceive, childSend]) where fd >= 0 {
      Descriptors.close(fd)
    }
    parentSend = -1
    parentReceive = -1
    childReceive = -1
    childSend = -1
  }

  /// The names still present after `close` (should be none).
  func namesLeft() -> [String] { [] }

  /// After fork: the shell closes its copies of the child's ends.
  func closeChildEnds() {
    for fd in Set([childReceive, childSend]) where fd >= 0 { Descriptors.close(fd) }
    childReceive = -1
    childSend = -1
  }
}

/// Two pipes, one per direction (pipe2 ×2).
final class PipeChannel: TransferChannel {
  override func open() throws {
    let request = try Descriptors.pipe()
    (childReceive, parentSend) = request
    let answer = try Descriptors.pipe()
    (parentReceive, childSend) = answer
  }
  override func connect(to child: IPCChild) throws { closeChildEnds() }
}

/// One AF_UNIX socketpair, both directions on each socket.
final class SocketChannel: TransferChannel {
  let datagram: Bool
  init(datagram: Bool) { self.datagram = datagram }
  override func open() throws {
    var fds: [Int32] = [-1, -1]
    let type = datagram ? "SOCK_DGRAM" : "SOCK_STREAM"
    try Trace.call("socketpair", "AF_UNIX, \(type)|SOCK_CLOEXEC", describe: { _ in "[\(fds[0]), \(fds[1])]" })
    {
      socketpair(
        AF_UNIX, Int32(datagram ? SOCK_DGRAM.rawValue : SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue),
        0, &fds)
    }
    parentSend = fds[0]
    parentReceive = fds[0]
    childReceive = fds[1]
    childSend = fds[1]
  }
  override func withChildArguments<R>(_ body: (clab_transfer_args, [Int32]) throws -> R) throws -> R {
    var args = clab_transfer_args()
    args.receive_fd = childReceive
    args.send_fd = childSend
    return try body(args, [parentSend])
  }
  override func connect(to child: IPCChild) throws { closeChildEnds() }
  override func send(_ bytes: UnsafeRawBufferPointer, to child: IPCChild) throws {
    guard datagram else { return try super.send(bytes, to: child) }
    // One datagram per send; MSG_NOSIGNAL: EPIPE rather than SIGPIPE if the child is gone.
    _ = try systemCall("send") { Glibc.send(parentSend, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL)) }
  }
}

/// Two FIFOs in a private directory, which the child opens by name.
final class FifoChannel: TransferChannel {
  let directory: String
  var request: String { directory + "/request" }
  var answer: String { directory + "/answer" }
  private var made = 0
  override var names: [String] { [request, answer] }

  init(directory: String) { self.directory = directory }

  /// mkfifo ×2 in `directory`.
  override func open() throws {
    for path in [request, answer] {
      try Trace.call("mkfifo", "\(path), 0600") { mkfifo(path, 0o600) }
      made += 1
    }
  }
  override func withChildArguments<R>(_ body: (clab_transfer_args, [Int32]) throws -> R) throws -> R {
    try request.withCString { requestPath in
      try answer.withCString { answerPath in
        var args = clab_transfer_args()
        args.receive_path = requestPath
        args.send_path = answerPath
        return try body(args, [])
      }
    }
  }
  /// The answer FIFO first, without blocking (a reader now exists, so the child's
  /// open for writing succeeds); then the request FIFO, which fails with ENXIO
  /// until the child has opened it for reading.
  override func connect(to child: IPCChild) throws {
    parentReceive = try Trace.call("open", "\(answer), O_RDONLY|O_NONBLOCK") {
      Glibc.open(answer, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
    }
    let start = MonotonicClock.nanoseconds()
    var tries = 0
    while true {
      tries += 1
      let fd = Glibc.open(request, O_WRONLY | O_NONBLOCK | O_CLOEXEC)
      if fd >= 0 {
        parentSend = fd
        break
      }
      let e = errno
      if e != ENXIO && e != EINTR { throw SystemError("open \(request)", errno: e) }
      try Interrupt.check()
      if child.hasEnded { throw SystemError("open \(request) (the child ended)", errno: EPIPE) }
      MonotonicClock.pause(.microseconds(100))
    }
    Trace.record(
      "open", "\(request), O_WRONLY|O_NONBLOCK",
      result: "\(parentSend) after \(tries) tries (ENXIO until the child opened it)",
      since: start)
    for fd in [parentSend, parentReceive] {
      try Trace.call("fcntl", "\(fd), F_SETFL, blocking") {
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
      }
    }
  }
  override func close() {
    super.close()
    for path in [request, answer].prefix(made) {
      _ = try? Trace.call("unlink", path) { Glibc.unlink(path) }
    }
    made = 0
  }
  override func namesLeft() -> [String] { names.filter { access($0, F_OK) == 0 } }
}

/// Two POSIX message queues, one per direction.
final class QueueChannel: TransferChannel {
  let toChild: MessageQueue
  let toParent: MessageQueue
  override var chunk: Int { 8192 }
  override var names: [String] { [toChild.name, toParent.name] }

  /// mq_open ×2, 10 messages of 8 KiB each (the default limits of /proc/sys/fs/mqueue).
  init(name: String) throws {
    toChild = try MessageQueue(creating: name + ".to-child", maxMessages: 10, messageSize: 8192)
    toParent = try MessageQueue(creating: name + ".to-parent", maxMessages: 10, messageSize: 8192)
    super.init()
    parentSend = toChild.descriptor
    childReceive = toChild.descriptor
    parentReceive = toParent.descriptor
    childSend = toParent.descriptor
  }
  override func withChildArguments<R>(_ body: (clab_transfer_args, [Int32]) throws -> R) throws -> R {
    var args = clab_transfer_args()
    args.kind = Int32(CLAB_CHANNEL_QUEUES)
    args.receive_fd = toChild.descriptor
    args.send_fd = toParent.descriptor
    return try body(args, [])
  }
  override func send(_ bytes: UnsafeRawBufferPointer, to child: IPCChild) throws {
    while try !toChild.send(bytes, deadline: MessageQueue.deadline(in: .milliseconds(100))) {
      try Interrupt.check()
      if child.hasEnded { throw SystemError("mq_timedsend (the child ended)", errno: EPIPE) }
    }
  }
  override func receive(into buffer: UnsafeMutableRawBufferPointer, from child: IPCChild) throws -> Int {
    while true {
      if let (n, _) = try toParent.receive(
        into: buffer, deadline: MessageQueue.deadline(in: .milliseconds(100)))
      {
        return n
      }
      try Interrupt.check()
      if child.hasEnded { throw SystemError("mq_timedreceive (the child ended)", errno: EPIPE) }
    }
  }
  override func close() {
    for q in [toChild, toParent] {
      q.close()
      q.unlink()
    }
  }
  override func namesLeft() -> [String] { names.filter(MessageQueue.exists) }
}

/// A shared-memory object with one slot per direction, each guarded by two
/// process-shared semaphores. Unlinked as soon as it is mapped: fork keeps a
/// MAP_SHARED mapping shared, so the child needs no name.
final class SharedChannel: TransferChannel {
  let object: SharedMemoryObject
  let channel: UnsafeMutablePointer<clab_shm_channel>
  private var semaphores = false
  override var names: [String] { [object.name] }

  init(name: String) throws {
    let header = MemoryLayout<clab_shm_channel>.size
    let slot = Int(CLAB_SHM_SLOT_BYTES)
    object = try SharedMemoryObject(creating: name, size: header + 2 * slot)
    channel = object.address.bindMemory(to: clab_shm_channel.self, capacity: 1)
    super.init()
    try object.unlink()
    toChild.pointee.data_offset = Int64(header)
    toParent.pointee.data_offset = Int64(header + slot)
    let start = MonotonicClock.nanoseconds()
    for slot in [toChild, toParent] {
      try SharedSemaphore.initialize(&slot.pointee.full, value: 0)
      try SharedSemaphore.initialize(&slot.pointee.empty, value: 1)
    }
    semaphores = true
    Trace.record(
      "sem_init", "4 semaphores in the shared page, pshared=1 (full 0, empty 1, each direction)", result: "0",
      since: start)
  }
  override func withChildArguments<R>(_ body: (clab_transfer_args, [Int32]) throws -> R) throws -> R {
    var args = clab_transfer_args()
    args.kind = Int32(CLAB_CHANNEL_SHARED)
    args.shared = channel
    return try body(args, [])
  }
  private func data(_ slot: UnsafeMutablePointer<clab_shm_slot>) -> UnsafeMutableRawPointer {
    object.address + Int(slot.pointee.data_offset)
  }
  private var toChild: UnsafeMutablePointer<clab_shm_slot> { slot(\.to_child) }
  private var toParent: UnsafeMutablePointer<clab_shm_slot> { slot(\.to_parent) }
  private func slot(_ path: KeyPath<clab_shm_channel, clab_shm_slot>) -> UnsafeMutablePointer<clab_shm_slot> {
    (object.address + MemoryLayout<clab_shm_channel>.offset(of: path)!).assumingMemoryBound(
      to: clab_shm_slot.self)
  }
  override func send(_ bytes: UnsafeRawBufferPointer, to child: IPCChild) throws {
    let slot = toChild
    try SharedSemaphore.wait(&slot.pointee.empty, peer: child)
    data(slot).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
    slot.pointee.length = Int64(bytes.count)
    sem_post(&slot.pointee.full)
  }
  override func receive(into buffer: UnsafeMutableRawBufferPointer, from child: IPCChild) throws -> Int {
    let slot = toParent
    try SharedSemaphore.wait(&slot.pointee.full, peer: child)
    let n = min(Int(slot.pointee.length), buffer.count)
    buffer.baseAddress!.copyMemory(from: data(slot), byteCount: n)
    sem_post(&slot.pointee.empty)
    return n
  }
  override func close() {
    if semaphores {
      for slot in [toChild, toParent] {
        sem_destroy(&slot.pointee.full)
        sem_destroy(&slot.pointee.empty)
      }
      semaphores = false
    }
    object.unmap()
  }
  override func namesLeft() -> [String] { object.isListed ? [object.name] : [] }
}
