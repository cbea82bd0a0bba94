import Glibc

/// `ps` / `tree`: the shell and the processes it created, as the kernel sees them in /proc.
enum PsCommand {
  static let command = Command(
    name: "ps", aliases: ["tree"], area: .processes,
    summary: "the shell and its children as a tree from /proc: PID, parent, state, threads, memory",
    examples: ["spawn 2 --hold 30; ps", "spawn --no-reap; ps", "tree"]
  ) { session in run(session) }

  struct Node {
    var stat: ProcFS.Stat
    var depth: Int
    var label: String
    var held: Bool
  }

  static func run(_ session: Session) -> Report {
    let me = ThisProcess.id
    let (nodes, tree) = walk(from: me, session: session)
    let r = Report()
    let varyingStates = processTable(nodes, drawn: tree.lines, session: session, into: r)
    shellThreads(of: me, into: r)
    legend(nodes, varyingStates: varyingStates, into: r)
    explain(nodes, shell: me, into: r)
    return r
  }

  /// The shell and everything below it in /proc (at most 200 processes, 6 levels), depth-first
  /// in the order `Tree` draws its lines.
  static func walk(from me: Int32, session: Session) -> (nodes: [Node], tree: Tree) {
    var nodes: [Node] = []
    func visit(_ pid: Int32, depth: Int) -> Tree? {
      guard let stat = ProcFS.stat(pid), nodes.count < 200 else { return nil }
      let child = session.children.child(pid)
      let label: String
      if pid == me {
        label = "proclab (this shell)"
      } else if let child {
        label = child.label
      } else {
        label = ProcFS.commandLine(pid).flatMap { $0.isEmpty ? nil : String($0.prefix(60)) } ?? stat.command
      }
      nodes.append(Node(stat: stat, depth: depth, label: label, held: child != nil))
      var t = Tree(String(pid))
      if depth < 6 {
        for c in ProcFS.children(of: pid) {
          if let sub = visit(c, depth: depth + 1) { t.children.append(sub) }
        }
      }
      return t
    }
    let tree = visit(me, depth: 0) ?? Tree(String(me))
    return (nodes, tree)
  }

  /// One row per process; returns, per row, the states a recording lets it have.
  static func processTable(_ nodes: [Node], drawn: [String], session: Session, into r: Report)
    -> [[Character]]
  {
    var table = Table(["PID", "PPID", "S", "THREADS", "RSS", "COMMAND"], rightAligned: [1, 3, 4])
    var varyingStates: [[Character]] = []
    for (i, n) in nodes.enumerated() {
      let pidText = i < drawn.count ? drawn[i] : String(n.stat.pid)
      // The tree prefix is drawing; only the PID varies.
      r.note(String(n.stat.pid), .pid)
      let zombie = n.stat.state == "Z"
      // A held child sleeps until its hold runs out, then is a zombie until the shell reaps it
      // after the next command: which one ps meets depends on how fast the commands came.
      let timed = session.children.child(n.stat.pid).map { !$0.keepZombie } ?? false
      let label = zombie ? "\(n.label) <defunct>" : n.label
      if timed && "SRZ".contains(n.stat.state) {
        varyingStates.append(["S", "R", "Z"])
        table.add([
          pidText, r.pid(n.stat.parent), r.varying(String(n.stat.state), among: ["S", "R", "Z"]),
          r.note(zombie ? "-" : String(n.stat.threads), .word),
          r.note(zombie ? "-" : Units.bytes(n.stat.residentBytes), .text),
          r.varying(label, among: [n.label, "\(n.label) <defunct>"]),
        ])
        continue
      }
      varyingStates.append([n.stat.state])
      table.add([
        pidText, r.pid(n.stat.parent), String(n.stat.state), zombie ? "-" : r.count(n.stat.threads),
        zombie ? "-" : r.note(Units.bytes(n.stat.residentBytes), .text),
        // The shell's and its children's labels are its own words (`sleeps 20 s` is --hold 20).
        n.held || n.depth == 0 ? r.fixed(label) : label,
      ])
    }
    r.table(table)
    return varyingStates
  }

  /// Threads the shell keeps (thread --hold) are tasks of this process: listed too (all but
  /// replay's key reader, which is the presentation's, not the session's).
  static func shellThreads(of me: Int32, into r: Report) {
    let tasks = ProcFS.threads(of: me).filter { ProcFS.threadStat($0)?.command != Threads.replayKeysName }
    guard tasks.count > 1 else { return }
    r.line("  threads of this shell (/proc/\(r.pid(me))/task):")
    var threadTable = Table(["TID", "S", "NAME"])
    for tid in tasks {
      let t = ProcFS.threadStat(tid)
      threadTable.add([
        r.tid(tid), t.map { String($0.state) } ?? "?", tid == me ? "main" : (t?.command ?? "?"),
      ])
    }
    threadTable.indent = "    "
    // /proc lists tasks by TID, and TIDs wrap around pid_max: the rows may come in any order.
    r.table(threadTable, rowsInAnyOrder: true)
    r.fact("shell_threads", tasks.map(Int.init))
  }

  /// What each state letter shown means.
  static func legend(_ nodes: [Node], varyingStates: [[Character]], into r: Report) {
    let states = Set(nodes.map(\.stat.state)).sorted()
    func legend(_ states: [Character]) -> String {
      states.map { "\($0) = \(ProcFS.meaning(ofState: $0))" }.joined(separator: "; ")
    }
    // Which letters the legend explains follows the rows' states: every set they could make.
    var sets: Set<[Character]> = [[]]
    for row in varyingStates where sets.count <= 64 {
      sets = Set(sets.flatMap { set in row.map { Array(Set(set + [$0])).sorted() } })
    }
    if sets.count > 1 && sets.count <= 64 {
      r.line("  " + r.varying(legend(states), among: sets.map(legend).sorted()))
    } else {
      r.line("  " + legend(states))
    }
  }

  /// The facts, and what the rows say.
  static func explain(_ nodes: [Node], shell me: Int32, into r: Report) {
    let children = nodes.filter { $0.depth > 0 }
    let zombies = children.filter { $0.stat.state == "Z" }
    let stopped = children.filter { $0.stat.state == "T" || $0.stat.state == "t" }
    let running = children.filter { $0.stat.state != "Z" && $0.stat.state != "T" && $0.stat.state != "t" }
    r.fact("shell", me)
    r.fact(
      "processes",
      JSON.array(
        nodes.map { n in
          [
            "pid": .int(Int(n.stat.pid)), "ppid": .int(Int(n.stat.parent)),
            "state": .string(String(n.stat.state)),
            "meaning": .string(ProcFS.meaning(ofState: n.stat.state)), "threads": .int(n.stat.threads),
            "rss_bytes": .int(n.stat.residentBytes), "command": .string(n.label), "held": .bool(n.held),
            "depth": .int(n.depth),
          ]
        }))
    r.fact("zombies", zombies.count)
    if nodes.first?.stat.state == "R" {
      r.explainMore(
        "The shell itself shows R: it was running at that instant — it was the one reading /proc.")
    }

    if children.isEmpty {
      r.explain(
        "This shell (PID \(me)) has no children right now. Start some with `spawn 2 --hold 30` and look again."
      )
    } else {
      var parts: [String] = []
      if !running.isEmpty { parts.append("\(Units.plural(running.count, "child", "children")) alive") }
      if !stopped.isEmpty { parts.append("\(stopped.count) stopped (kill PID CONT resumes)") }
      if !zombies.isEmpty { parts.append("\(Units.plural(zombies.count, "zombie")) (ended, not reaped)") }
      r.explain(
        "Read from /proc just now: \(parts.joined(separator: ", ")); every PPID in the tree is the process that created it.",
        more: zombies.isEmpty
          ? "A process's state letter comes from /proc/PID/stat; S means it sleeps in the kernel waiting for something (here: a timer)."
          : "A zombie's memory and open files are freed and it runs no code, so RSS and THREADS show - (its /proc/PID/status still says Threads: 1, the record the kernel keeps); the kernel keeps its PID and exit status until the parent calls wait. `wait` reaps them."
      )
    }
  }
}
