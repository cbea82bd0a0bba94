import CLab

/// Pieces shared by the race, parallel and io commands: time slices a thread
/// recorded, drawn on a per-thread timeline, and numbers a person can read.
struct Slice: Sendable {
  var start: UInt64
  var end: UInt64
  var cpu: Int
}

extension Slice {
  init(_ c: clab_slice) { self.init(start: c.start_ns, end: c.end_ns, cpu: Int(c.cpu)) }

  /// The digit drawn for a CPU (0–9), or `█` beyond.
  var mark: Character { cpu >= 0 && cpu < 10 ? Character(String(cpu)) : "█" }
}

/// One worker's run: who it was, when it ran, where.
struct WorkerTrack: Sendable {
  var label: String
  var tid: Int32
  var slices: [Slice]
  var start: UInt64 { slices.map(\.start).min() ?? 0 }
  var end: UInt64 { slices.map(\.end).max() ?? 0 }
  var cpus: [Int] { Array(Set(slices.map(\.cpu))).sorted() }
  /// Time spent inside its slices (running, or holding the lock).
  var busy: UInt64 { slices.reduce(0) { $0 + ($1.end &- $1.start) } }
}

enum ThreadWork {
  /// A timeline with one row per worker; each slice is drawn with the digit of its CPU.
  static let maxRows = 12

  /// Columns of a worker timeline: each column is the run's wall time ÷ this.
  static let timelineColumns = 48

  static func timeline(
    _ tracks: [WorkerTrack], r: Report, idleLegend: String = "not running", processes: Bool = false
  ) -> [String] {
    var t = Timeline(width: timelineColumns)
    for track in tracks.prefix(maxRows) {
      t.add(
        "\(track.label) \(processes ? r.pid(track.tid) : r.tid(track.tid))",
        track.slices.map { Timeline.Interval(start: $0.start, end: max($0.end, $0.start + 1), mark: $0.mark) }
      )
    }
    t.legend = [("0", "…9 = the CPU it ran on"), ("·", idleLegend)]
    return t.lines + moreRows(tracks.count)
  }

  /// `  … and 52 more` under a timeline that shows only the first rows.
  static func moreRows(_ total: Int) -> [String] {
    total > maxRows ? ["  … and \(total - maxRows) more (all in --json)"] : []
  }

  /// How long intervals overlap: the time during which at least two of them ran.
  static func overlap(_ tracks: [WorkerTrack]) -> UInt64 {
    IntervalSweep(tracks.filter { $0.end > $0.start }.map { ($0.start, $0.end) }).overlapTime
  }

  /// `1,234,567`
  static func grouped(_ n: Int) -> String {
    let digits = String(abs(n))
    var out = ""
    for (i, ch) in digits.enumerated() {
      if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
      out.append(ch)
    }
    return (n < 0 ? "-" : "") + out
  }

  /// /proc/loadavg's one-minute load: how busy the machine was.
  static func loadAverage() -> Double? {
    ProcFS.read("/proc/loadavg").flatMap { Double($0.split(separator: " ").first ?? "") }
  }
}
