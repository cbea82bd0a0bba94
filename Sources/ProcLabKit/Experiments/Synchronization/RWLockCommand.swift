/// `rwlock`: readers share, a writer is alone.
enum RWLockCommand {
  static let command = Command(
    name: "rwlock", area: .synchronization,
    summary: "a pthread rwlock: readers overlap, a writer is alone",
    usage: "rwlock [--readers R] [--writers W] [--hold MS] [--rounds N]",
    options: [
      .init("--readers", value: "R", "reader threads (1…12, default 4)"),
      .init("--writers", value: "W", "writer threads (1…4, default 1)"),
      .init("--hold", value: "MS", "milliseconds each turn holds the lock (1…200, default 20)"),
      .init("--rounds", value: "N", "turns per thread (1…16, default 2)"),
    ],
    examples: ["rwlock", "rwlock --readers 6 --writers 2"]
  ) { args, _ in
    try args.expectPositionals(atMost: 0)
    let readers = try args.int("--readers", default: 4, in: 1...12)
    let writers = try args.int("--writers", default: 1, in: 1...4)
    let holdMS = try args.int("--hold", default: 20, in: 1...200)
    let rounds = try args.int("--rounds", default: 2, in: 1...16)
    let hold = Duration.milliseconds(holdMS)
    let result = try SyncPrimitives.takeTurns(
      kind: .rwlock, workers: readers + writers, rounds: rounds, hold: hold, writers: writers,
      timeout: .seconds(30))
    let view = SyncTurnsView(result: result, noun: "thread")
    let r = Report()
    r.line(
      "\(Units.plural(readers, "reader")) and \(Units.plural(writers, "writer")), \(r.count(rounds)) turns each in one pthread rwlock (rdlock / wrlock), \(r.duration(hold)) per turn"
    )
    r.lines(
      view.timeline(report: r, held: "▓", mark: { $0.writer ? "█" : "▓" }).map { line in
        line.replacingOccurrences(of: "▓ inside", with: "▓ reading  █ writing")
      })
    r.lines(view.table(report: r, role: { $0.writer ? "writer" : "reader" }))
    let readTurns = result.workers.filter { !$0.writer }.flatMap(\.turns).map { ($0.acquired, $0.released) }
    let writeTurns = result.workers.filter(\.writer).flatMap(\.turns).map { ($0.acquired, $0.released) }
    let maxReaders = SyncTurnsView.maxConcurrent(readTurns)
    // A write turn overlapping anything: another write, or any read.
    var writerOverlaps = 0
    for w in writeTurns {
      for other in readTurns + writeTurns where other != w {
        if w.0 < other.1 && other.0 < w.1 { writerOverlaps += 1 }
      }
    }
    r.line(
      "most readers inside at once: \(r.count(maxReaders)) (timeline), \(r.count(result.maxReaders)) (atomic counter); turns that overlapped a writer: \(r.count(writerOverlaps + result.writerOverlaps))"
    )
    r.fact("readers", readers)
    r.fact("writers", writers)
    r.fact("hold_ms", holdMS)
    r.fact("rounds", rounds)
    r.fact("max_readers", maxReaders)
    r.fact("max_readers_counted", result.maxReaders)
    r.fact("writer_overlaps", writerOverlaps)
    r.fact("writer_overlaps_counted", result.writerOverlaps)
    r.fact("elapsed_ns", result.end &- result.start)
    view.facts(into: r)
    let writerWait = result.workers.filter(\.writer).flatMap(\.turns).map(\.waited).max() ?? 0
    var short =
      maxReaders > 1
      ? "Up to \(r.count(maxReaders)) readers held the lock at the same time: reading does not change the data, so readers can share."
      : "Readers never overlapped this time (\(r.count(maxReaders)) at most): they did not arrive together."
    short +=
      writerOverlaps + result.writerOverlaps == 0
      ? " Every write turn was alone: wrlock waits until all readers have left and keeps new ones out."
      : " Surprise: a write turn overlapped another turn \(r.count(writerOverlaps + result.writerOverlaps)) times."
    short += " The longest a writer waited: \(r.duration(.ns(writerWait)))."
    r.explain(
      short,
      more:
        "A reader-writer lock pays off when reads are many and long and writes are rare: readers run in parallel where a mutex would queue them. It costs more than a mutex per operation (it tracks the number of readers), and a steady stream of readers can keep a writer waiting (glibc prefers readers by default), which is why the writers' wait matters."
    )
    return r
  }
}
