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
    let tiny = TinyProgram()
    defer { tiny?.close() }
    let exec = truePath
    var ways: [CreationCost.Way] = [.thread, .fork]
    if tiny != nil { ways.append(.spawnTiny) }
    if exec != nil { ways.append(.spawnTrue) }

    func measure(_ way: CreationCost.Way) throws -> Int64 {
      switch way {
      case .thread: try CreationCost.thread()
      case .fork: try CreationCost.fork()
      case .spawnTiny: try CreationCost.spawn(tiny!.path)
      case .spawnTrue: try CreationCost.spawn(exec!)
      }
    }

    // One warm-up round, not counted: the first exec reads /bin/true from disk.
    for way in ways { _ = try measure(way) }
    var samples = Dictionary(uniqueKeysWithValues: ways.map { ($0, Samples()) })
    defer { session.progressDone() }
    let step = max(1, iterations / 100)
    let started = Clock.nanoseconds()
    for i in 0..<iterations {
      try Interrupt.check()
      // Round-robin, starting one further each round, so machine noise and
      // order effects fall on every row alike.
      for k in 0..<ways.count {
        let way = ways[(i + k) % ways.count]
        samples[way]!.add(Double(try measure(way)))
      }
      if i % step == 0 { session.progress("cost", fraction: Double(i) / Double(iterations)) }
    }
    let elapsed = Clock.since(started)
    return report(
      ways: ways, samples: samples, iterations: iterations, tinySize: tiny?.size, execPath: exec,
      elapsed: elapsed)
  }

  static func label(_ way: CreationCost.Way, tinySize: Int?, execPath: String?) -> String {
    switch way {
    case .thread: "pthread_create + pthread_join"
    case .fork: "fork + _exit + waitpid"
    case .spawnTiny: "posix_spawn of a \(tinySize ?? 0)-byte static program + waitpid"
    case .spawnTrue: "posix_spawn + exec of \(execPath ?? "/bin/true") + waitpid"
    }
  }

  static func report(
    ways: [CreationCost.Way], samples: [CreationCost.Way: Samples], iterations: Int, tinySize: Int?,
    execPath: String?, elapsed: Duration
  ) -> Report {
    let r = Report()
    let me = getpid()
    let rss = ProcFS.residentBytes(me) ?? 0
    let mappings = AddressSpace.mappingCount()

    r.line("created and finished \(r.count(iterations)) of each, round-robin, in \(r.duration(elapsed)):")
    var t = Table(["row", "what one sample does", "median", "p10 – p90", "min"], rightAligned: [2, 4])
    for way in ways {
      let s = samples[way]!
      t.add([
        way.rawValue, label(way, tinySize: tinySize, execPath: execPath), r.ns(s.median),
        "\(r.ns(s.percentile(0.1))) – \(r.ns(s.percentile(0.9)))", r.ns(s.minimum),
      ])
    }
    r.lines(t.lines)
    r.line()
    var chart = BarChart(width: 30, logarithmic: true)
    for way in ways {
      chart.add(way.rawValue, samples[way]!.median, Units.duration(seconds: samples[way]!.median / 1e9))
    }
    r.lines(chart.lines)
    r.line("  (bar lengths on a logarithmic scale: each row can be many times the one above)")
    r.line()

    let thread = samples[.thread]!.median
    let fork = samples[.fork]!.median
    var ratioLines: [String] = []
    var ratios = JSONObject()
    for way in ways where way != .thread {
      let m = samples[way]!.median
      let x = thread > 0 ? m / thread : .infinity
      ratios["\(way.rawValue)_over_thread"] = .double(x)
      let what =
        switch way {
        case .fork: "a process by fork"
        case .spawnTiny: "a process by posix_spawn of the tiny program"
        case .spawnTrue: "a process by posix_spawn + exec of \(execPath ?? "/bin/true")"
        case .thread: ""
        }
      ratioLines.append("\(what) cost \(r.ratio(x)) a thread here")
    }
    r.lines(ratioLines.map { "  " + $0 })
    r.line(
      "  this shell, whose memory map fork copies: \(r.count(mappings)) mappings, \(r.note(Units.bytes(rss), .text)) resident"
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
    r.fact("shell_rss_bytes", rss)
    r.fact("shell_mappings", mappings)
    if let tinySize { r.fact("tiny_program_bytes", tinySize) }
    r.fact("elapsed_ns", Int(elapsed.nanoseconds))

    explain(r, ways: ways, samples: samples, rss: rss, mappings: mappings, execPath: execPath)
    return r
  }

  static func explain(
    _ r: Report, ways: [CreationCost.Way], samples: [CreationCost.Way: Samples], rss: Int, mappings: Int,
    execPath: String?
  ) {
    let thread = samples[.thread]!.median
    let fork = samples[.fork]!.median
    let forkRatio = fork / max(thread, 1)
    var short: String
    if fork > thread {
      short =
        "A process by fork cost \(Units.ratio(forkRatio)) a thread here: a thread only needs a stack and a task in the same address space; fork must copy this shell's page tables and descriptor table, and the child's exit tears them down again."
    } else {
      short =
        "Surprise: fork was not dearer than a thread this time (\(Units.ratio(forkRatio))). The machine may be very busy; try `cost --iterations 2000`."
    }
    if let exec = samples[.spawnTrue]?.median {
      short +=
        " Running a program costs most: posix_spawn + exec of \(execPath ?? "/bin/true") took \(Units.duration(seconds: exec / 1e9)), \(Units.ratio(exec / max(thread, 1))) a thread."
    }
    var more: [String] = []
    if let tiny = samples[.spawnTiny]?.median {
      if tiny < fork {
        more.append(
          "posix_spawn of the tiny static program (\(Units.duration(seconds: tiny / 1e9))) was cheaper than fork (\(Units.duration(seconds: fork / 1e9))): glibc's posix_spawn uses clone(CLONE_VM|CLONE_VFORK), so it copies none of this shell's \(mappings) mappings, and execve then builds a fresh, almost empty address space."
        )
      } else {
        more.append(
          "posix_spawn of the tiny static program (\(Units.duration(seconds: tiny / 1e9))) cost more than fork (\(Units.duration(seconds: fork / 1e9))): building a new address space in execve outweighed copying this shell's \(mappings) mappings here."
        )
      }
      if let exec = samples[.spawnTrue]?.median, exec > tiny {
        more.append(
          "The difference between the tiny program and \(execPath ?? "/bin/true") (\(Units.duration(seconds: (exec - tiny) / 1e9))) is the dynamic loader: mapping libc, relocating, and running a real program's start-up; the kernel part of exec is in both."
        )
      }
    }
    more.append(
      "fork's price depends on the parent: the kernel copies the parent's memory map (here \(mappings) mappings, \(Units.bytes(rss)) resident: the Swift runtime, Foundation and readline are mapped into this shell) and the child's exit tears the copy down. A small C program with a few dozen mappings forks faster (2.5× faster on the machine in proclab's BENCHMARKS.md, where Benchmarks/run measures both side by side)."
    )
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
