import CLab
import Glibc

/// `pipe --pipeline` and `pipe --interleave`: the process API as a shell uses it.
enum PipePipelineReport {
  static let lines = 1000
  static let watchdog = Duration.milliseconds(500)

  static func pipeline(leaveOpen: Bool) throws -> Report {
    let p = try IPCPipes.pipeline(lines: lines, leaveWriteEndOpen: leaveOpen, watchdog: watchdog)
    let r = Report()
    r.line("pipe --pipeline: a | b, built the way a shell builds it")
    r.line(
      "  pipe2, then fork a (pid \(r.pid(p.writer))): dup2(write end, 1); fork b (pid \(r.pid(p.reader))): dup2(read end, 0)"
    )
    r.line(
      "  a's fd 1 → \(r.same(p.writerStdout, .word)), b's fd 0 → \(r.same(p.readerStdin, .word))"
        + (p.samePipe ? " (one pipe)" : " (NOT the same pipe)"))
    r.line(
      leaveOpen
        ? "  a and b closed the ends they do not use; the shell closed its read end but KEPT its write end"
        : "  a, b and the shell each closed the ends they do not use")
    // a writes a fixed text (`lines` numbered lines): the counts are the same every run.
    r.line("  a wrote \(p.linesWritten) lines and \(p.writerStatus)")
    if p.stalled {
      let state = p.readerState ?? "?"
      let meaning = state.first.map { ProcFS.meaning(ofState: $0) } ?? "?"
      let wchan = p.readerWaitChannel.flatMap { $0.isEmpty || $0 == "0" ? nil : $0 }
      r.line(
        "  \(r.fixed(Units.duration(p.watchdog))) later b had still not seen end of file: state \(state) (\(meaning))"
          + (wchan.map { " in \(r.machine($0, .word))" } ?? ""))
      let holders = p.writeEndHolders.map { "pid \(r.pid($0.pid)) fd \(r.count(Int($0.fd)))" }
      r.line(
        "  write ends of \(r.note(p.readerStdin, .word)) still open: "
          + (holders.isEmpty ? "none found" : holders.joined(separator: ", ")))
      if let after = p.endOfFileAfterClose {
        r.line(
          "  the shell closed its write end: b saw end of file \(r.duration(after)) later and counted \(p.linesCounted) lines (\(p.bytesCounted) B)"
        )
      }
    } else {
      r.line(
        "  b counted \(p.linesCounted) lines (\(p.bytesCounted) B), then read() returned 0: end of file"
      )
    }
    r.line("  b \(p.readerStatus)")
    r.fact("writer", p.writer)
    r.fact("reader", p.reader)
    r.fact("writer_stdout", p.writerStdout)
    r.fact("reader_stdin", p.readerStdin)
    r.fact("same_pipe", p.samePipe)
    r.fact("lines_written", p.linesWritten)
    r.fact("lines_counted", p.linesCounted)
    r.fact("bytes_counted", p.bytesCounted)
    r.fact("left_open", p.leftOpen)
    r.fact("stalled", p.stalled)
    r.fact("watchdog_ns", Int(p.watchdog.nanoseconds))
    if let s = p.readerState { r.fact("reader_state", s) }
    if let w = p.readerWaitChannel { r.fact("reader_wchan", w) }
    r.fact(
      "write_end_holders",
      JSON.array(p.writeEndHolders.map { ["pid": .int(Int($0.pid)), "fd": .int(Int($0.fd))] }))
    if let after = p.endOfFileAfterClose { r.fact("eof_after_close_ns", Int(after.nanoseconds)) }
    r.fact("writer_status", p.writerStatus.json)
    r.fact("reader_status", p.readerStatus.json)
    let shellHeld = p.writeEndHolders.contains { $0.pid == ThisProcess.untracedID }
    if p.stalled {
      r.explain(
        "b never saw end of file while a write end was still open somewhere"
          + (shellHeld ? " — here in the shell itself, which forgot to close its copy" : "")
          + ": read() returns 0 only when no process holds a write end, and a exiting is not enough. "
          + "Closing the forgotten end released b at once.",
        more:
          "This is the classic pipeline bug: after fork every process holds copies of both ends, and each must "
          + "close the ones it does not use — the parent too. A reader stuck like this sleeps forever (state S in "
          + "pipe_read); the watchdog here waited \(Units.duration(p.watchdog)) and looked in /proc/PID/fd and "
          + "/proc/PID/fdinfo for who still held a write end.")
    } else {
      r.explain(
        "a's standard output and b's standard input are the same pipe (\(p.readerStdin)): dup2 put the pipe's ends "
          + "on descriptors 1 and 0, so a writes and b reads as if to and from a terminal or a file. When a exited, "
          + "its end closed; no other copy of the write end was left, so b's read() returned 0 and b finished.",
        more:
          "A shell does exactly this for `a | b`: pipe(), fork twice, dup2 in each child, close every unused end "
          + "(in the children and in the shell), then execve each program — descriptors 0 and 1 survive exec. "
          + "Here the children are small C bodies instead of programs, so the test can count what arrived. "
          + "Try `pipe --pipeline --leave-open` to see what one forgotten close does.")
    }
    return r
  }

  static func interleave() throws -> Report {
    let pipeBuf = Int(CLAB_PIPE_BUF)
    let small = try IPCPipes.interleave(record: pipeBuf, records: 256)
    try Interrupt.check()
    let large = try IPCPipes.interleave(record: 64 * pipeBuf, records: 8)
    let capacity = try IPCPipes.defaultCapacity()
    let r = Report()
    r.line(
      "pipe --interleave: two writers into one pipe (capacity \(r.machine(Units.bytes(capacity)))), the shell reads it all; PIPE_BUF = \(pipeBuf) B"
    )
    for (run, label) in [(small, "PIPE_BUF"), (large, "64 × PIPE_BUF")] {
      r.line(
        "  records of \(r.fixed(Units.bytes(run.record))) (\(label)), one write() each: A (pid \(r.pid(run.writers[0]))) and "
          + "B (pid \(r.pid(run.writers[1]))) × \(run.records), \(r.fixed(Units.bytes(run.bytesRead))) read: "
          // A write of up to PIPE_BUF bytes is atomic (POSIX, and Linux keeps it): never cut, on any
          // run. Whether a larger one is cut, and how often, is up to the scheduler: one varying text.
          + (run.record <= pipeBuf ? cutText(run, r: r) : r.note(cutText(run, r: Report()), .text)))
    }
    func facts(_ run: InterleaveResult) -> JSON {
      [
        "record": .int(run.record), "records": .int(run.records), "cuts": .int(run.cuts),
        "cut_records": .int(run.cutRecords),
        "bytes_read": .int(run.bytesRead), "reads": .int(run.reads),
        "bytes_per_writer": .array(run.bytesPerLetter.map { .int($0) }),
        "writers": .array(run.writers.map { .int(Int($0)) }),
      ]
    }
    r.fact("pipe_buf", pipeBuf)
    r.fact("capacity", capacity)
    r.fact("small", facts(small))
    r.fact("large", facts(large))
    let short =
      "No record of \(Units.bytes(pipeBuf)) was cut: POSIX makes a pipe write of at most PIPE_BUF bytes atomic, "
      + "its bytes arrive together, never mixed with another writer's. "
      + (large.cuts > 0
        ? "Records of \(Units.bytes(large.record)) were cut \(large.cuts) time\(large.cuts == 1 ? "" : "s"), in \(large.cutRecords) of \(2 * large.records) records: a larger write is split when the pipe is full — the writer sleeps with part of its record in, and the other writer's bytes go in meanwhile."
        : "This time no large record was cut either; larger writes are allowed to mix, not bound to — run it again.")
    r.explain(
      small.cuts == 0
        ? short
        : "\(small.cutRecords) small record\(small.cutRecords == 1 ? " was" : "s were") cut — that breaks POSIX's promise; please report it.",
      more:
        "This is why many processes can log lines into one pipe or FIFO safely, as long as each line is written "
        + "with one write() of at most PIPE_BUF bytes (4096 on Linux). Records bigger than the pipe's capacity "
        + "(\(Units.bytes(capacity)) here) can never go in at once, so they are split for sure; the other writer "
        + "gets in whenever it is awake at that moment.")
    return r
  }

  /// `no record cut by the other writer`, or `44 cuts by the other writer, in 9 of 16 records`:
  /// a record bigger than the pipe can be cut more than once.
  static func cutText(_ run: InterleaveResult, r: Report) -> String {
    if run.cuts == 0 { return "no record cut by the other writer" }
    return
      "\(r.count(run.cuts)) cut\(run.cuts == 1 ? "" : "s") by the other writer, in \(r.count(run.cutRecords)) of \(2 * run.records) records"
  }
}
