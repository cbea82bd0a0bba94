import Glibc

/// `pipe`: bytes through two pipes between the shell and a child; `--fill` a pipe nobody reads.
enum PipeCommand {
  static let command = Command(
    name: "pipe", area: .ipc,
    summary:
      "send bytes to a child through a pipe and get the answer through another; --fill one until it blocks",
    usage: "pipe [--bytes N] [--rounds N] [--fill]",
    options: [
      .init("--bytes", value: "N", "bytes to send in the bulk phase (1…256M, e.g. 64K, 8M; default 1M)"),
      .init("--rounds", value: "N", "round trips of 64 bytes to time (1…100000, default 1000)"),
      .init(
        "--fill", "write into a pipe nobody reads until it is full; show its capacity and the blocked writer"),
    ],
    examples: ["pipe", "pipe --bytes 16M", "pipe --fill"]
  ) { args, _ in
    try args.expectPositionals(atMost: 0)
    if args.flag("--fill") {
      if args.string("--bytes") != nil || args.string("--rounds") != nil {
        throw UsageError("pipe: --fill measures the pipe's own capacity; it takes no --bytes or --rounds")
      }
      return try fill()
    }
    let bytes = try IPCReporting.bytes(args, default: 1 << 20, in: 1...(256 << 20), command: "pipe")
    let rounds = try args.int("--rounds", default: 1000, in: 1...100_000)
    let t = try IPCTransfer.run(.pipe, bytes: bytes, rounds: rounds, message: 64)
    let r = Report()
    r.line("pipe: shell \(r.pid(getpid())) ⇄ child \(r.pid(t.child)) through two pipes (one per direction)")
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
    let perCopy = t.throughput > 0 ? 1e9 / t.throughput : 0
    r.explain(
      "The bytes went through a buffer in the kernel: write() copied them in, read() copied them out — "
        + "\(Units.bytes(t.bytesSent)) at \(Units.fixed(IPCReporting.mibPerSecond(t.throughput), digits: 0)) MiB/s, "
        + "about \(Units.fixed(perCopy, digits: 2)) ns a byte. A round trip (\(Units.duration(t.roundTripAverage))) "
        + "is mostly waking the sleeping reader twice, not copying 64 bytes.",
      more:
        "A pipe is one-way: fork() gave the child a copy of both ends of each pipe, and each side closed the end it "
        + "does not use, so the reader sees end of file when the writer closes. The descriptor numbers are the same "
        + "in both processes because fork() copies the descriptor table. The child read the bulk in "
        + "\(t.childReads) reads of up to 64 KiB: a pipe is a byte stream, so reads need not match writes.")
    return r
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
      "  a blocking write of \(Units.bytes(f.blockedBytes)) stalled \(r.duration(f.blocked)) — until the reader "
        + "(child \(r.pid(f.child)), started after \(r.duration(f.readerDelay))) made room")
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
        + "End of file needs every write end closed — a forgotten copy in another process keeps the reader waiting forever."
    )
    return r
  }
}
