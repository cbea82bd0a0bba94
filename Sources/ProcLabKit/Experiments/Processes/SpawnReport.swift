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

  func build() -> Report {
    r.line(
      "\(how) created \(Units.plural(count, "process", "processes")) in \(r.duration(o.creation)) (\(r.duration(each)) each): \(plan.label)"
    )
    r.lines(table().lines)
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
      table = Table(["PID", "PARENT", "CREATED IN", "STATE"], rightAligned: [0, 1, 2])
      for c in o.children {
        let s = c.state.map { "\($0) \(ProcFS.meaning(ofState: $0))" } ?? "gone"
        table.add([r.pid(c.pid), r.pid(c.parent), r.duration(c.created), s])
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
        ["PID", "PARENT", "CREATED IN", "ENDED", "USER CPU", "SYS CPU", "MAX RSS", "SWITCHES vol/invol"],
        rightAligned: [0, 1, 2, 4, 5, 6, 7])
      for c in o.children {
        let u = c.usage ?? ResourceUsage()
        table.add([
          r.pid(c.pid), r.pid(c.parent), r.duration(c.created), c.status.map { "\($0)" } ?? "?",
          r.duration(u.userTime), r.duration(u.systemTime), r.note(Units.bytes(u.maxResidentBytes), .text),
          "\(r.count(u.voluntarySwitches))/\(r.count(u.involuntarySwitches))",
        ])
      }
    }
    return table
  }

  private var user: Duration { usages.reduce(.zero) { $0 + $1.userTime } }
  private var sys: Duration { usages.reduce(.zero) { $0 + $1.systemTime } }

  private func totals() {
    guard ranToEnd else { return }
    let peak = usages.map(\.maxResidentBytes).max() ?? 0
    r.line(
      "total: \(r.duration(user)) user + \(r.duration(sys)) sys CPU, peak RSS \(r.note(Units.bytes(peak), .text)), \(r.count(usages.reduce(0) { $0 + $1.voluntarySwitches })) voluntary switches"
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
          return .object(j)
        }))
    if o.timedOut { r.fact("timed_out", true) }
  }

  // MARK: explanation

  /// Where the children's CPU time went, read from the split wait4 reported.
  private func cpuSplit(_ kernelShare: Double) -> String {
    guard plan.method == .posixSpawn else { return "" }
    return kernelShare >= 0.5
      ? " — mostly kernel work: mapping the program and filling its pages"
      : " — mostly user space: the dynamic loader and the Swift runtime starting up in each copy"
  }

  private func explain() {
    let ms = Units.duration(o.creation)
    let per = Units.duration(each)
    switch plan.method {
    case .posixSpawn:
      r.explain(
        "posix_spawn created \(Units.plural(count, "process", "processes")) in \(ms) (\(per) each) — each needed its own address space and a new program image (proclab loaded afresh).",
        more:
          "posix_spawn does fork+exec in one step: the kernel makes a new process, then replaces its memory with the program file. Compare `spawn \(count) --fork`, which copies the shell instead of loading a program."
      )
    case .fork:
      r.explain(
        "fork created \(Units.plural(count, "process", "processes")) in \(ms) (\(per) each) — each is a copy of this shell: the kernel copied its page tables and shares its memory pages copy-on-write; no program was loaded.",
        more:
          "A forked child runs the same program from the same point. proclab's fork children do only C code that is safe after fork (sleep, then _exit), because the Swift runtime cannot run safely in a forked child."
      )
    case .exec:
      r.explain(
        "posix_spawn started \(Units.plural(count, "copy", "copies")) of \(plan.resolved) in \(ms) (\(per) each): a new process, then the kernel loaded that program into it.",
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
      let kernelShare = cpu > .zero ? sys.seconds / cpu.seconds : 0
      r.explain(
        "Reaped with wait4, which also returned what each used: \(Units.duration(cpu)) CPU in all, \(Units.percent(kernelShare)) of it in the kernel\(cpuSplit(kernelShare))."
      )
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
    if plan.method == .exec, let peak = usages.map(\.maxResidentBytes).max(),
      let shellRSS = ProcFS.residentBytes(o.shell), Double(peak) > 0.8 * Double(shellRSS)
    {
      r.explain(
        "Surprise in MAX RSS: \(Units.bytes(peak)) is about this shell's own size (\(Units.bytes(shellRSS))). glibc's posix_spawn starts the child with clone(CLONE_VM|CLONE_VFORK), sharing the shell's memory until exec, and the kernel keeps that high-water mark."
      )
    }
    if o.timedOut {
      r.explain("Some children ran past \(Units.duration(o.limit)) and were killed with SIGKILL.")
    }
  }
}
