/// Turns what `spawn` observed into lines, facts and an explanation.
struct SpawnReport {
  typealias Observation = SpawnExperiment.Observation
  let o: Observation
  let r = Report()

  init(_ observation: Observation) { o = observation }

  var plan: SpawnExperiment.Plan { o.plan }
  var count: Int { plan.count }
  var how: String { plan.method == .fork ? "fork" : "posix_spawn" }
  var each: Duration { o.creation / count }
  var usages: [ResourceUsage] { o.children.compactMap(\.usage) }
  var ranToEnd: Bool { !plan.held && !plan.noReap }

  /// ` (1.93 ms each)` for several children, nothing for one.
  private var eachText: String { count > 1 ? " (\(Units.duration(each)) each)" : "" }

  func build() -> Report {
    r.line(
      "\(how) created \(Units.plural(count, "process", "processes")) in \(r.duration(o.creation))\(count > 1 ? " (\(r.duration(each)) each)" : ""): \(plan.label)"
    )
    r.table(table())
    heldMemoryLine()
    totals()
    programOutput()
    facts()
    explain()
    return r
  }

  // MARK: lines

  private func table() -> Table {
    var table: Table
    if plan.held {
      table = Table(
        ["PID", "PARENT", "CREATED IN", "RSS", "SHARED", "STATE"], rightAligned: [0, 1, 2, 3, 4])
      for c in o.children {
        let s = c.state.map { "\($0) \(ProcFS.meaning(ofState: $0))" } ?? "gone"
        table.add([
          r.pid(c.pid), r.pid(c.parent), r.duration(c.created),
          r.note(c.memory.map { Units.bytes($0.resident) } ?? "?", .text),
          r.note(c.memory.map { Units.bytes($0.shared) } ?? "?", .text), s,
        ])
      }
    } else if plan.noReap {
      table = Table(["PID", "PARENT", "CREATED IN", "ENDED", "STATE NOW"], rightAligned: [0, 1, 2])
      for c in o.children {
        table.add([
          r.pid(c.pid), r.pid(c.parent), r.duration(c.created), c.status.map { "\($0)" } ?? "?",
          c.state.map { "\($0) (zombie)" } ?? "gone",
        ])
      }
    } else {
      table = Table(
        ["PID", "PARENT", "CREATED IN", "ENDED", "CPU", "MAX RSS", "SWITCHES vol/invol"],
        rightAligned: [0, 1, 2, 4, 5, 6])
      for c in o.children {
        let u = c.usage ?? ResourceUsage()
        table.add([
          r.pid(c.pid), r.pid(c.parent), r.duration(c.created), c.status.map { "\($0)" } ?? "?",
          r.note(ProcessWords.cpuCell(u), .text), r.note(Units.bytes(u.maxResidentBytes), .text),
          "\(r.count(u.voluntarySwitches))/\(r.count(u.involuntarySwitches))",
        ])
      }
    }
    table.short = [2: "CREATED"]
    return table
  }

  private var user: Duration { usages.reduce(.zero) { $0 + $1.userTime } }
  private var sys: Duration { usages.reduce(.zero) { $0 + $1.systemTime } }
  private var peak: Int { usages.map(\.maxResidentBytes).max() ?? 0 }
  /// Every child's split rests on enough clock ticks to mean something.
  private var splitsMeaningful: Bool { !usages.isEmpty && usages.allSatisfy(\.splitIsMeaningful) }

  private func totals() {
    guard ranToEnd, !usages.isEmpty else { return }
    let switches = usages.reduce(0) { $0 + $1.voluntarySwitches }
    // Whether the split is shown depends on the clock ticks the children used: one varying text.
    let cpu = r.note(
      splitsMeaningful
        ? ProcessWords.split(user: user, system: sys, format: { Units.duration($0) })
        : "\(Units.duration(user + sys)) CPU",
      .text)
    let shellPeak = o.shellPeak.map { " (this shell's VmHWM: \(r.note(Units.bytes($0), .text)))" } ?? ""
    r.line(
      "total: \(cpu), highest MAX RSS \(r.note(Units.bytes(peak), .text))\(shellPeak), \(r.count(switches, "voluntary switch", "voluntary switches"))"
    )
  }

  /// Held children's memory, averaged: resident, and how much of it is shared.
  private var heldMemory: (rss: Int, shared: Int, own: Int)? {
    let memories = o.children.compactMap(\.memory)
    guard plan.held, !memories.isEmpty else { return nil }
    func mean(_ f: (MemoryRollup) -> Int) -> Int { memories.map(f).reduce(0, +) / memories.count }
    return (mean(\.resident), mean(\.shared), mean(\.privateBytes))
  }

  private func heldMemoryLine() {
    guard let m = heldMemory else { return }
    r.line(
      "memory: about \(r.note(Units.bytes(m.rss), .text)) resident per child, \(r.note(Units.bytes(m.shared), .text)) of it pages shared with other processes (/proc/PID/smaps_rollup)"
    )
  }

  private func programOutput() {
    guard !o.captured.isEmpty else { return }
    let text = String(decoding: o.captured, as: UTF8.self)
    let outLines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    let shown = outLines.last == "" ? Array(outLines.dropLast()) : outLines
    r.line("output (\(Units.plural(shown.count, "line"))):")
    for l in shown.prefix(10) { r.line("  | " + r.note(Printable.word(l), .text)) }
    if shown.count > 10 { r.line("  | … \(shown.count - 10) more") }
  }

  // MARK: facts

  private func facts() {
    r.fact("method", how)
    r.fact(
      "program",
      plan.method == .exec ? plan.resolved : plan.method == .fork ? "(copy of the shell)" : Lab.executable)
    r.fact("count", count)
    r.fact("shell", o.shell)
    r.fact("creation_ms", o.creation.milliseconds)
    r.fact("per_child_ms", each.milliseconds)
    r.fact("held", plan.held)
    r.fact("unreaped", plan.noReap)
    r.fact(
      "children",
      JSON.array(
        o.children.map { c in
          var j = JSONObject()
          j["pid"] = .int(Int(c.pid))
          j["ppid"] = .int(Int(c.parent))
          j["created_ms"] = .double(c.created.milliseconds)
          if let s = c.status { j["status"] = s.json }
          if let u = c.usage { j["usage"] = u.json }
          if let st = c.state { j["state"] = .string(String(st)) }
          if let m = c.memory { j["memory"] = m.json }
          return .object(j)
        }))
    if let peak = o.shellPeak { r.fact("shell_peak_rss_bytes", peak) }
    if o.timedOut { r.fact("timed_out", true) }
  }

  // MARK: explanation

  private func explain() {
    let ms = Units.duration(o.creation)
    switch plan.method {
    case .posixSpawn:
      r.explain(
        "posix_spawn created \(Units.plural(count, "process", "processes")) in \(ms)\(eachText) — \(count == 1 ? "it" : "each") needed its own address space and a new program image (proclab loaded afresh).",
        more:
          "posix_spawn does fork+exec in one step: the kernel makes a new process, then replaces its memory with the program file. Compare `spawn \(count) --fork`, which copies the shell instead of loading a program."
      )
    case .fork:
      r.explain(
        "fork created \(Units.plural(count, "process", "processes")) in \(ms)\(eachText) — \(count == 1 ? "it" : "each") is a copy of this shell: the kernel copied its page tables and shares its memory pages copy-on-write; no program was loaded.",
        more:
          "A forked child runs the same program from the same point. proclab's fork children do only C code that is safe after fork (sleep, then _exit), because the Swift runtime cannot run safely in a forked child."
      )
    case .exec:
      r.explain(
        "posix_spawn started \(Units.plural(count, "copy", "copies")) of \(plan.resolved) in \(ms)\(eachText): a new process, then the kernel loaded that program into it.",
        more:
          "Its standard output and error came back to the shell through a pipe; its standard input was /dev/null."
      )
    }
    let wrongParent = o.children.filter { $0.parent != o.shell && $0.parent != 0 }
    if wrongParent.isEmpty {
      r.explain(
        "Every child's parent is this shell (PID \(o.shell)): the kernel records who created each process.")
    } else {
      r.explain(
        "Surprise: \(wrongParent.count) child(ren) already had another parent when /proc was read (\(wrongParent.map { "\($0.pid)→\($0.parent)" }.joined(separator: ", ")))."
      )
    }
    if plan.held {
      explainHeldMemory()
      r.explain(
        "The children sleep for \(Units.plain(plan.hold ?? 0)) s while the shell goes on: `ps` shows them, `kill PID [SIGNAL]` signals them, `wait` reaps them; quitting kills and reaps them."
          + (plan.noReap
            ? " When they end nobody reaps them (--no-reap): they will show as Z in ps until `wait`." : ""))
    } else if plan.noReap {
      r.explain(
        "\(count == 1 ? "The child" : "The \(count) children") ended but \(count == 1 ? "was" : "were") not reaped: \(count == 1 ? "it" : "each") is now a zombie (state Z) that keeps its PID and exit status in the kernel until the parent calls wait. Try `ps`, then `wait`."
      )
    } else if !usages.isEmpty {
      let cpu = user + sys
      if splitsMeaningful {
        r.explain(
          "Reaped with wait4, which also returned what each used: \(Units.duration(cpu)) CPU in all, \(ProcessWords.kernelShare(user: user, system: sys))."
        )
      } else {
        r.explain(
          "Reaped with wait4, which also returned what each used: \(Units.duration(cpu)) CPU in all. Each child ran for too few clock ticks to split that into user and kernel time, so only the total is shown.",
          more: ProcessWords.tickNote)
      }
      maxRSS()
    }
    let ended = o.children.compactMap(\.status)
    if let first = ended.first, !plan.held {
      let kinds = Set(ended.map { "\($0)" })
      if kinds.count == 1 && first != .exited(0) {
        r.explain("\(count == 1 ? "It" : "Each") \(first): \(ProcessWords.meaning(of: first)).")
      } else if kinds.count > 1 {
        r.explain("They ended in different ways: \(kinds.sorted().joined(separator: ", ")).")
      }
    }
    if o.timedOut {
      r.explain("Some children ran past \(Units.duration(o.limit)) and were killed with SIGKILL.")
    }
  }

  /// What MAX RSS (ru_maxrss) is, measured against the shell's own peak.
  private func maxRSS() {
    guard let shellPeak = o.shellPeak, shellPeak > 0, peak > 0 else { return }
    let close = Double(peak) >= 0.8 * Double(shellPeak)
    let why: String
    switch plan.method {
    case .fork:
      why =
        "at fork the kernel copies the page-table entries of the shell's private pages into the child (shared copy-on-write), and RSS counts the resident pages in a process's page tables, whoever else maps them"
    case .posixSpawn, .exec:
      why =
        "glibc's posix_spawn runs the child in the shell's own address space (clone with CLONE_VM|CLONE_VFORK) until execve, and the kernel carries that address space's high-water mark into ru_maxrss"
    }
    if close {
      r.explain(
        "MAX RSS (ru_maxrss from wait4) is \(Units.bytes(peak)), about this shell's own peak (VmHWM \(Units.bytes(shellPeak))): \(why). It is not memory the child used on its own."
      )
    } else {
      r.explainMore(
        "MAX RSS (ru_maxrss from wait4) is the child's resident high-water mark, \(Units.bytes(peak)) at most: the resident pages in its page tables at the peak, including pages shared with other processes (the program file and its libraries)."
          + (plan.method == .fork
            ? " fork copies page-table entries only for mappings that hold private pages (the others fault back in when touched), so a forked child starts below the shell's RSS."
            : ""))
    }
  }

  /// Held children: how much of their resident memory is theirs alone.
  private func explainHeldMemory() {
    guard let m = heldMemory else { return }
    r.explain(
      "Each child's resident memory is \(m.shared * 2 > m.rss ? "mostly" : "partly") pages it shares with other processes (Shared_Clean and Shared_Dirty in smaps_rollup\(plan.method == .fork ? ": the shell's pages, shared copy-on-write" : ": the proclab binary and libraries the shell maps too")); only about \(Units.bytes(m.own)) is private to it. RSS counts every resident page a process maps, whoever else maps it."
    )
  }
}
