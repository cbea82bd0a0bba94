import Glibc

/// `pipe`: bytes through two pipes between the shell and a child; `--fill` a pipe
/// nobody reads; `--pipeline` two children as `a | b`; `--interleave` two writers
/// into one pipe (PIPE_BUF).
enum PipeCommand {
  enum Experiment: Equatable, Sendable { case transfer, fill, pipeline, interleave }

  struct Options: CommandOptions {
    var bytes = ByteSize(1 << 20)
    var rounds = 1000
    var experiment = Experiment.transfer
    var leaveOpen = false

    static var declarations: [OptionDeclaration<Self>] {
      [
        .value(
          "--bytes", \.bytes, "N", in: ByteSize(1)...ByteSize(256 << 20), "bytes to send in the bulk phase"),
        .value("--rounds", \.rounds, "N", in: 1...100_000, "round trips of 64 bytes to time"),
        .choice(
          "experiment", \.experiment,
          [
            (
              "--fill", .fill,
              "write into a pipe nobody reads until it is full: its capacity and a blocked writer"
            ),
            ("--pipeline", .pipeline, "two children connected as `a | b` with dup2, the way a shell does it"),
            (
              "--interleave", .interleave,
              "two writers into one pipe: writes up to PIPE_BUF never mix, larger ones can"
            ),
          ], unchosen: "transfer"),
        .flag(
          "--leave-open", \.leaveOpen,
          "with --pipeline: the shell forgets to close its write end; the reader never sees end of file"),
      ]
    }

    func validate(command: String) throws {
      let defaults = Options()
      if experiment != .transfer && (bytes != defaults.bytes || rounds != defaults.rounds) {
        throw UsageError(
          "pipe: --bytes and --rounds belong to the transfer; --fill, --pipeline and --interleave take neither"
        )
      }
      if leaveOpen && experiment != .pipeline {
        throw UsageError("pipe: --leave-open goes with --pipeline (pipe --pipeline --leave-open)")
      }
    }
  }

  static let command = Command(
    name: "pipe", area: .ipc,
    summary: "bytes to a child through a pipe and back through another; --fill, --pipeline, --interleave",
    examples: [
      "pipe", "pipe --bytes 16M", "pipe --fill", "pipe --pipeline", "pipe --pipeline --leave-open",
      "pipe --interleave",
    ],
    options: Options.self
  ) { options, _ in
    switch options.experiment {
    case .transfer: try transfer(bytes: options.bytes.bytes, rounds: options.rounds)
    case .fill: try fill()
    case .pipeline: try PipePipelineReport.pipeline(leaveOpen: options.leaveOpen)
    case .interleave: try PipePipelineReport.interleave()
    }
  }

  static func transfer(bytes: Int, rounds: Int) throws -> Report {
    let t = try IPCTransfer.run(.pipe, bytes: bytes, rounds: rounds, message: 64)
    let r = Report()
    r.line(
      "pipe: shell \(r.pid(ThisProcess.untracedID)) ⇄ child \(r.pid(t.child)) through two pipes (one per direction)"
    )
    r.line(
      "  request pipe: the shell writes fd \(r.count(Int(t.parentSendFD))), the child reads fd \(r.count(Int(t.childReceiveFD)))"
    )
    r.line(
      "  answer pipe:  the child writes fd \(r.count(Int(t.childSendFD))), the shell reads fd \(r.count(Int(t.parentReceiveFD)))"
    )
    IPCReporting.describe(t, in: r)
    r.line("  child \(r.pid(t.child)) \(t.status); every descriptor closed")
    r.fact("mechanism", "pipe")
    r.fact("parent_fds", [Int(t.parentSendFD), Int(t.parentReceiveFD)])
    r.fact("child_fds", [Int(t.childReceiveFD), Int(t.childSendFD)])
    // One bulk transfer of 1 MiB lasts under a millisecond, so one preemption can cut its rate
    // several times over: the rate explained is the median of this one and a few more. Each of
    // those does 50 round trips first, so that its freshly forked child is already running.
    var rates = [t.throughput]
    for _ in 1..<bulkRepeats(bytes) {
      try Interrupt.check()
      rates.append(try IPCTransfer.run(.pipe, bytes: bytes, rounds: 50, message: 64).throughput)
    }
    r.fact("bulk_rates_mib_s", rates.map { IPCReporting.mibPerSecond($0) })
    r.explain(
      bulkSentence(bytes: t.bytesSent, rates: rates, roundTrip: t.roundTripAverage, message: t.message),
      more:
        "A pipe is one-way: fork() gave the child a copy of both ends of each pipe, and each side closed the end it "
        + "does not use, so the reader sees end of file when the writer closes. The descriptor numbers are the same "
        + "in both processes because fork() copies the descriptor table. The child read the bulk in "
        + "\(t.childReads) reads of up to 64 KiB: a pipe is a byte stream, so reads need not match writes.")
    return r
  }

  /// Bulk transfers timed for the median: more when each is short.
  static func bulkRepeats(_ bytes: Int) -> Int { bytes <= 16 << 20 ? 5 : 3 }

  /// The bulk rate as the median of several transfers, what a byte's time includes, and the round
  /// trip called "mostly waking" only when copying its bytes at the bulk rate is a small part of it.
  static func bulkSentence(bytes: Int, rates: [Double], roundTrip: Duration, message: Int) -> String {
    let sorted = rates.sorted()
    let median = sorted[sorted.count / 2]
    let perByte = median > 0 ? 1e9 / median : 0
    func mib(_ x: Double) -> String { Units.fixed(IPCReporting.mibPerSecond(x), digits: 0) }
    var text =
      "The bytes went through a buffer in the kernel: write() copied them in, read() copied them out. "
      + (sorted.count > 1
        ? "Over \(sorted.count) transfers of \(Units.bytes(bytes)) (this one and \(sorted.count - 1) more) the median rate was \(mib(median)) MiB/s (\(mib(sorted.first!))–\(mib(sorted.last!)))"
        : "The transfer ran at \(mib(median)) MiB/s")
      + ", about \(Units.fixed(perByte, digits: 2)) ns a byte for the copy in, the copy out, the child's checksum "
      + "and the wake-ups together."
    let copying = Double(2 * message) * perByte
    if perByte > 0, copying * 4 < Double(roundTrip.nanoseconds) {
      text +=
        " A round trip (\(Units.duration(roundTrip))) is mostly waking the sleeping reader twice: copying "
        + "\(message) bytes each way at the bulk rate would take about \(Units.duration(.nanoseconds(Int64(copying))))."
    } else if perByte > 0 {
      text +=
        " A round trip took \(Units.duration(roundTrip)); copying \(message) bytes each way at the bulk rate would take about \(Units.duration(.nanoseconds(Int64(copying)))), so this run does not show what dominates it."
    }
    return text
  }

  static func fill() throws -> Report {
    let f = try IPCPipes.fill(readerDelay: .milliseconds(50))
    let r = Report()
    r.line(
      "pipe --fill: read end fd \(r.count(Int(f.readFD))), write end fd \(r.count(Int(f.writeFD))); "
        + "fcntl(F_GETPIPE_SZ) = \(r.count(f.capacity)) B")
    r.line(
      "  nobody reading: non-blocking writes put \(r.count(f.filled)) B in the pipe in \(r.count(f.writeCalls)) calls, "
        + "then write() failed with \(f.refusal): the pipe is full")
    r.line(
      "  a blocking write of \(r.fixed(Units.bytes(f.blockedBytes))) stalled \(r.duration(f.blocked)) — until the reader "
        + "(child \(r.pid(f.child)), started after \(r.fixed(Units.duration(f.readerDelay)))) made room")
    r.line(
      "  write end closed: the reader got \(r.count(f.readerTotal)) B in \(r.count(f.readerReads)) reads, then "
        + (f.readerSawEOF ? "read() returned 0 — end of file" : "no end of file (unexpected)"))
    r.line("  child \(r.pid(f.child)) \(f.status)")
    r.fact("mechanism", "pipe")
    r.fact("capacity", f.capacity)
    r.fact("filled", f.filled)
    r.fact("refusal", f.refusal)
    r.fact("blocked_ns", Int(f.blocked.nanoseconds))
    r.fact("reader_delay_ns", Int(f.readerDelay.nanoseconds))
    r.fact("reader_total", f.readerTotal)
    r.fact("reader_reads", f.readerReads)
    r.fact("reader_eof", f.readerSawEOF)
    r.fact("child", f.child)
    r.fact("child_status", f.status.json)
    let same = f.filled == f.capacity
    r.explain(
      (same
        ? "The pipe held exactly its capacity, \(Units.bytes(f.capacity)), in the kernel; "
        : "The pipe took \(Units.bytes(f.filled)) while F_GETPIPE_SZ says \(Units.bytes(f.capacity)) (the kernel counts whole pages); ")
        + "with no room a non-blocking write fails with \(f.refusal) and a blocking one sleeps — here "
        + "\(Units.duration(f.blocked)), the time the reader took to start. That is how a pipe slows a fast writer "
        + "down to its reader's pace. Once every write end was closed the reader drained "
        + "\(Units.bytes(f.readerTotal)) and read() returned 0.",
      more:
        "The capacity is per pipe and can be changed with fcntl(F_SETPIPE_SZ) up to /proc/sys/fs/pipe-max-size. "
        + "End of file needs every write end closed — a forgotten copy in another process keeps the reader waiting "
        + "forever (see `pipe --pipeline --leave-open`).")
    return r
  }
}
