import Glibc

/// `socket`: a Unix-domain socketpair between the shell and a child, both directions.
enum SocketCommand {
  static let sizes = [5, 11, 7]

  enum Kinds: Equatable, Sendable { case both, stream, datagram }

  struct Options: CommandOptions {
    var kinds = Kinds.both
    var bytes = ByteSize(1 << 20)
    static var declarations: [OptionDeclaration<Self>] {
      [
        .choice(
          "kind", \.kinds,
          [
            ("--stream", .stream, "SOCK_STREAM only: a byte stream, like a two-way pipe"),
            ("--datagram", .datagram, "SOCK_DGRAM only: each send arrives as one message"),
          ], unchosen: "both"),
        .value(
          "--bytes", \.bytes, "N", in: ByteSize(1)...ByteSize(256 << 20), "bytes to send in the bulk phase"),
      ]
    }
  }

  static let command = Command(
    name: "socket", area: .ipc,
    summary: "a Unix-domain socketpair with a child: datagrams keep message boundaries, a stream does not",
    examples: ["socket", "socket --datagram", "socket --stream --bytes 8M"],
    options: Options.self
  ) { options, _ in
    let bytes = options.bytes.bytes
    let kinds: [Bool] =
      options.kinds == .stream ? [false] : options.kinds == .datagram ? [true] : [false, true]
    let r = Report()
    var byKind: [String: JSON] = [:]
    for datagram in kinds {
      try Interrupt.check()
      let name = datagram ? "SOCK_DGRAM" : "SOCK_STREAM"
      let b = try IPCSockets.boundaries(datagram: datagram, sizes: sizes)
      let t = try IPCTransfer.run(datagram ? .datagram : .stream, bytes: bytes, rounds: 200, message: 64)
      r.line(
        "socketpair(AF_UNIX, \(name)): shell fd \(r.count(Int(b.parentFD))) ⇄ child \(r.pid(b.child)) fd \(r.count(Int(b.childFD)))"
      )
      r.line(
        "  the shell sent 3 messages of \(sizes.map(String.init).joined(separator: ", ")) B; the child, reading only after all "
          // A datagram socket keeps every message's boundary, on every run; a stream may split
          // or join what was sent as its buffer has it.
          + "were sent, got \(datagram ? String(b.readSizes.count) : r.count(b.readSizes.count)) read\(b.readSizes.count == 1 ? "" : "s") of "
          + b.readSizes.map { datagram ? String($0) : r.count($0) }.joined(separator: ", ") + " B"
          + (b.readSizes == sizes ? " — the boundaries were kept" : " — the boundaries are gone"))
      r.line("  the child's answer came back over the same socket: \(b.answerBytes) B")
      let sub = Report()
      IPCReporting.describe(t, in: sub)
      // The sub-report's notes name its own lines: moved to where its lines land here.
      let offset = r.lines.count
      r.lines(sub.lines)
      r.variables += sub.variables.map { v in
        var v = v
        v.line = v.line.map { $0 + offset }
        return v
      }
      var facts = sub.facts
      facts["sent_sizes"] = sizes.json
      facts["read_sizes"] = b.readSizes.json
      facts["boundaries_kept"] = .bool(b.readSizes == sizes)
      facts["answer_bytes"] = .int(b.answerBytes)
      facts["child_status"] = b.status.json
      byKind[datagram ? "datagram" : "stream"] = .object(facts)
    }
    r.fact("mechanism", "socketpair")
    for (k, v) in byKind { r.fact(k, v) }
    let stream = byKind["stream"]?["read_sizes"]?.arrayValue?.count
    let dgram = byKind["datagram"]?["read_sizes"]?.arrayValue?.count
    var parts: [String] = []
    if let stream {
      parts.append(
        "A stream socket is a byte stream: three sends were read in \(stream) read\(stream == 1 ? "" : "s"), "
          + "so a protocol over it must mark where a message ends (a length or a delimiter).")
    }
    if let dgram {
      parts.append(
        "A datagram socket queues each send as its own message: \(dgram) reads for 3 sends, each read returns "
          + "exactly one message (and cuts it if the buffer is smaller).")
    }
    r.explain(
      parts.joined(separator: " ")
        + " Both directions work on one socket; the bytes sit in the receiver's socket buffer in the kernel.",
      more:
        "socketpair() makes two connected sockets at once, like pipe() but two-way; after fork() each process "
        + "closes one. Unix-domain sockets never touch the network stack: the kernel copies straight into the "
        + "peer's receive queue. A stream read returns whatever is buffered up to the size asked for.")
    return r
  }
}
