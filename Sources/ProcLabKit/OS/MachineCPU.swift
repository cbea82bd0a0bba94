import Glibc

/// How busy the whole machine's CPUs have been, from the first line of /proc/stat.
public enum MachineCPU {
  public struct Sample: Sendable {
    /// CPU time spent working (user, nice, system, irq, softirq, steal), all CPUs together.
    public var busy: Duration
    /// CPU time spent idle or waiting for I/O.
    public var idle: Duration
  }

  /// Reads /proc/stat's `cpu` line (in clock ticks, sysconf(_SC_CLK_TCK) per second).
  public static func sample() -> Sample? {
    guard let text = ProcFS.read("/proc/stat"), let line = text.split(separator: "\n").first,
      line.hasPrefix("cpu ")
    else { return nil }
    let v = line.split(separator: " ").dropFirst().compactMap { Int64($0) }
    guard v.count >= 8 else { return nil }
    let hz = max(1, Int64(sysconf(Int32(_SC_CLK_TCK))))
    func d(_ ticks: Int64) -> Duration { .nanoseconds(ticks * 1_000_000_000 / hz) }
    return Sample(busy: d(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]), idle: d(v[3] + v[4]))
  }

  /// The cache line size of CPU 0's first cache, as the kernel reports it in
  /// /sys/devices/system/cpu/cpu0/cache/index0/coherency_line_size (nil where it does not).
  public static func cacheLineSize() -> Int? {
    guard let text = ProcFS.read("/sys/devices/system/cpu/cpu0/cache/index0/coherency_line_size"),
      let n = Int(text.trimmed(newlines: true)), n > 0
    else { return nil }
    return n
  }

  /// CPU 0's data and unified caches, smallest level first: level and size in bytes, from
  /// /sys/devices/system/cpu/cpu0/cache/indexN/{level,type,size} (empty where it is not there,
  /// as in some VMs).
  public static func dataCaches() -> [(level: Int, bytes: Int)] {
    var out: [(level: Int, bytes: Int)] = []
    for i in 0..<8 {
      let dir = "/sys/devices/system/cpu/cpu0/cache/index\(i)/"
      guard let level = ProcFS.read(dir + "level").flatMap({ Int($0.trimmed(newlines: true)) }),
        let type = ProcFS.read(dir + "type")?.trimmed(newlines: true), type != "Instruction",
        let size = ProcFS.read(dir + "size").flatMap({ ByteSize.parse($0.trimmed(newlines: true)) })
      else { continue }
      out.append((level, size.bytes))
    }
    return out.sorted { $0.level < $1.level }
  }
}
