import Glibc

/// `cost`: what creating (and finishing) a thread or a process costs on this
/// machine, every way measured side by side in one run.
enum CostCommand {
  static let defaultIterations = 300

  static let command = Command(
    name: "cost", area: .measurement,
    summary: "what creating a thread or a process costs here: thread, fork, posix_spawn, exec, side by side",
    usage: "cost [--iterations N]",
    options: [
      .init(
        "--iterations", value: "N",
        "rounds; each creates and finishes one of every kind (10…100000, default 300)")
    ],
    examples: ["cost", "cost --iterations 1000", "cost --iterations 50"]
  ) { args, session in
    try args.expectPositionals(atMost: 0)
    let iterations = try args.int("--iterations", default: defaultIterations, in: 10...100_000)
    return try run(iterations: iterations, session: session)
  }

  /// The program spawned for the `exec` row.
  static var truePath: String? {
    ["/bin/true", "/usr/bin/true"].first { access($0, X_OK) == 0 }
  }

  static func run(iterations: Int, session: Session) throws -> Report {
    // The small parent for the "fork of a small process" row: a C helper beside proclab.
    let forker = try SmallForker()
    defer { forker.close() }
    let tiny = TinyProgram()
    defer { tiny?.close() }
    let exec = truePath
    var ways: [CreationCost.Way] = [.thread, .forkSmall, .forkShell]
    if tiny != nil { ways.append(.spawnTiny) }
    if exec != nil { ways.append(.spawnTrue) }

    func measure(_ way: CreationCost.Way) throws -> Int64 {
      switch way {
      case .thread: try CreationCost.thread()
      case .forkSmall: try forker.samples(1)[0].nanoseconds
      case .forkShell: try CreationCost.fork()
      case .spawnTiny: try CreationCost.spawn(tiny!.path)
      case .spawnTrue: try CreationCost.spawn(exec!)
      }
    }

    // One warm-up round, not counted: the first exec reads /bin/true from disk.
    for way in ways { _ = try measure(way) }
    var samples = Dictionary(uniqueKeysWithValues: ways.map { ($0, Samples()) })
    defer { session.progressDone() }
    let step = max(1, iterations / 100)
    let started = MonotonicClock.nanoseconds()
    for i in 0..<iterations {
      try Interrupt.check()
      // Round-robin, starting one further each round, so machine noise and
      // order effects fall on every row alike (the helper's fork among them).
      for k in 0..<ways.count {
        let way = ways[(i + k) % ways.count]
        samples[way]!.add(Double(try measure(way)))
      }
      if i % step == 0 { session.progress("cost", fraction: Double(i) / Double(iterations)) }
    }
    let elapsed = MonotonicClock.since(started)
    let helper = Parent(pid: forker.pid, mappings: forker.mappings, rss: forker.residentBytes)
    return report(
      ways: ways, samples: samples, iterations: iterations, tinySize: tiny?.size, execPath: exec,
      forker: helper, elapsed: elapsed)
  }

  /// A process fork was timed in: its PID and its size (mappings, resident bytes).
  struct Parent {
    let pid: Int32
    let mappings: Int
    let rss: Int
  }

  static func label(_ way: CreationCost.Way, tinySize: Int?, execPath: String?) -> String {
    switch way {
    case .thread: "pthread_create + pthread_join"
    case .forkSmall: "fork + _exit + waitpid, from proclab-forker (small C)"
    case .forkShell: "fork + _exit + waitpid, from this shell"
    case .spawnTiny: "posix_spawn of a \(tinySize ?? 0)-byte static program + waitpid"
    case .spawnTrue: "posix_spawn + exec of \(execPath ?? "/bin/true") + waitpid"
    }
  }

  static func report(
    ways: [CreationCost.Way], samples: [CreationCost.Way: Samples], iterations: Int, tinySize: Int?,
    execPath: String?, forker: Parent, elapsed: Duration
  ) -> Report {
    let r = Report()
    let me = getpid()
    let shell = Parent(pid: me, mappings: AddressSpace.mappingCount(), rss: ProcFS.residentBytes(me) ?? 0)

    r.line("created and finished \(r.count(iterations)) of each, round-robin, in \(r.duration(elapsed)):")
    var t = Table(["row", "what one sample does", "median", "p10 – p90", "min"], rightAligned: [2, 4])
    for way in ways {
      let s = samples[way]!
      t.add([
        way.rawValue, label(way, tinySize: tinySize, execPath: execPath), r.ns(s.median),
        "\(r.ns(s.percentile(0.1))) – \(r.ns(s.percentile(0.9)))", r.ns(s.minimum),
      ])
    }
    // At 80 columns the description moves under its row, unlabelled.
    t.short = [1: "", 3: "p10–p90"]
    t.stackable = [1]
    r.table(t)
    r.line()
    var chart = BarChart(width: 30, logarithmic: true)
    for way in ways {
      chart.add(way.rawValue, samples[way]!.median, Units.duration(seconds: samples[way]!.median / 1e9))
    }
    r.lines(chart.lines)
    r.line("  (bar lengths on a logarithmic scale: each row can be many times the one above)")
    r.line()

    let thread = samples[.thread]!.median
    var ratioLines: [String] = []
    var ratios = JSONObject()
    for way in ways where way != .thread {
      let m = samples[way]!.median
      let x = thread > 0 ? m / thread : .infinity
      ratios["\(way.rawValue)_over_thread"] = .double(x)
      let what =
        switch way {
        case .forkSmall: "a process by fork of a small C process"
        case .forkShell: "a process by fork of this shell"
        case .spawnTiny: "a process by posix_spawn of the tiny program"
        case .spawnTrue: "a process by posix_spawn + exec of \(execPath ?? "/bin/true")"
        case .thread: ""
        }
      ratioLines.append("\(what) cost \(r.ratio(x)) a thread here")
    }
    let small = samples[.forkSmall]!.median
    let big = samples[.forkShell]!.median
    ratios["fork_shell_over_fork_small"] = .double(small > 0 ? big / small : .infinity)
    r.lines(ratioLines.map { "  " + $0 })
    r.line("  the parents fork copied:")
    r.line(
      "    proclab-forker (pid \(r.pid(forker.pid))): \(r.count(forker.mappings)) mappings, \(r.note(Units.bytes(forker.rss), .text)) resident"
    )
    r.line(
      "    this shell (pid \(r.pid(shell.pid))): \(r.count(shell.mappings)) mappings, \(r.note(Units.bytes(shell.rss), .text)) resident"
    )

    r.fact("iterations", iterations)
    var rows = JSONObject()
    for way in ways {
      var o = samples[way]!.json
      if case .object(var obj) = o {
        obj["calls"] = .string(label(way, tinySize: tinySize, execPath: execPath))
        o = .object(obj)
      }
      rows[way.rawValue] = o
    }
    r.fact("rows", JSON.object(rows))
    r.fact("order", ways.map(\.rawValue))
    r.fact("ratios", JSON.object(ratios))
    r.fact("shell_rss_bytes", shell.rss)
    r.fact("shell_mappings", shell.mappings)
    if let anon = AddressSpace.anonymousResidentBytes(me) { r.fact("shell_anon_rss_bytes", anon) }
    let copied = AddressSpace.forkCopiedResident(me)
    if let copied {
      r.fact("shell_copied_rss_bytes", copied.bytes)
      r.fact("shell_copied_mappings", copied.mappings)
    }
    r.fact("forker_pid", Int(forker.pid))
    r.fact("forker_rss_bytes", forker.rss)
    r.fact("forker_mappings", forker.mappings)
    if let tinySize { r.fact("tiny_program_bytes", tinySize) }
    r.fact("elapsed_ns", Int(elapsed.nanoseconds))

    explain(
      r, ways: ways, samples: samples, shell: shell, forker: forker, copied: copied?.bytes, execPath: execPath
    )
    return r
  }

  static func explain(
    _ r: Report, ways: [CreationCost.Way], samples: [CreationCost.Way: Samples], shell: Parent,
    forker: Parent, copied: Int?, execPath: String?
  ) {
    let thread = samples[.thread]!.median
    let small = samples[.forkSmall]!.median
    let big = samples[.forkShell]!.median
    let smallRatio = small / max(thread, 1)
    let bigRatio = big / max(thread, 1)
    func d(_ ns: Double) -> String { Units.duration(seconds: ns / 1e9) }
    var short: String
    if small > thread {
      short =
        "A process by fork cost \(Units.ratio(smallRatio)) a thread here when a small C process forked, \(Units.ratio(bigRatio)) when this shell did: a thread only needs a stack and a task in the same address space; fork must copy the parent's memory map, page tables and descriptor table, and the child's exit tears them down again."
    } else {
      short =
        "Surprise: a fork of the small C process was not dearer than a thread this time (\(Units.ratio(smallRatio)); from this shell \(Units.ratio(bigRatio))). The machine may be very busy; try `cost --iterations 2000`."
    }
    if let exec = samples[.spawnTrue]?.median {
      short +=
        " Running a program costs most: posix_spawn + exec of \(execPath ?? "/bin/true") took \(d(exec)), \(Units.ratio(exec / max(thread, 1))) a thread."
    }
    var more: [String] = []
    // The parent's size: the two fork rows differ only in who forks.
    if big > small {
      more.append(
        "fork's price depends on the parent: the same C function forked \(d(small)) from proclab-forker (\(forker.mappings) mappings, \(Units.bytes(forker.rss)) resident) and \(d(big)) from this shell (\(shell.mappings) mappings, \(Units.bytes(shell.rss)) resident: the Swift runtime, Foundation and readline), \(Units.ratio(big / max(small, 1))) as long. The kernel copies every mapping of the parent and the page tables of those holding private pages\(copied.map { " (here \(Units.bytes($0)) of this shell's resident memory)" } ?? ""), and the child's exit tears the copy down; a thread copies nothing."
      )
    } else {
      more.append(
        "Surprise: fork of this shell (\(shell.mappings) mappings, \(Units.bytes(shell.rss)) resident) took \(d(big)), no longer than fork of the small C process (\(forker.mappings) mappings, \(Units.bytes(forker.rss))): \(d(small)). A bigger parent usually costs more to copy; the machine's noise may have hidden the difference this time (try more iterations)."
      )
    }
    if let tiny = samples[.spawnTiny]?.median {
      if tiny < big {
        more.append(
          "posix_spawn of the tiny static program (\(d(tiny))) was cheaper than fork of this shell (\(d(big))): glibc's posix_spawn uses clone(CLONE_VM|CLONE_VFORK), so it copies none of this shell's \(shell.mappings) mappings, and execve then builds a fresh, almost empty address space."
        )
      } else {
        more.append(
          "posix_spawn of the tiny static program (\(d(tiny))) cost more than fork of this shell (\(d(big))): building a new address space in execve outweighed copying this shell's \(shell.mappings) mappings here."
        )
      }
      if let exec = samples[.spawnTrue]?.median, exec > tiny {
        more.append(
          "The difference between the tiny program and \(execPath ?? "/bin/true") (\(d(exec - tiny))) is the dynamic loader: mapping libc, relocating, and running a real program's start-up; the kernel part of exec is in both."
        )
      }
    }
    more.append(
      "Each row is the median of many rounds (robust against a busy machine); the spread p10–p90 shows how much the machine disturbed the runs. Threads are cheap to create, but they share memory: see `race`. Processes are isolated, at this price."
    )
    let noisy = ways.filter { samples[$0]!.percentile(0.9) > 3 * samples[$0]!.median }
    if !noisy.isEmpty {
      more.append(
        "Something else was busy on this machine: p90 was more than 3× the median for \(noisy.map(\.rawValue).joined(separator: ", ")); the medians are still fair, as every row suffered alike."
      )
    }
    r.explain(short, more: more.joined(separator: " "))
  }
}
