/// What `rwlock` prints and explains.
enum RWLockReport {
  static func render(
    _ result: SyncTurnsResult, options: RWLockCommand.Options, probes: [RWLockExperiment.Probe]
  )
    -> Report
  {
    let readers = options.readers
    let writers = options.writers
    let hold = Duration.milliseconds(options.hold)
    let view = SyncTurnsView(result: result, noun: "thread")
    let r = Report()
    r.line(
      "\(Units.plural(readers, "reader")) and \(Units.plural(writers, "writer")), \(Units.plural(options.rounds, "turn")) each in one pthread rwlock (rdlock / wrlock, prefer \(options.prefer.rawValue)), \(r.fixed(Units.duration(hold))) per turn"
    )
    var timeline = view.timeline(report: r, held: "▓", mark: { $0.writer ? "█" : "▓" })
    timeline.legend = [("▓", "reading"), ("█", "writing")] + timeline.legend.dropFirst()
    r.timeline(timeline)
    r.table(view.table(report: r, role: { $0.writer ? "writer" : "reader" }))
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
      // Between one and all readers; a writer is always alone (a working rwlock, every run).
      "most readers inside at once: \(r.bounded(String(maxReaders), .int, "1..\(readers)")) (timeline), \(r.bounded(String(result.maxReaders), .int, "1..\(readers)")) (atomic counter); turns that overlapped a writer: \(writerOverlaps + result.writerOverlaps)"
    )
    r.line("a reader holds the lock, a writer waits in wrlock, a second reader calls tryrdlock:")
    for p in probes {
      r.line(
        "  \(p.kind.title): writer asleep in \(r.note(p.writerWaitsIn, .word)); tryrdlock → \(p.tryReadResult == 0 ? "0 (the reader got in ahead of the writer)" : "\(SystemError.name(of: p.tryReadResult)) (the reader must wait behind the writer)")"
      )
    }
    r.fact("readers", readers)
    r.fact("writers", writers)
    r.fact("hold_ms", options.hold)
    r.fact("rounds", options.rounds)
    r.fact("prefer", options.prefer.rawValue)
    r.fact("max_readers", maxReaders)
    r.fact("max_readers_counted", result.maxReaders)
    r.fact("writer_overlaps", writerOverlaps)
    r.fact("writer_overlaps_counted", result.writerOverlaps)
    r.fact("elapsed_ns", result.end &- result.start)
    var probeFacts = JSONObject()
    for p in probes {
      var o = JSONObject()
      o["tryrdlock"] = .string(p.tryReadResult == 0 ? "0" : SystemError.name(of: p.tryReadResult))
      o["writer_waits_in"] = .string(p.writerWaitsIn)
      probeFacts[p.kind.key] = .object(o)
    }
    r.fact("reader_while_writer_waits", JSON.object(probeFacts))
    view.facts(into: r)
    let writerWait = result.workers.filter(\.writer).flatMap(\.turns).map(\.waited).max() ?? 0
    var short =
      maxReaders > 1
      ? "Up to \(r.count(maxReaders)) readers held the lock at the same time: reading does not change the data, so readers can share."
      : "Readers never overlapped this time (\(r.count(maxReaders)) at most): they did not arrive together."
    short +=
      writerOverlaps + result.writerOverlaps == 0
      ? " Every write turn was alone: a writer gets in only when no reader and no other writer is inside."
      : " Surprise: a write turn overlapped another turn \(r.count(writerOverlaps + result.writerOverlaps)) times."
    short += " The longest a writer waited: \(r.duration(.ns(writerWait)))."
    if let reader = probes.first(where: { $0.kind == .preferReaders }),
      let writer = probes.first(where: { $0.kind == .preferWriters })
    {
      short +=
        reader.tryReadResult == 0
        ? " Who goes first is the lock's policy: with glibc's default (prefer readers) a new reader got in while a writer was already waiting, so a steady stream of readers can keep a writer out for ever (try 'rwlock --starve')"
        : " Surprise: glibc's default lock refused a new reader while a writer waited"
      short +=
        SystemError.name(of: writer.tryReadResult) == "EBUSY"
        ? "; the writer-preferring kind refused it (EBUSY) and made it queue behind the writer."
        : "; the writer-preferring kind let it in too (\(writer.tryReadResult))."
    }
    r.explain(
      short,
      more:
        "A reader-writer lock pays off when reads are many and long and writes are rare: readers run in parallel where a mutex would queue them. It costs more than a mutex per operation (it tracks the number of readers). glibc's pthread rwlock prefers readers unless created with pthread_rwlockattr_setkind_np(PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP) (the plain PREFER_WRITER_NP kind behaves like the default); preferring writers can starve readers instead, and a read lock taken twice by one thread can then deadlock."
    )
    return r
  }

  static func renderStarvation(_ rows: [RWLockExperiment.Starvation], hold: Int, limit: Int) -> Report {
    let r = Report()
    let readers = rows.first?.readers ?? 0
    r.line(
      "\(Units.plural(readers, "reader")) take turns of \(hold) ms back to back, overlapping; after one turn a writer asks; the readers stop after \(limit) ms"
    )
    var t = Table(["lock", "writer waited", "new readers", "writer got in"], rightAligned: [1, 2])
    for row in rows {
      t.add([
        row.kind.short, r.duration(.ns(row.writerWait)), r.count(row.readerTurnsWhileWaiting),
        // Readers first starves the writer only while their turns keep overlapping, which a busy
        // machine can interrupt; a writer-preferring lock lets it in while readers come, every run.
        row.kind == .preferReaders
          ? r.varying(
            row.starved ? "after readers stopped" : "while readers came",
            among: ["after readers stopped", "while readers came"])
          : row.starved ? "after readers stopped" : "while readers came",
      ])
    }
    t.short = [1: "waited"]
    r.table(t)
    r.line("new readers: reader turns that began after the writer asked")
    var kinds = JSONObject()
    for row in rows {
      var o = JSONObject()
      o["writer_wait_ns"] = .int(Int(row.writerWait))
      o["starved"] = .bool(row.starved)
      o["reader_turns_while_writer_waited"] = .int(row.readerTurnsWhileWaiting)
      o["readers_inside_when_writer_asked"] = .int(row.readersInsideWhenAsked)
      o["max_readers_inside"] = .int(row.maxReadersInside)
      o["reader_turns"] = .int(row.readerTurns)
      kinds[row.kind.key] = .object(o)
    }
    r.fact("readers", readers)
    r.fact("hold_ms", hold)
    r.fact("limit_ms", limit)
    r.fact("kinds", JSON.object(kinds))
    var parts: [String] = []
    if let d = rows.first(where: { $0.kind == .preferReaders }) {
      parts.append(
        d.starved
          ? "With glibc's default rwlock the writer waited \(Units.duration(.ns(d.writerWait))) — until the readers stopped — while \(d.readerTurnsWhileWaiting) reader turns began after it asked: each new reader got in because another reader was inside, so the room was never empty. That is writer starvation."
          : "With glibc's default rwlock the writer got in after \(Units.duration(.ns(d.writerWait))) (\(d.readerTurnsWhileWaiting) reader turns began meanwhile): this time the readers' turns did not keep the room full."
      )
    }
    if let w = rows.first(where: { $0.kind == .preferWriters }) {
      parts.append(
        "The writer-preferring kind let it in after \(Units.duration(.ns(w.writerWait))): once a writer waits, new readers queue behind it (\(w.readerTurnsWhileWaiting) reader turns began meanwhile)."
      )
    }
    if let s = rows.first(where: { $0.kind == .turnstile }) {
      parts.append(
        "The lock built from semaphores did the same in \(Units.duration(.ns(s.writerWait))): the writer shuts a turnstile that every reader must pass, then waits for the room to empty; readers arriving later wait at the turnstile."
      )
    }
    r.explain(
      parts.joined(separator: " "),
      more:
        "The semaphore version is the classic one (The Little Book of Semaphores): a 'room empty' semaphore that the first reader in takes and the last reader out gives back (a light switch, its counter guarded by a mutex), and a turnstile semaphore that readers pass through (wait, then post at once) and that a writer holds while it waits. No writer waits longer than the readers already inside."
    )
    return r
  }
}
