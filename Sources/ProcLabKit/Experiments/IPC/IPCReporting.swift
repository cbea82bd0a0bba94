import Foundation

/// Small helpers the IPC commands share: byte sizes from the user, and transfer lines.
enum IPCReporting {
  /// `--bytes 65536`, `--bytes 64K`, `--bytes 8M`, `--bytes 1G` (K/M/G are 1024-based).
  static func bytes(
    _ args: Arguments, default value: Int, in range: ClosedRange<Int>, command: String
  ) throws -> Int {
    guard let text = args.string("--bytes") else { return value }
    var digits = text.uppercased()
    var factor = 1
    if let last = digits.last, let f = ["K": 1024, "M": 1 << 20, "G": 1 << 30][String(last)] {
      factor = f
      digits.removeLast()
      if digits.hasSuffix("I") { digits.removeLast() }
    } else if digits.hasSuffix("B") {
      digits.removeLast()
    }
    guard let n = Int(digits), n >= 0 else {
      throw UsageError(
        "\(command): --bytes must be a size like 65536, 64K or 8M, got '\(Printable.word(text))'")
    }
    let (total, overflow) = n.multipliedReportingOverflow(by: factor)
    guard !overflow, range.contains(total) else {
      throw UsageError(
        "\(command): --bytes must be \(Units.bytes(range.lowerBound))…\(Units.bytes(range.upperBound)), got \(Printable.word(text))"
      )
    }
    return total
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
    r.line(
      "  bulk: \(Units.bytes(t.bytesSent)) to the child in sends of up to \(Units.bytes(t.chunk)); the child got "
        + "\(r.count(t.bytesReceived)) B in \(r.count(t.childReads)) reads, in \(r.duration(t.bulk)) → "
        + "\(r.number(mibPerSecond(t.throughput), digits: 0)) MiB/s")
    r.line(
      "  checksum: sent \(r.note(String(format: "%016llx", t.sentChecksum), .word)), child counted "
        + "\(r.note(String(format: "%016llx", t.receivedChecksum), .word))"
        + (t.checksumsMatch ? " — every byte arrived, in order" : " — MISMATCH"))
    r.fact("bytes_sent", t.bytesSent)
    r.fact("bytes_received", t.bytesReceived)
    r.fact("child_reads", t.childReads)
    r.fact("checksum_sent", String(format: "%016llx", t.sentChecksum))
    r.fact("checksum_received", String(format: "%016llx", t.receivedChecksum))
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
