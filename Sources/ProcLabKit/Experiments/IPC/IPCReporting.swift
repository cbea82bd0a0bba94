/// Small helpers the IPC commands share: transfer lines and their facts.
enum IPCReporting {
  /// `00000000deadbeef`: sixteen hex digits.
  static func hex(_ v: UInt64) -> String {
    let digits = String(v, radix: 16)
    return String(repeating: "0", count: max(0, 16 - digits.count)) + digits
  }

  static func mibPerSecond(_ bytesPerSecond: Double) -> Double { bytesPerSecond / 1_048_576 }

  /// The round-trip and bulk lines of a transfer, and its facts.
  static func describe(_ t: IPCTransferResult, in r: Report) {
    if t.rounds > 0 {
      r.line(
        "  round trip: \(t.rounds) × \(t.message) B there and back, average \(r.duration(t.roundTripAverage)) "
          + "(min \(r.duration(t.roundTripMin)), max \(r.duration(t.roundTripMax)))"
          + (t.echoMismatches > 0
            ? ", \(t.echoMismatches) answers differed!" : ", every answer equal to its message"))
    }
    // The bytes, the send size and the data (a fixed pseudo-random pattern) are the command's:
    // what was sent, what arrived and both checksums are the same every run; how the kernel
    // split the stream into reads is not.
    r.line(
      "  bulk: \(r.fixed(Units.bytes(t.bytesSent))) to the child in sends of up to \(r.fixed(Units.bytes(t.chunk))); the child got "
        + "\(t.bytesReceived) B in \(r.count(t.childReads, "read", "reads")), in \(r.duration(t.bulk)) → "
        + "\(r.number(mibPerSecond(t.throughput), digits: 0)) MiB/s")
    r.line(
      "  checksum: sent \(r.fixed(hex(t.sentChecksum))), child counted "
        + "\(r.fixed(hex(t.receivedChecksum)))"
        + (t.checksumsMatch ? " — every byte arrived, in order" : " — MISMATCH"))
    r.fact("bytes_sent", t.bytesSent)
    r.fact("bytes_received", t.bytesReceived)
    r.fact("child_reads", t.childReads)
    r.fact("checksum_sent", hex(t.sentChecksum))
    r.fact("checksum_received", hex(t.receivedChecksum))
    r.fact("checksums_match", t.checksumsMatch)
    r.fact("rounds", t.rounds)
    r.fact("message_bytes", t.message)
    r.fact("echo_mismatches", t.echoMismatches)
    r.fact("round_trip_ns", Int(t.roundTripAverage.nanoseconds))
    r.fact("round_trip_min_ns", Int(t.roundTripMin.nanoseconds))
    r.fact("bulk_ns", Int(t.bulk.nanoseconds))
    r.fact("throughput_mib_s", mibPerSecond(t.throughput))
    r.fact("child", t.child)
    r.fact("child_status", t.status.json)
    r.fact("names_left", t.namesLeft)
  }
}
