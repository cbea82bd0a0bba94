import Glibc

/// `spawn`: create child processes for real (posix_spawn of a lab copy, fork, or
/// an external program), then report each one's birth, end and resource usage.
enum SpawnCommand {
  struct Options: CommandOptions {
    var count = 1
    var hold: Double?
    var method = Method.posixSpawn
    var noReap = false
    var program: [String]?

    static var declarations: [OptionDeclaration<Self>] {
      [
        .positional("count", \.count, "N", in: 1...64, "how many children to create"),
        .value(
          "--hold", \.hold, "SECONDS", in: 0...3600,
          "children sleep this long; the shell returns and keeps them (ps, kill, wait)"),
        .choice(
          "method", \.method,
          [("--fork", .fork, "fork() copies of the shell instead of posix_spawn of a fresh proclab")],
          unchosen: "posix_spawn"),
        .flag("--no-reap", \.noReap, "let children end but do not reap them: they stay zombies until wait"),
        .rest("--exec", \.program, "PROGRAM ARGS...", "run an external program (its arguments follow it)"),
      ]
    }

    func validate(command: String) throws {
      if method == .fork && program != nil {
        throw UsageError("spawn: --fork and --exec cannot be used together; choose one")
      }
    }
  }

  static let command = Command(
    name: "spawn", area: .processes,
    summary: "create N child processes and report how each was made, how it ended and what it used",
    examples: [
      "spawn 3", "spawn 2 --hold 30", "spawn 2 --fork", "spawn --no-reap", "spawn --exec /bin/echo hello",
    ],
    options: Options.self
  ) { options, session in try run(options, session) }

  enum Method: String {
    case posixSpawn = "posix_spawn"
    case fork = "fork"
    case exec = "exec"
  }

  struct Child {
    var pid: Int32
    var parent: Int32 = 0
    var created: Duration
    var status: TerminationStatus?
    var usage: ResourceUsage?
    var state: Character?
  }

  /// Where the children's CPU time went, read from the split wait4 reported.
  static func cpuSplit(_ kernelShare: Double, _ method: Method) -> String {
    guard method == .posixSpawn else { return "" }
    return kernelShare >= 0.5
      ? " — mostly kernel work: mapping the program and filling its pages"
      : " — mostly user space: the dynamic loader and the Swift runtime starting up in each copy"
  }

  static func run(_ options: Options, _ session: Session) throws -> Report {
    let count = options.count
    let held = options.hold != nil
    let hold = options.hold ?? 0
    let noReap = options.noReap
    if held || noReap {
      try SessionLimits.checkHeldChildren(adding: count, command: "spawn", session: session)
    }
    let method: Method = options.program != nil ? .exec : options.method
    var program: [String] = []
    var resolved = ""
    if method == .exec {
      program = options.program ?? []
      guard let name = program.first, !name.isEmpty else {
        throw UsageError("spawn: --exec needs a program, e.g. spawn --exec /bin/echo hello")
      }
      if held {
        throw UsageError(
          "spawn: --hold applies to lab and --fork children; to keep a program running give it the time itself (spawn --exec sleep 5)"
        )
      }
      guard session.allowExec else {
        throw UsageError("spawn: --exec runs an external program; from a file that needs --allow-exec")
      }
      guard let path = Spawn.resolve(program: name) else {
        throw UsageError(
          "spawn: no program '\(Printable.word(name))' found (not executable or not on PATH); try /bin/true"
        )
      }
      resolved = path
    }

    let shell = getpid()
    var children: [Child] = []
    var handedOver = Set<Int32>()
    let null = try Descriptors.openNull()
    var output: (read: Int32, write: Int32)? = nil
    // Whatever happens (bad spawn, Ctrl-C, timeout), no child is left behind unreaped
    // unless it went into the session's table.
    defer {
      Descriptors.close(null)
      if let output {
        Descriptors.close(output.read)
        if output.write >= 0 { Descriptors.close(output.write) }
      }
      for c in children where !handedOver.contains(c.pid) && c.status == nil { Children.killAndReap(c.pid) }
      for c in children where !handedOver.contains(c.pid) && c.status != nil && noReap {
        Children.killAndReap(c.pid)
      }
    }
    if method == .exec { output = try Descriptors.pipe() }

    let holdDuration = Duration.milliseconds(Int64((hold * 1000).rounded()))
    let started = MonotonicClock.nanoseconds()
    for i in 0..<count {
      try Interrupt.check()
      let t0 = MonotonicClock.nanoseconds()
      let pid: Int32
      switch method {
      case .posixSpawn:
        var options = Spawn.Options()
        options.descriptors = [(0, null), (1, null), (2, null)]
        options.environment = Lab.environment(extra: [:])
        let request: JSON = ["hold_ms": .int(Int(holdDuration.milliseconds))]
        pid = try Spawn.spawn(
          path: Lab.executable, arguments: ["proclab", Lab.modeArgument, "child", request.serialized],
          options: options)
      case .fork:
        pid = try Fork.sleeper(hold: holdDuration)
      case .exec:
        var options = Spawn.Options()
        options.descriptors = [(0, null), (1, output!.write), (2, output!.write)]
        pid = try Spawn.spawn(path: resolved, arguments: program, options: options)
      }
      children.append(Child(pid: pid, created: MonotonicClock.since(t0)))
      session.progress("spawn", fraction: Double(i + 1) / Double(count))
    }
    let creation = MonotonicClock.since(started)
    session.progressDone()
    if let o = output {
      Descriptors.close(o.write)
      output = (o.read, -1)
    }
    // The parent as the kernel records it (a zombie keeps its /proc/PID/stat until reaped).
    for i in children.indices {
      let stat = ProcFS.stat(children[i].pid)
      children[i].parent = stat?.parent ?? 0
      children[i].state = stat?.state
    }

    let r = Report()
    let label: String
    switch method {
    case .posixSpawn: label = "lab copy of proclab"
    case .fork: label = "fork copy of the shell"
    case .exec: label = program.joined(separator: " ")
    }
    var captured: [UInt8] = []
    var timedOut = false

    if held {
      // Wait until each child can take signals as intended (its SIGUSR1 handler is in place),
      // so a `kill` right after this sees the child's real behaviour.
      let deadline = MonotonicClock.nanoseconds() + 10_000_000_000
      for i in children.indices {
        while true {
          let d = SignalDispositions.read(children[i].pid)
          // Ready: handler installed and asleep (or already ended).
          if d == nil || (d!.isCaught(SIGUSR1) && d!.state == "S") || d!.state == "Z"
            || MonotonicClock.nanoseconds() > deadline
          {
            break
          }
          try Interrupt.check()
          try MonotonicClock.sleep(.milliseconds(2))
        }
        children[i].state = ProcFS.stat(children[i].pid)?.state
      }
      let book = ProcessBook.of(session)
      for c in children {
        session.children.add(
          c.pid, label: "\(label) (sleeps \(Units.plain(hold)) s)", keepZombie: noReap)
        book.entries[c.pid] = ProcessBook.Entry(method: method.rawValue)
        handedOver.insert(c.pid)
      }
    } else {
      let limit = method == .exec ? Duration.seconds(60) : Duration.seconds(30)
      let deadline = MonotonicClock.nanoseconds() + UInt64(limit.nanoseconds)
      var pending = Set(children.indices)
      var pause: UInt64 = 50_000
      while !pending.isEmpty {
        for i in pending.sorted() {
          if noReap {
            if let s = try Wait.endedWithoutReaping(children[i].pid, noHang: true) {
              children[i].status = s
              pending.remove(i)
            }
          } else if let got = try Wait.wait4(children[i].pid, noHang: true) {
            children[i].status = got.status
            children[i].usage = got.usage
            pending.remove(i)
          }
        }
        if pending.isEmpty { break }
        try Interrupt.check()
        if MonotonicClock.nanoseconds() > deadline && !timedOut {
          timedOut = true
          for i in pending { try? SignalSender.send(SIGKILL, to: children[i].pid) }
        }
        if let o = output, o.read >= 0 {
          if !Descriptors.readable([o.read], timeout: .milliseconds(10)).isEmpty {
            let chunk = try Descriptors.read(o.read, max: 4096)
            if captured.count < 65536 { captured += chunk }
          }
        } else {
          var ts = timespec(tv_sec: 0, tv_nsec: Int(pause))
          nanosleep(&ts, nil)
          pause = min(pause * 2, 5_000_000)
        }
      }
      if let o = output {
        // What is left in the pipe; a grandchild that kept it open must not hold us up.
        while !Descriptors.readable([o.read], timeout: .milliseconds(5)).isEmpty {
          let chunk = try Descriptors.read(o.read, max: 4096)
          if chunk.isEmpty { break }
          if captured.count < 65536 { captured += chunk }
        }
      }
      if noReap {
        let book = ProcessBook.of(session)
        let now = MonotonicClock.nanoseconds()
        for c in children {
          session.children.add(c.pid, label: "\(label) (ended, not reaped)", keepZombie: true)
          book.entries[c.pid] = ProcessBook.Entry(method: method.rawValue, endedAt: now, endStatus: c.status)
          handedOver.insert(c.pid)
        }
        for i in children.indices { children[i].state = ProcFS.stat(children[i].pid)?.state }
      }
    }

    // Facts.
    let each = creation / count
    let how = method == .fork ? "fork" : "posix_spawn"
    r.line(
      "\(how) created \(Units.plural(count, "process", "processes")) in \(r.duration(creation)) (\(r.duration(each)) each): \(label)"
    )
    var table: Table
    if held {
      table = Table(["PID", "PARENT", "CREATED IN", "STATE"], rightAligned: [0, 1, 2])
      for c in children {
        let s = c.state.map { "\($0) \(ProcFS.meaning(ofState: $0))" } ?? "gone"
        table.add([r.pid(c.pid), r.pid(c.parent), r.duration(c.created), s])
      }
    } else if noReap {
      table = Table(["PID", "PARENT", "CREATED IN", "ENDED", "STATE NOW"], rightAligned: [0, 1, 2])
      for c in children {
        table.add([
          r.pid(c.pid), r.pid(c.parent), r.duration(c.created), c.status.map { "\($0)" } ?? "?",
          c.state.map { "\($0) (zombie)" } ?? "gone",
        ])
      }
    } else {
      table = Table(
        ["PID", "PARENT", "CREATED IN", "ENDED", "USER CPU", "SYS CPU", "MAX RSS", "SWITCHES vol/invol"],
        rightAligned: [0, 1, 2, 4, 5, 6, 7])
      for c in children {
        let u = c.usage ?? ResourceUsage()
        table.add([
          r.pid(c.pid), r.pid(c.parent), r.duration(c.created), c.status.map { "\($0)" } ?? "?",
          r.duration(u.userTime), r.duration(u.systemTime), r.note(Units.bytes(u.maxResidentBytes), .text),
          "\(r.count(u.voluntarySwitches))/\(r.count(u.involuntarySwitches))",
        ])
      }
    }
    r.lines(table.lines)
    let usages = children.compactMap(\.usage)
    let user = usages.reduce(Duration.zero) { $0 + $1.userTime }
    let sys = usages.reduce(Duration.zero) { $0 + $1.systemTime }
    if !held && !noReap {
      let peak = usages.map(\.maxResidentBytes).max() ?? 0
      r.line(
        "total: \(r.duration(user)) user + \(r.duration(sys)) sys CPU, peak RSS \(r.note(Units.bytes(peak), .text)), \(r.count(usages.reduce(0) { $0 + $1.voluntarySwitches })) voluntary switches"
      )
    }
    if !captured.isEmpty {
      let text = String(decoding: captured, as: UTF8.self)
      let outLines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
      let shown = outLines.last == "" ? Array(outLines.dropLast()) : outLines
      r.line("output (\(Units.plural(shown.count, "line"))):")
      for l in shown.prefix(10) { r.line("  | " + r.note(Printable.word(l), .text)) }
      if shown.count > 10 { r.line("  | … \(shown.count - 10) more") }
    }

    r.fact("method", how)
    r.fact("program", method == .exec ? resolved : method == .fork ? "(copy of the shell)" : Lab.executable)
    r.fact("count", count)
    r.fact("shell", shell)
    r.fact("creation_ms", creation.milliseconds)
    r.fact("per_child_ms", each.milliseconds)
    r.fact("held", held)
    r.fact("unreaped", noReap)
    r.fact(
      "children",
      JSON.array(
        children.map { c in
          var o = JSONObject()
          o["pid"] = .int(Int(c.pid))
          o["ppid"] = .int(Int(c.parent))
          o["created_ms"] = .double(c.created.milliseconds)
          if let s = c.status { o["status"] = s.json }
          if let u = c.usage { o["usage"] = u.json }
          if let st = c.state { o["state"] = .string(String(st)) }
          return .object(o)
        }))
    if timedOut { r.fact("timed_out", true) }

    // Explanation from what was observed.
    let ms = Units.duration(creation)
    let per = Units.duration(each)
    switch method {
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
        "posix_spawn started \(Units.plural(count, "copy", "copies")) of \(resolved) in \(ms) (\(per) each): a new process, then the kernel loaded that program into it.",
        more:
          "Its standard output and error came back to the shell through a pipe; its standard input was /dev/null."
      )
    }
    let wrongParent = children.filter { $0.parent != shell && $0.parent != 0 }
    if wrongParent.isEmpty {
      r.explain(
        "Every child's parent is this shell (PID \(shell)): the kernel records who created each process.")
    } else {
      r.explain(
        "Surprise: \(wrongParent.count) child(ren) already had another parent when /proc was read (\(wrongParent.map { "\($0.pid)→\($0.parent)" }.joined(separator: ", "))."
      )
    }
    if held {
      r.explain(
        "The children sleep for \(Units.plain(hold)) s while the shell goes on: `ps` shows them, `kill PID [SIGNAL]` signals them, `wait` reaps them; quitting kills and reaps them."
          + (noReap
            ? " When they end nobody reaps them (--no-reap): they will show as Z in ps until `wait`." : ""))
    } else if noReap {
      r.explain(
        "\(count == 1 ? "The child" : "The \(count) children") ended but \(count == 1 ? "was" : "were") not reaped: \(count == 1 ? "it" : "each") is now a zombie (state Z) that keeps its PID and exit status in the kernel until the parent calls wait. Try `ps`, then `wait`."
      )
    } else if !usages.isEmpty {
      let cpu = user + sys
      let kernelShare = cpu > .zero ? sys.seconds / cpu.seconds : 0
      r.explain(
        "Reaped with wait4, which also returned what each used: \(Units.duration(cpu)) CPU in all, \(Units.percent(kernelShare)) of it in the kernel\(cpuSplit(kernelShare, method))."
      )
    }
    let ended = children.compactMap(\.status)
    if let first = ended.first, !held {
      let kinds = Set(ended.map { "\($0)" })
      if kinds.count == 1 && first != .exited(0) {
        r.explain("\(count == 1 ? "It" : "Each") \(first): \(ProcessWords.meaning(of: first)).")
      } else if kinds.count > 1 {
        r.explain("They ended in different ways: \(kinds.sorted().joined(separator: ", ")).")
      }
    }
    if method == .exec, let peak = usages.map(\.maxResidentBytes).max(),
      let shellRSS = ProcFS.residentBytes(shell), Double(peak) > 0.8 * Double(shellRSS)
    {
      r.explain(
        "Surprise in MAX RSS: \(Units.bytes(peak)) is about this shell's own size (\(Units.bytes(shellRSS))). glibc's posix_spawn starts the child with clone(CLONE_VM|CLONE_VFORK), sharing the shell's memory until exec, and the kernel keeps that high-water mark."
      )
    }
    if timedOut {
      r.explain("Some children ran past \(method == .exec ? 60 : 30) s and were killed with SIGKILL.")
    }
    return r
  }
}
