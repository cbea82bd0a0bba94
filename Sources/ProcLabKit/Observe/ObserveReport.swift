import Glibc

/// Turns an observed run into the terminal text, the `--json` facts and the
/// `→` explanations, each drawn from what the tracer saw.
struct ObserveReport {
  let run: ObservedRun
  let showAll: Bool
  let r = Report()
  /// How many decoded calls of each process are listed without --all.
  let callsShown = 14

  init(_ run: ObservedRun, showAll: Bool) {
    self.run = run
    self.showAll = showAll
  }

  func build() -> Report {
    headline()
    if let error = run.startError {
      r.line("the program never ran: \(error)")
      r.succeeded = false
      facts()
      return r
    }
    output()
    tree()
    timeline()
    calls()
    pipes()
    threads()
    signals()
    leaks()
    facts()
    explain()
    return r
  }

  // MARK: helpers

  func at(_ ns: UInt64) -> String { Units.duration(.nanoseconds(Int64(ns))) }
  var observerName: String { "proclab's tracer \(run.observer)" }
  var workers: [ObservedThread] { run.threads.filter { !$0.isMain } }

  func name(_ p: ObservedProcess) -> String {
    p.execs.isEmpty ? "(copy of \(p.parent))" : Printable.word(p.name)
  }

  func ending(_ p: ObservedProcess) -> String {
    guard let exit = p.exit else { return "still running when the trace ended" }
    var text = "\(exit)"
    if let when = p.exitedAt { text += " at \(at(when))" }
    return text
  }

  /// `reaped by 4120 at 3.1 ms`, or who reaped it after its parent did not.
  func reaping(_ p: ObservedProcess) -> String {
    guard let by = p.reapedBy else { return "not reaped" }
    if by == run.observer {
      return p.pid == run.root ? "reaped by proclab" : "reaped by proclab (adopted)"
    }
    return "reaped by \(by)" + (p.reapedAt.map { " at \(at($0))" } ?? "")
  }

  /// Never reaped by the process that created it.
  var unreaped: [ObservedProcess] {
    run.processes.filter { $0.pid != run.root && $0.exit != nil && $0.reapedBy != $0.parent }
  }

  // MARK: sections

  private func headline() {
    let p = Units.plural(run.processes.count, "process", "processes")
    let t = Units.plural(workers.count, "thread")
    let shown = run.program.map { Printable.word($0) }.joined(separator: " ")
    r.line(
      // How many calls a program makes varies a little (a retried read, a futex under contention).
      "observe \(shown): \(p), \(t), \(r.count(run.totalCalls, "system call", "system calls")) in \(r.duration(.nanoseconds(Int64(run.duration))))"
    )
    if run.timedOut {
      r.line(
        Style.yellow("stopped at the timeout: the program and everything it started were killed (SIGKILL)"))
    } else if run.limitReached {
      r.line(
        Style.yellow(
          "stopped after \(run.totalCalls) system calls (--limit): the program and everything it started were killed"
        ))
    }
  }

  private func output() {
    guard !run.output.isEmpty else { return }
    r.line("the program's output (│ stdout, ┃ stderr):")
    var shown = 0
    for chunk in run.output {
      var lines = chunk.text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
      if lines.last == "" { lines.removeLast() }
      for line in lines {
        shown += 1
        if shown > 40 { continue }
        r.line("  " + (chunk.stream == 1 ? "│ " : "┃ ") + Printable.line(line))
      }
    }
    if shown > 40 { r.line("  │ … \(shown - 40) more lines") }
    if run.outputDropped > 0 { r.line("  │ … \(Units.bytes(run.outputDropped)) more not kept") }
  }

  private func tree() {
    r.line("processes:")
    func node(_ p: ObservedProcess) -> Tree {
      var label = "\(r.pid(p.pid)) \(name(p))"
      if p.pid != run.root { label += "  \(p.createdBy) at \(at(p.createdAt))" }
      label += ", \(ending(p)), \(reaping(p))"
      for e in p.execs.dropFirst(p.pid == run.root ? 1 : 0) {
        label += "; exec \(Printable.word(e.path.split(separator: "/").last.map(String.init) ?? e.path))"
      }
      let kids = run.children(of: p.pid)
      var nodes = kids.prefix(showAll ? kids.count : 16).map(node)
      if kids.count > nodes.count {
        nodes.append(Tree("… \(kids.count - nodes.count) more children (observe --all lists them)"))
      }
      return Tree(label, nodes)
    }
    if let root = run.process(run.root) { r.lines(node(root).lines.map { "  " + $0 }) }
  }

  private func timeline() {
    guard run.processes.count + workers.count > 1 else { return }
    var t = Timeline(width: 40)
    t.legend = [("█", "running"), ("░", "ended, not yet reaped (zombie)")]
    let end = max(run.duration, 1)
    for p in run.processes.prefix(12) {
      var spans = [Timeline.Interval(start: p.createdAt, end: p.exitedAt ?? end, mark: "█")]
      if let exited = p.exitedAt, let reaped = p.reapedAt, reaped > exited {
        spans.append(.init(start: exited, end: reaped, mark: "░"))
      }
      t.add("\(p.pid)", spans)
      for th in run.threads(of: p.pid) where !th.isMain {
        t.add(" └ \(th.tid)", [.init(start: th.createdAt, end: th.endedAt ?? end, mark: "█")])
      }
    }
    r.line("over time:")
    r.timeline(t)
  }

  private func calls() {
    guard !run.log.isEmpty else { return }
    let startup = run.processes.reduce(0) { $0 + $1.startupCalls }
    r.line(
      "calls, by process (time from the start\(startup > 0 ? "; \(startup) start-up calls of the loader and libc left out" : "")):"
    )
    var listed = 0
    for p in run.processes {
      let mine = run.log.filter { $0.pid == p.pid }.sorted { $0.at < $1.at }
      guard !mine.isEmpty else { continue }
      listed += 1
      if !showAll && listed > 8 {
        r.line("  … the calls of \(run.processes.count - 8) more processes (observe --all lists them)")
        break
      }
      let total = p.calls.values.reduce(0, +)
      r.line("  \(p.pid) \(name(p)): \(Units.plural(total, "call"))")
      let threaded = Set(mine.map(\.tid)).count > 1
      for c in mine.prefix(showAll ? mine.count : callsShown) {
        let who = threaded ? "[\(c.tid)] " : ""
        r.line("    " + Style.pad(at(c.at), 9, right: true) + "  " + who + c.text)
      }
      if !showAll && mine.count > callsShown {
        r.line("    … \(mine.count - callsShown) more (observe --all lists them)")
      }
    }
    if run.logDropped > 0 { r.line("  … \(run.logDropped) more calls counted, not listed") }
  }

  private func pipes() {
    guard !run.pipes.isEmpty else { return }
    r.line("pipes:")
    for pipe in run.pipes {
      var parts: [String] = []
      for u in pipe.uses where u.writes > 0 {
        parts.append("\(u.pid) wrote \(Units.bytes(u.wrote)) in \(Units.plural(u.writes, "write"))")
      }
      for u in pipe.uses where u.reads > 0 {
        parts.append(
          "\(u.pid) read \(Units.bytes(u.read)) in \(Units.plural(u.reads, "read"))"
            + (u.sawEndOfFile ? ", the last at end of file" : ""))
      }
      if parts.isEmpty { parts.append("nothing went through it") }
      r.line(
        "  pipe \(pipe.id) (made by \(pipe.createdBy) at \(at(pipe.createdAt))): "
          + parts.joined(separator: "; "))
    }
  }

  private func threads() {
    guard !workers.isEmpty || run.threads.contains(where: { $0.futexWaits > 0 }) else { return }
    var t = Table(
      ["thread", "process", "lived", "calls", "futex waits", "waiting", "wakes"],
      rightAligned: [2, 3, 4, 5, 6])
    let shown = run.threads.filter { !$0.isMain || $0.futexWaits > 0 || $0.futexWakes > 0 }
    for th in shown.prefix(showAll ? shown.count : 16) {
      let lived = th.endedAt.map { at($0 - min($0, th.createdAt)) } ?? "to the end"
      t.add([
        th.isMain ? "\(th.tid) main" : "\(th.tid)", "\(th.pid)", th.isMain ? "whole run" : lived,
        "\(th.calls)",
        "\(th.futexWaits)", at(th.futexWaited), "\(th.futexWakes)",
      ])
    }
    r.line("threads:")
    t.indent = "    "
    r.table(t)
    if !showAll && shown.count > 16 {
      r.line("  … \(shown.count - 16) more threads (observe --all lists them)")
    }
  }

  private func signals() {
    guard !run.signals.isEmpty else { return }
    r.line("signals:")
    var chld: [Int32: (count: Int, traced: Int)] = [:]
    for s in run.signals {
      if s.signal == SIGCHLD && s.sender == nil {
        chld[s.pid, default: (0, 0)].count += 1
        if s.onlyBecauseTraced { chld[s.pid, default: (0, 0)].traced += 1 }
        continue
      }
      var line = "  \(Signals.name(s.signal)) to \(s.pid) at \(at(s.at))"
      if let address = s.faultAddress {
        line += ": a fault at address \(Units.address(UInt(address))) (raised by the kernel)"
      } else if let sender = s.sender {
        line += sender == run.observer ? " (sent by proclab, as asked)" : " (sent by \(sender))"
      }
      if s.onlyBecauseTraced {
        line += "; the program ignores it: it was delivered only because the program is traced"
      }
      r.line(line)
    }
    for (pid, n) in chld.sorted(by: { $0.key < $1.key }) {
      // SIGCHLD's default action is to ignore it: untraced, the kernel would not even have queued these.
      let traced =
        n.traced == n.count
        ? "; the program ignores SIGCHLD: it was delivered only because the program is traced" : ""
      r.line("  SIGCHLD ×\(n.count) to \(pid) (the kernel's notice that a child ended\(traced))")
    }
  }

  private func leaks() {
    let open = run.processes.filter { !$0.openAtExit.isEmpty }
    guard !open.isEmpty else { return }
    r.line("still open at exit (besides 0–2):")
    let all = open.flatMap { p in p.openAtExit.map { (p.pid, $0) } }
    for (pid, d) in all.prefix(showAll ? all.count : 12) {
      r.line("  \(pid): \(d.fd) \(d.target) — \(d.origin)")
    }
    if !showAll && all.count > 12 { r.line("  … \(all.count - 12) more (observe --all lists them)") }
  }

  // MARK: facts

  private func facts() {
    r.fact(
      "processes",
      JSON.array(
        run.processes.map { p in
          [
            "pid": .int(Int(p.pid)), "ppid": .int(Int(p.parent)),
            "exec": p.execs.last.map { .array($0.argv.map(JSON.string)) } ?? .null,
            "exit": p.exit?.json ?? .null, "reaped_by": p.reapedBy.map { .int(Int($0)) } ?? .null,
            "created_by": .string(p.createdBy),
          ]
        }))
    r.fact(
      "threads",
      JSON.array(
        workers.map { t in
          [
            "tid": .int(Int(t.tid)), "pid": .int(Int(t.pid)), "created_ns": .int(Int(t.createdAt)),
            "ended_ns": t.endedAt.map { .int(Int($0)) } ?? .null, "futex_waits": .int(t.futexWaits),
            "futex_waited_ns": .int(Int(t.futexWaited)), "futex_wakes": .int(t.futexWakes),
          ]
        }))
    r.fact("calls", JSON.object(ObservedRun.counts(run.calls)))
    r.fact(
      "leaked_descriptors",
      JSON.array(run.processes.flatMap { p in p.openAtExit.map { $0.json(pid: p.pid) } }))
    r.fact("signals", JSON.array(run.signals.map(\.json)))
    r.fact("pipes", JSON.array(run.pipes.map(\.json)))
    r.fact("output", run.standardOutput)
    r.fact("timed_out", run.timedOut)
    r.fact("limit_reached", run.limitReached)
    r.fact("observer", Int(run.observer))
    r.fact("duration_ns", Int(run.duration))
    if let e = run.startError { r.fact("start_error", e) }
  }

  // MARK: explanations

  /// `child 13700 was never reaped by 13697: …`, or for several children of one parent
  /// reaped by the same process, one sentence naming them all with the span of their exits.
  func zombieSentence(parent: Int32, reaper: Int32?, _ children: [ObservedProcess]) -> String {
    let exits = children.compactMap(\.exitedAt).sorted()
    let until =
      run.process(parent)?.exitedAt.map { "until \(parent) exited at \(at($0))" } ?? "to the end of the trace"
    let one = children.count == 1
    let who =
      one
      ? "child \(children[0].pid)"
      : "children \(children.dropLast().map { String($0.pid) }.joined(separator: ", ")) and \(children.last!.pid)"
    let when =
      one || exits.first == exits.last
      ? "from \(at(exits.first ?? 0))"
      : "from their exits (\(at(exits.first ?? 0)) to \(at(exits.last ?? 0)))"
    let reaped =
      reaper == run.observer
      ? "proclab, which adopted \(one ? "it" : "them") (a subreaper, as init would), reaped \(one ? "it" : "them")"
      : reaper.map { "\(one ? "it was" : "they were") reaped by \($0)" }
        ?? "no one reaped \(one ? "it" : "them")"
    return
      "\(who) \(one ? "was" : "were") never reaped by \(parent): \(one ? "it stayed a zombie" : "they stayed zombies") \(when) \(until); then \(reaped)."
  }

  private func explain() {
    for p in run.processes where p.pid != run.root {
      if let e = p.execs.first, p.createdAt <= e.at {
        let prog = e.path.split(separator: "/").last.map(String.init) ?? e.path
        r.explain(
          "\(p.pid) was made by \(p.createdBy) as a copy of \(p.parent), then execve replaced its program with \(Printable.word(prog)): same PID, new code, data and stack."
        )
        break
      }
    }
    // Zombies left by one parent and reaped by the same process are told in one sentence.
    var zombies: [(parent: Int32, reaper: Int32?, children: [ObservedProcess])] = []
    for p in unreaped {
      guard let exited = p.exitedAt else { continue }
      if let orphaned = p.orphanedAt, orphaned < exited {
        r.explain(
          "\(p.pid) outlived its parent \(p.parent), which exited at \(at(orphaned)): the orphan was re-parented to \(p.parentAtExit == run.observer ? "proclab, a subreaper (without one, init, PID 1, adopts orphans)" : "\(p.parentAtExit.map(String.init) ?? "init")"), which reaped it when it ended."
        )
      } else if run.process(p.parent) != nil {
        if let i = zombies.firstIndex(where: { $0.parent == p.parent && $0.reaper == p.reapedBy }) {
          zombies[i].children.append(p)
        } else {
          zombies.append((p.parent, p.reapedBy, [p]))
        }
      }
    }
    for group in zombies {
      r.explain(zombieSentence(parent: group.parent, reaper: group.reaper, group.children))
    }
    if let crashed = run.processes.first(where: { $0.exit?.signal != nil }), let sig = crashed.exit?.signal {
      let signal = run.signals.last { $0.pid == crashed.pid && $0.signal == sig }
      if let address = crashed.faultAddress {
        let why =
          signal?.code == 1
          ? "no mapping holds that address (SEGV_MAPERR)"
          : signal?.code == 2
            ? "the mapping there does not allow that access (SEGV_ACCERR)" : "the access faulted"
        r.explain(
          "\(crashed.pid) was killed by \(Signals.name(sig)): it touched address \(Units.address(UInt(address))) and \(why); the signal's default action ended the whole process, every thread of it."
        )
      } else if let sender = signal?.sender {
        r.explain(
          "\(crashed.pid) was killed by \(Signals.name(sig)), sent by \(sender == run.observer ? "proclab" : String(sender)): its default action ends the process."
        )
      } else {
        r.explain("\(crashed.pid) was killed by \(Signals.name(sig)).")
      }
    }
    let leaks = run.processes.flatMap { p in p.openAtExit.filter { $0.origin != "inherited" }.map { (p, $0) }
    }
    if let (p, d) = leaks.first {
      let others = leaks.count > 1 ? " (\(leaks.count - 1) more in the list above)" : ""
      r.explain(
        "\(d.target) (descriptor \(d.fd)) was still open in \(p.pid) at exit: made by \(d.origin), never closed\(others). The kernel closes what is left at exit; a long-running program that leaks like this runs out of descriptors (ulimit -n), and an open pipe write end keeps its reader from seeing end of file."
      )
    }
    for pipe in run.pipes {
      guard let reader = pipe.uses.first(where: { $0.sawEndOfFile }) else { continue }
      r.explain(
        "\(reader.pid)'s read on pipe \(pipe.id) returned 0 (end of file) only once no process held its write end open any more: a reader that keeps its own write end open waits forever."
      )
      break
    }
    if !workers.isEmpty {
      let owners = Set(workers.map(\.pid))
      let waits = run.threads.reduce(0) { $0 + $1.futexWaits }
      var text =
        "\(Units.plural(workers.count, "thread")) ran inside \(owners.map(String.init).sorted().joined(separator: ", ")), each with its own TID, made by clone with CLONE_THREAD: they share the process's memory and descriptors."
      text +=
        waits == 0
        ? " No thread ever waited in the kernel (no futex wait): every lock they took was free."
        : " Threads blocked in \(Units.plural(waits, "futex wait")), \(at(run.threads.reduce(0) { $0 + $1.futexWaited })) in all: that is what a contended lock, a condition variable or pthread_join looks like to the kernel."
      r.explain(text)
    }
    if run.timedOut {
      r.explain(
        "the program was still running at the timeout: proclab killed it and everything it had started (observe --timeout sets the limit)."
      )
    }
  }
}
