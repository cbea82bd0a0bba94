import CLab
import Glibc

/// fcntl(2) command F_GETPIPE_SZ (F_LINUX_SPECIFIC_BASE + 8), which Glibc's module hides.
let fcntlGetPipeSize: Int32 = 1032

/// What filling a pipe that nobody reads showed.
public struct PipeFillResult: Sendable {
  public var child: Int32
  public var readFD: Int32
  public var writeFD: Int32
  /// F_GETPIPE_SZ of this pipe.
  public var capacity: Int
  /// Bytes the non-blocking writer got in before EAGAIN.
  public var filled: Int
  public var writeCalls: Int
  /// The errno of the refused write (EAGAIN).
  public var refusal: String
  /// How long a blocking write of `blockedBytes` stalled, the reader starting after `readerDelay`.
  public var blocked: Duration
  public var blockedBytes: Int
  public var readerDelay: Duration
  public var readerTotal: Int
  public var readerReads: Int
  public var readerSawEOF: Bool
  public var status: TerminationStatus
}

/// Pipe experiments beyond a plain transfer.
public enum IPCPipes {
  /// pipe2 + fcntl(F_GETPIPE_SZ) + O_NONBLOCK writes until EAGAIN, then a blocking write
  /// that waits for a forked reader, then close(write end) and the reader's end of file.
  public static func fill(readerDelay: Duration) throws -> PipeFillResult {
    try IPCChild.stoppable {
      let pipe = try IPCPipe()
      let go = try IPCPipe()
      let report = try IPCPipe()
      let capacity = try capacityOf(pipe.write)
      let args = clab_pipe_reader_args(
        read_fd: pipe.read, go_fd: go.read, report_fd: report.write, delay_ns: readerDelay.nanoseconds)
      let child = try IPCChild.fork(
        "waits for a go, sleeps \(Units.duration(readerDelay)), reads to end of file",
        body: clab_child_pipe_reader,
        args: args, closing: [pipe.write, go.write, report.read])
      defer { child.stop() }
      let (readFD, writeFD) = (pipe.read, pipe.write)
      pipe.closeRead()
      go.closeRead()
      report.closeWrite()

      // Nobody reads yet: write without blocking until the kernel says EAGAIN.
      try setBlocking(pipe.write, false)
      let chunk = [UInt8](repeating: UInt8(ascii: "x"), count: 4096)
      var filled = 0
      var calls = 0
      var size = chunk.count
      var refusal: Int32 = 0
      let start = MonotonicClock.nanoseconds()
      while true {
        calls += 1
        do {
          filled += try systemCall("write") {
            chunk.withUnsafeBytes { write(pipe.write, $0.baseAddress, size) }
          }
        } catch let e as SystemError where e.errno == EAGAIN {
          // Full for 4096 bytes: single bytes find the last free one, then stop.
          if size > 1 {
            size = 1
            continue
          }
          refusal = e.errno
          break
        }
      }
      Trace.record(
        "write", "\(pipe.write), 4096 then 1-byte writes, O_NONBLOCK",
        result: "\(filled) B in \(calls) calls, then -1 EAGAIN",
        since: start)
      // A blocking writer now stalls until the reader (started now, after its delay) makes room.
      try setBlocking(pipe.write, true)
      try go.send("g")
      let blockedStart = MonotonicClock.nanoseconds()
      try Descriptors.writeAll(pipe.write, chunk)
      let blocked = MonotonicClock.since(blockedStart)
      // Closing the only write end: the reader sees end of file once it has read everything.
      pipe.closeWrite()
      let counts = try report.receive(3, of: Int64.self)
      return PipeFillResult(
        child: child.pid, readFD: readFD, writeFD: writeFD, capacity: capacity, filled: filled,
        writeCalls: calls,
        refusal: SystemError.name(of: refusal), blocked: blocked, blockedBytes: chunk.count,
        readerDelay: readerDelay,
        readerTotal: Int(counts[0]), readerReads: Int(counts[1]), readerSawEOF: counts[2] != 0,
        status: child.finish())
    }
  }

  /// fcntl(F_GETPIPE_SZ) of a fresh pipe: what this kernel gives a new pipe.
  public static func defaultCapacity() throws -> Int {
    let pipe = try IPCPipe()
    return try capacityOf(pipe.read)
  }

  /// fcntl(fd, F_GETPIPE_SZ).
  static func capacityOf(_ fd: Int32) throws -> Int {
    Int(try Trace.call("fcntl", "\(fd), F_GETPIPE_SZ") { fcntl(fd, fcntlGetPipeSize) })
  }

  /// fcntl(F_SETFL) with or without O_NONBLOCK.
  static func setBlocking(_ fd: Int32, _ blocking: Bool) throws {
    try Trace.call("fcntl", "\(fd), F_SETFL, \(blocking ? "blocking" : "O_NONBLOCK")") {
      let flags = fcntl(fd, F_GETFL)
      return fcntl(fd, F_SETFL, blocking ? flags & ~O_NONBLOCK : flags | O_NONBLOCK)
    }
  }
}

/// Who holds an end of a pipe, from /proc/PID/fd and /proc/PID/fdinfo.
public struct PipeEndHolder: Sendable, Equatable {
  public var pid: Int32
  public var fd: Int32
  public var writes: Bool
}

extension IPCPipes {
  /// The pipe an open descriptor refers to: `pipe:[INODE]` from readlink(/proc/PID/fd/FD).
  public static func pipeName(pid: Int32, fd: Int32) -> String? {
    ProcFS.descriptorTarget(pid: pid, fd: fd).flatMap { $0.hasPrefix("pipe:") ? $0 : nil }
  }

  /// Every descriptor of `pids` that refers to pipe `name`, and whether it is a
  /// write end (the access mode in /proc/PID/fdinfo/FD `flags:`).
  public static func holders(of name: String, among pids: [Int32]) -> [PipeEndHolder] {
    pids.flatMap { pid in
      ProcFS.descriptors(of: pid).compactMap { fd -> PipeEndHolder? in
        guard ProcFS.descriptorTarget(pid: pid, fd: fd) == name else { return nil }
        let info = ProcFS.read("/proc/\(pid)/fdinfo/\(fd)") ?? ""
        let flags =
          info.split(separator: "\n").first { $0.hasPrefix("flags:") }
          .flatMap { Int($0.dropFirst(6).drop(while: { $0 == " " || $0 == "\t" }), radix: 8) } ?? 0
        return PipeEndHolder(pid: pid, fd: fd, writes: flags & Int(O_ACCMODE) != Int(O_RDONLY))
      }
    }
  }
}
