/// Turns what `wait` observed into lines, facts and an explanation.
struct WaitReport {
  let o: WaitExperiment.Observation
  let r = Report()

  init(_ observation: WaitExperiment.Observation) { o = observation }

  func build() -> Report {
    guard o.hadTargets || !o.reaped.isEmpty else {
      r.line(
        "nothing to wait for: this shell holds no children"
          + (o.kernelSaysNone ? " (the kernel agrees: waitid(P_ALL) = ECHILD)" : ""))
      r.fact("reaped", JSON.array([]))
      r.explain("Start children with `spawn 2 --hold 5` or `spawn --no-reap`, then `wait` reaps them.")
      return r
    }
    headline()
    for pid in o.stopped {
      r.line("  \(r.pid(pid)) is stopped: it cannot end until continued (kill \(pid) CONT)")
    }
    if o.interrupted {
      r.line(
        "interrupted (\(Interrupt.describe(Interrupt.signal))): \(Units.plural(o.stillHeld, "child", "children")) still held (see ps)"
      )
      r.succeeded = false
    }
    facts()
    explain()
    return r
  }

  private func headline() {
    let total = o.reaped.count
    if total == 0 {
      r.line("reaped nothing")
      return
    }
    let children = Units.plural(total, "child", "children")
    // Whether the shell reaped a child between commands (it had ended) or wait does now depends on
    // how long after its end the wait came: a recording accepts either wording here.
    let how: String
    if o.earlier.isEmpty {
      how = " with wait4:"
    } else if o.now.isEmpty {
      how = ": the shell had already reaped \(total == 1 ? "it" : "them") with wait4 between commands:"
    } else {
      how =
        ": \(o.now.count) now with wait4, \(o.earlier.count) the shell had already reaped between commands:"
    }
    r.line("reaped \(children)\(r.note(how, .text))")
    var table = Table(["PID", "WAS", "REAPED AFTER", "ENDED", "CPU", "MAX RSS"], rightAligned: [0, 2, 4])
    for c in o.reaped {
      let was =
        c.before.map { s in "\(s) \(s == "Z" ? "zombie" : s == "S" ? "sleeping" : s == "R" ? "running" : "")"
        }
        ?? "ended earlier"
      // A child may have ended (a zombie), still sleep, or have been reaped already, as timing had it.
      table.add([
        r.pid(c.pid), r.varying(was, among: ["Z zombie", "S sleeping", "R running", "ended earlier"]),
        r.note(c.waited.map { Units.duration($0) } ?? "before wait", .text), "\(c.status)",
        cpu(c.usage), r.note(Units.bytes(c.usage.maxResidentBytes), .text),
      ])
    }
    // Rows come in the order the children were reaped, which timing decides.
    table.short = [2: "REAPED"]
    r.table(table, rowsInAnyOrder: true)
  }

  /// Total CPU, split only when the split means something.
  private func cpu(_ u: ResourceUsage) -> String { r.note(ProcessWords.cpuCell(u), .text) }

  private func facts() {
    r.fact(
      "reaped",
      JSON.array(
        o.reaped.map { c in
          var j = JSONObject()
          j["pid"] = .int(Int(c.pid))
          j["state_before"] = .string(c.before.map { String($0) } ?? "ended earlier")
          j["status"] = c.status.json
          j["usage"] = c.usage.json
          j["by"] = .string(c.earlier ? "shell, earlier" : "wait")
          if let w = c.waited { j["waited_ms"] = .double(w.milliseconds) }
          return .object(j)
        }))
    r.fact("still_held", o.stillHeld)
    r.fact("interrupted", o.interrupted)
    r.fact("stopped", o.stopped.map(Int.init))
  }

  private func explain() {
    if o.interrupted {
      r.explain(
        "\(Interrupt.describe(Interrupt.signal)) stopped the waiting, not the children: wait4 was polling and gave up; the children still run. `kill PID` ends one, `wait` waits again."
      )
    }
    let statuses = o.reaped.map(\.status)
    if let first = statuses.first {
      let kinds = Set(statuses.map { "\($0)" })
      r.explain(
        kinds.count == 1
          ? "\(statuses.count == 1 ? "It" : "All \(statuses.count)") \(first): \(ProcessWords.meaning(of: first))."
          : "They ended in different ways: \(kinds.sorted().joined(separator: ", ")).")
    }
    if o.reaped.contains(where: { !$0.usage.splitIsMeaningful }) {
      r.explainMore(ProcessWords.tickNote)
    }
    if let note = ProcessWords.inheritedPeakNote(o.reaped.map(\.usage.maxResidentBytes)) { r.explain(note) }
    let zombies = o.now.filter { $0.before == "Z" }
    if !zombies.isEmpty {
      let longest = zombies.compactMap(\.zombieFor).max()
      r.explain(
        "\(Units.plural(zombies.count, "zombie")) reaped: \(zombies.count == 1 ? "it" : "each") had already ended"
          + (longest.map { " (up to \(Units.duration($0)) before)" } ?? "")
          + ", but the kernel kept its PID, exit status and CPU usage until wait4 collected them. Now the PID is free.",
        more:
          "A zombie's memory, threads and open files are freed when it ends; what remains is its task_struct in the kernel (a few KiB holding the PID, exit status and usage), and each holds a PID. A parent that never waits leaks them. If the parent dies, init (or a subreaper) adopts and reaps them: see `orphan`."
      )
    } else if !o.now.isEmpty {
      r.explain(
        "wait4 blocked until each child ended, then returned its status and resource usage in one call.")
    }
  }
}
