import Glibc

/// `fifo`: a named pipe that two processes open by its name.
enum FifoCommand {
  struct Options: CommandOptions {
    var bytes = ByteSize(1 << 20)
    static var declarations: [OptionDeclaration<Self>] {
      [
        .value(
          "--bytes", \.bytes, "N", in: ByteSize(1)...ByteSize(256 << 20), "bytes to send in the bulk phase")
      ]
    }
  }

  static let command = Command(
    name: "fifo", area: .ipc,
    summary:
      "a named pipe (mkfifo) in a private directory: two processes meet by its name, inheriting no descriptor of it",
    examples: ["fifo", "fifo --bytes 8M"],
    options: Options.self
  ) { options, _ in
    let t = try IPCTransfer.run(.fifo, bytes: options.bytes.bytes, rounds: 200, message: 64)
    let dir = t.directory ?? "?"
    let left = t.leftInDirectory
    let r = Report()
    r.line(
      "fifo: mkfifo \(r.note(dir, .text))/request and …/answer (mode 0600, in a directory made by mkdtemp)")
    r.line(
      "  the shell \(r.pid(ThisProcess.untracedID)) opened them by name after fork: writes request fd \(r.count(Int(t.parentSendFD))), "
        + "reads answer fd \(r.count(Int(t.parentReceiveFD))); child \(r.pid(t.child)) opened them by name too"
    )
    IPCReporting.describe(t, in: r)
    r.line(
      "  child \(r.pid(t.child)) \(t.status); FIFOs unlinked, "
        + (left.isEmpty ? "directory empty and removed" : "LEFT: \(left.joined(separator: ", "))"))
    r.fact("mechanism", "fifo")
    r.fact("directory", dir)
    r.fact("left_in_directory", left)
    r.explain(
      "A FIFO is a pipe with a name in the file system: the processes found it by path, not by inheriting a "
        + "descriptor, and the bytes (\(Units.bytes(t.bytesSent)) at \(Units.fixed(IPCReporting.mibPerSecond(t.throughput), digits: 0)) MiB/s) "
        + "went through the same kind of kernel buffer as a pipe's — the file on disk stays empty.",
      more:
        "Opening a FIFO blocks until the other side opens it too (or fails with ENXIO for a non-blocking writer "
        + "with no reader), which is how the two processes meet. The private mkdtemp directory keeps other users "
        + "from opening or replacing the FIFO; it and the FIFOs are removed when the command ends, also on Ctrl-C."
    )
    return r
  }
}
