import CLab
import Glibc
import Synchronization

/// fork(2) experiments. The child side is C (CLab): between fork() and _exit()
/// it runs only async-signal-safe code, because the Swift runtime has no fork
/// handlers. Results come back over pipes.
public enum Fork {
  /// fork(): a child that sleeps `hold`, catching SIGUSR1 with a counting
  /// handler, then calls _exit(0) (clab_fork_sleeper). Returns its PID.
  public static func sleeper(hold: Duration) throws -> Int32 {
    try Trace.call(
      "fork", "child: setpgid, sleep \(Units.duration(hold)), _exit(0)", describe: { "pid \($0)" }
    ) { clab_fork_sleeper(hold.nanoseconds) }
  }

  /// What one process or thread saw of the `memory` variable.
  public struct MemoryView: Sendable, Equatable {
    public var pid: Int32
    public var parent: Int32
    public var tid: Int32
    public var address: UInt
    public var before: Int
    public var after: Int
    init(pid: Int32, parent: Int32, tid: Int32, address: UInt, before: Int, after: Int) {
      self.pid = pid
      self.parent = parent
      self.tid = tid
      self.address = address
      self.before = before
      self.after = after
    }
    init(_ v: clab_memory_view) {
      pid = v.pid
      parent = v.parent
      tid = v.tid
      address = UInt(v.address)
      before = v.before
      after = v.after
    }
  }

  /// The variable `memory` reads and writes: a C global in proclab's data
  /// segment, alone on its page (so only a write to it copies the page).
  public enum Cell {
    public static var address: UInt { UInt(clab_memory_cell_address()) }
    static var pointer: UnsafeMutablePointer<Int> { UnsafeMutablePointer(bitPattern: address)! }
    public static var value: Int {
      get { pointer.pointee }
      set { pointer.pointee = newValue }
    }
  }

  /// A forked child that has read the cell and waits: `write()` makes it write
  /// its new value; `release()` lets it _exit (the caller then reaps it).
  public final class MemoryChild {
    public let pid: Int32
    /// What the child saw before writing.
    public let first: MemoryView
    private var reportFD: Int32
    private var holdFD: Int32
    private let timeout: Duration

    init(pid: Int32, first: MemoryView, reportFD: Int32, holdFD: Int32, timeout: Duration) {
      self.pid = pid
      self.first = first
      self.reportFD = reportFD
      self.holdFD = holdFD
      self.timeout = timeout
    }

    /// write(hold, "W"): the child writes its value into the cell and reports what it read back.
    public func write() throws -> MemoryView {
      try Descriptors.writeAll(holdFD, "W")
      return try Fork.readView(reportFD, timeout: timeout)
    }

    /// Closes the pipes: the child sees end of file and calls _exit(0).
    public func release() {
      if holdFD >= 0 { Descriptors.close(holdFD) }
      if reportFD >= 0 { Descriptors.close(reportFD) }
      holdFD = -1
      reportFD = -1
    }

    deinit { release() }
  }

  static func readView(_ fd: Int32, timeout: Duration) throws -> MemoryView {
    let bytes = try readExactly(fd, count: MemoryLayout<clab_memory_view>.size, timeout: timeout)
    return MemoryView(bytes.withUnsafeBytes { $0.loadUnaligned(as: clab_memory_view.self) })
  }

  /// fork(): the child reads the cell and reports through a pipe, then waits for
  /// `write()` (it writes `newValue`) and `release()` (it _exits).
  public static func memoryChild(newValue: Int, timeout: Duration = .seconds(10)) throws -> MemoryChild {
    let report = try Descriptors.pipe()
    let hold: (read: Int32, write: Int32)
    do { hold = try Descriptors.pipe() } catch {
      Descriptors.close(report.read)
      Descriptors.close(report.write)
      throw error
    }
    let pid: Int32
    do {
      pid = try Trace.call(
        "fork", "child: read the cell, report, on 'W' write \(newValue)", describe: { "pid \($0)" }
      ) { clab_memory_fork(newValue, report.write, hold.read, report.read, hold.write) }
    } catch {
      for fd in [report.read, report.write, hold.read, hold.write] { Descriptors.close(fd) }
      throw error
    }
    Descriptors.close(report.write)
    Descriptors.close(hold.read)
    do {
      let view = try readView(report.read, timeout: timeout)
      return MemoryChild(pid: pid, first: view, reportFD: report.read, holdFD: hold.write, timeout: timeout)
    } catch {
      Descriptors.close(hold.write)
      Descriptors.close(report.read)
      Children.killAndReap(pid)
      throw error
    }
  }

  /// pthread_create + pthread_join: a thread of this process reads the cell,
  /// writes `newValue` into it and reads it back.
  public static func memoryThread(newValue: Int) throws -> MemoryView {
    // A class holds the Mutex so the thread's closure can share it.
    final class Seen: Sendable { let view = Mutex<MemoryView?>(nil) }
    let seen = Seen()
    let handle = try Threads.spawn("memory") {
      let before = Cell.value
      Cell.value = newValue
      seen.view.withLock {
        $0 = MemoryView(
          pid: ThisProcess.id, parent: ThisProcess.parent, tid: Threads.currentTID(), address: Cell.address,
          before: before, after: Cell.value)
      }
    }
    Threads.join(handle, label: "memory")
    guard let view = seen.view.withLock({ $0 }) else { throw SystemError("pthread_create", errno: EAGAIN) }
    return view
  }

  /// fork(): a child that keeps every descriptor of the shell and obeys one-byte
  /// commands (clab_files_fork): write through the inherited file descriptor, open
  /// `otherPath` itself and write there, close the inherited descriptor, or execve
  /// `path` with its report pipe as standard output.
  public final class FilesChild {
    public let pid: Int32
    /// The two pipes' four ends, as numbered in both processes, and what each is for.
    public let pipeEnds: [Int32: String]
    private var commandFD: Int32
    private var reportFD: Int32
    private let timeout: Duration

    /// pipe2 × 2, then fork(). `arguments` and `environment` are turned into C
    /// strings before fork, so the child only calls execve.
    public init(
      fileFD: Int32, otherPath: String, program: String, arguments: [String], environment: [String: String],
      timeout: Duration = .seconds(10)
    ) throws {
      let report = try Descriptors.pipe()
      let command: (read: Int32, write: Int32)
      do { command = try Descriptors.pipe() } catch {
        Descriptors.close(report.read)
        Descriptors.close(report.write)
        throw error
      }
      let argv = arguments.map { strdup($0) } + [nil]
      let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
      defer {
        argv.forEach { free($0) }
        envp.forEach { free($0) }
      }
      let pid: Int32
      do {
        pid = try Trace.call(
          "fork", "child keeps every descriptor, obeys commands, then execve \(program)",
          describe: { "pid \($0)" }
        ) {
          argv.withUnsafeBufferPointer { a in
            envp.withUnsafeBufferPointer { e in
              clab_files_fork(
                fileFD, command.read, report.write, otherPath, program, a.baseAddress!, e.baseAddress!)
            }
          }
        }
      } catch {
        for fd in [report.read, report.write, command.read, command.write] { Descriptors.close(fd) }
        throw error
      }
      Descriptors.close(report.write)
      Descriptors.close(command.read)
      self.pid = pid
      self.pipeEnds = [
        report.read: "report pipe, read", report.write: "report pipe, write",
        command.read: "command pipe, read", command.write: "command pipe, write",
      ]
      self.commandFD = command.write
      self.reportFD = report.read
      self.timeout = timeout
      do {
        _ = try expect("R")
      } catch {
        release()
        Children.killAndReap(pid)
        throw error
      }
    }

    deinit { release() }

    /// write(2) one command byte, then read(2) the child's one-byte answer.
    @discardableResult
    public func send(_ command: Character) throws -> Character {
      try Descriptors.writeAll(commandFD, String(command))
      return try expect(nil)
    }

    private func expect(_ answer: Character?) throws -> Character {
      let got = Character(UnicodeScalar(try Fork.readExactly(reportFD, count: 1, timeout: timeout)[0]))
      if let answer, got != answer { throw SystemError("read", errno: EPROTO) }
      return got
    }

    /// 'X': the child execve()s; returns the JSON lines the new program wrote on its
    /// standard output (the report pipe) until end of file.
    public func exec() throws -> [JSON] {
      try Descriptors.writeAll(commandFD, "X")
      var bytes: [UInt8] = []
      let deadline = MonotonicClock.nanoseconds() + UInt64(timeout.nanoseconds) * 2
      while MonotonicClock.nanoseconds() < deadline {
        try Interrupt.check()
        if Descriptors.readable([reportFD], timeout: .milliseconds(20)).isEmpty { continue }
        let chunk = try Descriptors.read(reportFD, max: 65536)
        if chunk.isEmpty { break }
        bytes += chunk
      }
      return bytes.split(separator: 10).compactMap { JSON.parse(String(decoding: $0, as: UTF8.self)) }
    }

    /// Closes the command pipe: a child still obeying commands reads end of file and _exits.
    public func release() {
      if commandFD >= 0 { Descriptors.close(commandFD) }
      if reportFD >= 0 { Descriptors.close(reportFD) }
      commandFD = -1
      reportFD = -1
    }
  }

  /// poll(2) and read(2) until exactly `count` bytes arrived, waiting at most
  /// `timeout` (ETIMEDOUT), or end of file (EPIPE); Ctrl-C throws `Interrupted`.
  public static func readExactly(_ fd: Int32, count: Int, timeout: Duration) throws -> [UInt8] {
    var data: [UInt8] = []
    let deadline = MonotonicClock.nanoseconds() + UInt64(max(0, timeout.nanoseconds))
    while data.count < count {
      try Interrupt.check()
      if MonotonicClock.nanoseconds() >= deadline { throw SystemError("read", errno: ETIMEDOUT) }
      if Descriptors.readable([fd], timeout: .milliseconds(20)).isEmpty { continue }
      let chunk = try Descriptors.read(fd, max: count - data.count)
      if chunk.isEmpty { throw SystemError("read", errno: EPIPE) }
      data += chunk
    }
    return data
  }
}

/// Ending children the shell created.
public enum Children {
  /// kill(-pid, SIGKILL) and kill(pid, SIGKILL) (SignalSender.killGroup), then
  /// wait4 until it is reaped (Wait.reap): the cleanup path, whatever state the child is in.
  public static func killAndReap(_ pid: Int32) {
    SignalSender.killGroup(pid)
    Wait.reap(pid)
  }
}
