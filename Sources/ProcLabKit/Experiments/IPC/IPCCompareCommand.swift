import Glibc

/// `ipc compare`: latency and throughput of four mechanisms, measured in one run.
enum IPCCompareCommand {
  static let mechanisms: [(IPCMechanism, String)] = [
    (.pipe, "pipe"), (.stream, "socketpair"), (.sharedMemory, "shm + semaphore"),
    (.messageQueue, "message queue"),
  ]

  enum Subcommand: String, OptionChoice { case compare }

  struct Options: CommandOptions {
    var subcommand: Subcommand?
    var bytes = ByteSize(16 << 20)
    var rounds = 2000
    static var declarations: [OptionDeclaration<Self>] {
      [
        .positional("subcommand", \.subcommand, "SUBCOMMAND", required: true, "what to do: compare"),
        .value(
          "--bytes", \.bytes, "N", in: ByteSize(4096)...ByteSize(1 << 30),
          "bytes each mechanism carries for throughput"),
        .value("--rounds", \.rounds, "N", in: 10...100_000, "round trips of 64 bytes for latency"),
      ]
    }
  }

  static let command = Command(
    name: "ipc", area: .ipc,
    summary:
      "ipc compare: latency and throughput of pipe, socketpair, shared memory and message queue, side by side",
    examples: ["ipc compare", "ipc compare --bytes 64M", "ipc compare --rounds 20000"],
    options: Options.self
  ) { options, session in
    let bytes = options.bytes.bytes
    let rounds = options.rounds
    var results: [(String, IPCTransferResult)] = []
    var refused: [String] = []
    defer { session.progressDone() }
    for (i, (mechanism, label)) in mechanisms.enumerated() {
      try Interrupt.check()
      session.progress("ipc compare: \(label)", fraction: Double(i) / Double(mechanisms.count))
      do {
        results.append((label, try IPCTransfer.run(mechanism, bytes: bytes, rounds: rounds, message: 64)))
      } catch let e as SystemError where mechanism == .messageQueue && e.call == "mq_open" {
        refused.append("\(label): the kernel refused (mq_open: \(e.name))")
      }
    }
    session.progress("ipc compare", fraction: 1)
    let r = Report()
    r.line(
      "ipc compare: shell \(r.pid(ThisProcess.untracedID)) ⇄ a new forked child per mechanism, \(rounds) round trips of 64 B and \(r.fixed(Units.bytes(bytes))) one way each"
    )
    r.line("round-trip latency (lower is better):")
    var latency = BarChart()
    for (label, t) in results {
      latency.add(
        label, t.roundTripAverage.seconds,
        "\(r.duration(t.roundTripAverage)) (fastest \(r.duration(t.roundTripMin)))")
    }
    r.chart(latency)
    r.line("throughput (higher is better):")
    var throughput = BarChart()
    for (label, t) in results {
      let mib = IPCReporting.mibPerSecond(t.throughput)
      throughput.add(label, mib, "\(r.number(mib, digits: 0)) MiB/s")
    }
    r.chart(throughput)
    for (label, t) in results {
      r.line(
        "  \(label): \(t.bytesReceived) B arrived in \(r.count(t.childReads)) receives of up to \(r.fixed(Units.bytes(t.chunk))), "
          + (t.checksumsMatch ? "checksum equal" : "CHECKSUM DIFFERS")
          + "; child \(r.pid(t.child)) \(t.status)")
    }
    for line in refused { r.line("  \(line)") }
    var facts: [JSON] = []
    for (label, t) in results {
      facts.append([
        "mechanism": .string(label), "round_trip_ns": .int(Int(t.roundTripAverage.nanoseconds)),
        "round_trip_min_ns": .int(Int(t.roundTripMin.nanoseconds)),
        "throughput_mib_s": .double(IPCReporting.mibPerSecond(t.throughput)), "bytes_sent": .int(t.bytesSent),
        "bytes_received": .int(t.bytesReceived), "checksums_match": .bool(t.checksumsMatch),
        "echo_mismatches": .int(t.echoMismatches), "receives": .int(t.childReads), "chunk": .int(t.chunk),
        "names_left": .int(t.namesLeft), "child": .int(Int(t.child)),
      ])
    }
    r.fact("bytes", bytes)
    r.fact("rounds", rounds)
    r.fact("mechanisms", JSON.array(facts))
    r.fact("refused", refused)
    if let fastest = results.min(by: { $0.1.roundTripAverage < $1.1.roundTripAverage }),
      let slowest = results.max(by: { $0.1.roundTripAverage < $1.1.roundTripAverage }),
      let widest = results.max(by: { $0.1.throughput < $1.1.throughput }),
      let narrowest = results.min(by: { $0.1.throughput < $1.1.throughput })
    {
      let latencyRatio =
        fastest.1.roundTripAverage.seconds > 0
        ? slowest.1.roundTripAverage.seconds / fastest.1.roundTripAverage.seconds : 0
      let throughputRatio = narrowest.1.throughput > 0 ? widest.1.throughput / narrowest.1.throughput : 0
      r.explain(
        "Lowest latency: \(fastest.0) (\(Units.duration(fastest.1.roundTripAverage))), highest: \(slowest.0) "
          + "(\(Units.ratio(latencyRatio)) slower). Most throughput: \(widest.0), \(Units.ratio(throughputRatio)) "
          + "the least (\(narrowest.0)). A round trip is dominated by waking the other process, which every "
          + "mechanism pays; bulk cost is copies: pipes and sockets copy twice through a kernel buffer, shared "
          + "memory copies into pages both see but waits on a semaphore per \(Units.bytes(IPCTransferResultChunk.shm)), "
          + "a message queue moves small messages (\(Units.bytes(IPCTransferResultChunk.mq)) here) one system call each.",
        more:
          "These numbers are from this machine, now: a busy machine preempts either process at any time, so "
          + "run it again and compare; the fastest round trip shows the cost without interference. Shared memory can beat everything when the two "
          + "processes need no handshake per block (a ring buffer); here it pays a semaphore wait and post per "
          + "64 KiB, the same discipline a pipe gets for free from the kernel.")
    }
    return r
  }
}

/// Bytes per send in the bulk phase, as CLab uses them.
enum IPCTransferResultChunk {
  static let shm = 64 * 1024
  static let mq = 8192
}
