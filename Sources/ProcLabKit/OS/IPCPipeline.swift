import CLab
import Glibc

/// What `a | b` built the way a shell builds it showed.
public struct PipelineResult: Sendable {
  public var writer: Int32
  public var reader: Int32
  /// readlink of the writer's fd 1 and the reader's fd 0: `pipe:[INODE]`.
  public var writerStdout: String
  public var readerStdin: String
  public var linesWritten: Int
  public var linesCounted: Int
  public var bytesCounted: Int
  /// Whether the shell kept its copy of the write end open (the bug).
  public var leftOpen: Bool
  /// The reader had not seen end of file `watchdog` after the writer ended.
  public var stalled: Bool
  public var watchdog: Duration
  /// While stalled: the reader's state and where it slept (/proc/PID/stat, wchan),
  /// and who still held a write end of the pipe.
  public var readerState: String?
  public var readerWaitChannel: String?
  public var writeEndHolders: [PipeEndHolder]
  /// From the shell's close of its forgotten write end to the reader's answer.
  public var endOfFileAfterClose: Duration?
  public var writerStatus: TerminationStatus
  public var readerStatus: TerminationStatus

  public var samePipe: Bool { writerStdout == readerStdin && writerStdout.hasPrefix("pipe:") }
}

/// What two writers sharing one pipe left in it.
public struct InterleaveResult: Sendable {
  public var record: Int
  public var records: Int
  public var writers: [Int32]
  public var bytesRead: Int
  public var reads: Int
  /// Places where one writer's record was cut by the other's bytes.
  public var cuts: Int
  /// Records (of both writers together) that were cut at least once: a record bigger than the
  /// pipe can be cut several times.
  public var cutRecords: Int
  public var bytesPerLetter: [Int]
  public var statuses: [TerminationStatus]
}

extension IPCPipes {
  /// `a | b`: pipe2; fork a writer that dup2s the write end onto its stdout and a reader
  /// that dup2s the read end onto its stdin (its own stdout is a pipe to the shell);
  /// each closes the ends it does not use, and so does the shell, unless `leaveWriteEndOpen`.
  /// The writer writes `lines` lines and exits; the reader counts until end of file.
  /// A watchdog waits `watchdog` for the reader's answer; if it stalls, the shell
  /// shows who holds a write end, then closes its own.
  public static func pipeline(lines: Int, leaveWriteEndOpen: Bool, watchdog: Duration) throws
    -> PipelineResult
  {
    try IPCChild.stoppable {
      let bar = try IPCPipe()  // the `|`
      let answer = try IPCPipe()  // the reader's stdout, read by the shell
      let go = try IPCPipe()
      let writerArgs = clab_pipeline_args(
        stdin_fd: -1, stdout_fd: bar.write, go_fd: go.read, lines: Int64(lines))
      let writer = try IPCChild.fork(
        "dup2(\(bar.write), 1); writes \(lines) lines to stdout", body: clab_child_pipeline_writer,
        args: writerArgs,
        closing: [bar.read, answer.read, answer.write, go.write])
      defer { writer.stop() }
      let readerArgs = clab_pipeline_args(stdin_fd: bar.read, stdout_fd: answer.write, go_fd: -1, lines: 0)
      let reader = try IPCChild.fork(
        "dup2(\(bar.read), 0), dup2(\(answer.write), 1); counts lines until end of file",
        body: clab_child_pipeline_reader, args: readerArgs,
        closing: [bar.write, answer.read, go.read, go.write])
      defer { reader.stop() }
      let pipeName = pipeName(pid: getpid(), fd: bar.read) ?? "pipe:[?]"
      bar.closeRead()
      answer.closeWrite()
      go.closeRead()
      if !leaveWriteEndOpen { bar.closeWrite() }

      // The children dup2 at once; wait (at most a second) until /proc shows both ends in place.
      var writerStdout = ""
      var readerStdin = ""
      let deadline = MonotonicClock.nanoseconds() + 1_000_000_000
      repeat {
        writerStdout = IPCPipes.pipeName(pid: writer.pid, fd: 1) ?? ""
        readerStdin = IPCPipes.pipeName(pid: reader.pid, fd: 0) ?? ""
        if writerStdout == pipeName && readerStdin == pipeName { break }
        MonotonicClock.pause(.milliseconds(1))
      } while MonotonicClock.nanoseconds() < deadline
      try go.send("g")
      guard let writerStatus = try writer.waitForEnd(within: .seconds(10)) else {
        throw SystemError("the writer of the pipeline did not finish", errno: ETIMEDOUT)
      }
      var stalled = false
      var state: String?
      var wchan: String?
      var holders: [PipeEndHolder] = []
      var afterClose: Duration?
      var counts = try answer.receiveIfAny((Int64, Int64, Int64).self, within: watchdog)
      if counts == nil {
        // The writer is gone, yet no end of file: someone still holds a write end.
        stalled = true
        state = ProcFS.stat(reader.pid).map { String($0.state) }
        wchan = ProcFS.read("/proc/\(reader.pid)/wchan")
        holders = IPCPipes.holders(of: pipeName, among: [getpid(), reader.pid]).filter(\.writes)
        let closed = MonotonicClock.nanoseconds()
        bar.closeWrite()
        counts = try answer.receiveIfAny((Int64, Int64, Int64).self, within: .seconds(5))
        if counts != nil { afterClose = MonotonicClock.since(closed) }
      }
      let readerStatus = reader.finish()
      return PipelineResult(
        writer: writer.pid, reader: reader.pid, writerStdout: writerStdout, readerStdin: readerStdin,
        linesWritten: lines, linesCounted: Int(counts?.0 ?? 0), bytesCounted: Int(counts?.1 ?? 0),
        leftOpen: leaveWriteEndOpen, stalled: stalled, watchdog: watchdog, readerState: state,
        readerWaitChannel: wchan, writeEndHolders: holders, endOfFileAfterClose: afterClose,
        writerStatus: writerStatus, readerStatus: readerStatus)
    }
  }

  /// Two forked writers, released together, each writing `records` records of
  /// `record` bytes of its own letter (one write() per record) into one pipe; the
  /// shell reads everything and counts the records cut by the other writer's bytes.
  public static func interleave(record: Int, records: Int) throws -> InterleaveResult {
    try IPCChild.stoppable {
      let pipe = try IPCPipe()
      let go = try IPCPipe()
      let letters: [UInt8] = [UInt8(ascii: "A"), UInt8(ascii: "B")]
      var writers: [IPCChild] = []
      defer { for w in writers { w.stop() } }
      for letter in letters {
        let args = clab_record_writer_args(
          fd: pipe.write, go_fd: go.read, letter: Int32(letter), record: Int64(record),
          records: Int64(records))
        writers.append(
          try IPCChild.fork(
            "writes \(records) records of \(record) B of '\(Character(Unicode.Scalar(letter)))', one write() each",
            body: clab_child_record_writer, args: args, closing: [pipe.read, go.write]))
      }
      pipe.closeWrite()
      go.closeRead()
      try Descriptors.writeAll(go.write, "gg")
      let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 8)
      defer { buffer.deallocate() }
      var current: UInt8 = 0
      var offset = [0, 0]  // bytes into the current record of each writer
      var perLetter = [0, 0]
      var cuts = 0
      var cutRecords = Set<[Int]>()  // [writer, record number]
      var total = 0
      var reads = 0
      let start = MonotonicClock.nanoseconds()
      while true {
        let n = try systemCall("read") { read(pipe.read, buffer.baseAddress, buffer.count) }
        if n == 0 { break }
        reads += 1
        total += n
        var i = 0
        while i < n {
          if buffer[i] != current {
            // The other writer's bytes begin: a cut if the current record is unfinished.
            if let k = letters.firstIndex(of: current), offset[k] != 0 {
              cuts += 1
              cutRecords.insert([k, perLetter[k] / record])
            }
            current = buffer[i]
          }
          // Where the run of this letter ends: memchr for the other letter.
          let other = current == letters[0] ? letters[1] : letters[0]
          let found = memchr(buffer.baseAddress! + i, Int32(other), n - i)
          let end = found.map { $0 - buffer.baseAddress! } ?? n
          if let k = letters.firstIndex(of: current) {
            offset[k] = (offset[k] + end - i) % record
            perLetter[k] += end - i
          }
          i = end
        }
      }
      Trace.record(
        "read", "\(pipe.read), 64 KiB at a time, until end of file", result: "\(total) B in \(reads) reads",
        since: start)
      return InterleaveResult(
        record: record, records: records, writers: writers.map(\.pid), bytesRead: total, reads: reads,
        cuts: cuts, cutRecords: cutRecords.count,
        bytesPerLetter: perLetter, statuses: writers.map { $0.finish() })
    }
  }
}
