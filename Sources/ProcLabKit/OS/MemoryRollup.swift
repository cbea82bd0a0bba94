/// How a process's resident memory divides (/proc/PID/smaps_rollup): pages it
/// shares with other processes (the same program file and libraries, or
/// copy-on-write pages after fork) and pages that are its alone.
public struct MemoryRollup: Sendable, Equatable {
  /// Rss: every resident page mapped, shared or not (what `ps` shows).
  public var resident: Int
  /// Pss: each shared page divided by the number of processes mapping it.
  public var proportional: Int
  /// Shared_Clean + Shared_Dirty: resident pages also mapped by another process.
  public var shared: Int
  /// Private_Clean + Private_Dirty: resident pages mapped by this process alone.
  public var privateBytes: Int
  public var sharedClean: Int

  /// Reads /proc/PID/smaps_rollup (Linux 4.14+; same owner or CAP_SYS_PTRACE); nil when unreadable.
  public static func read(_ pid: Int32) -> MemoryRollup? {
    guard let text = ProcFS.read("/proc/\(pid)/smaps_rollup") else { return nil }
    var kb: [String: Int] = [:]
    for line in text.split(separator: "\n") {
      let parts = line.split(separator: " ", omittingEmptySubsequences: true)
      guard parts.count >= 2, parts[0].hasSuffix(":"), let value = Int(parts[1]) else { continue }
      kb[String(parts[0].dropLast())] = value * 1024
    }
    guard let rss = kb["Rss"] else { return nil }
    return MemoryRollup(
      resident: rss, proportional: kb["Pss"] ?? 0,
      shared: (kb["Shared_Clean"] ?? 0) + (kb["Shared_Dirty"] ?? 0),
      privateBytes: (kb["Private_Clean"] ?? 0) + (kb["Private_Dirty"] ?? 0),
      sharedClean: kb["Shared_Clean"] ?? 0)
  }

  public var json: JSON {
    [
      "rss_bytes": .int(resident), "pss_bytes": .int(proportional), "shared_bytes": .int(shared),
      "shared_clean_bytes": .int(sharedClean), "private_bytes": .int(privateBytes),
    ]
  }
}

extension ProcFS {
  /// The peak resident set size of a process so far (VmHWM in /proc/PID/status).
  public static func peakResidentBytes(_ pid: Int32) -> Int? {
    guard let v = status(pid, field: "VmHWM"), let kb = Int(v.split(separator: " ").first ?? "") else {
      return nil
    }
    return kb * 1024
  }
}
