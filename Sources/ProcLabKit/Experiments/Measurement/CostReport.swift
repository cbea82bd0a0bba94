import Glibc

/// The table, chart, facts and explanation of `cost`.
enum CostReport {
  /// A process fork was timed in: its PID and its size.
  struct Parent {
    let pid: Int32
    let mappings: Int
    let rss: Int
    /// The resident memory of its mappings that hold private pages: what fork copies entries for.
    let privateResident: Int?
  }

  static func label(_ way: CreationCost.Way, tinySize: Int?, execPath: String?) -> String {
    switch way {
    case .thread: "pthread_create + pthread_join"
    case .forkSmall: "fork + _exit + waitpid, small C parent"
    case .forkShell: "fork + _exit + waitpid, this shell"
    case .spawnTiny: "posix_spawn \(tinySize ?? 0)-byte program + waitpid"
    case .spawnTrue: "posix_spawn \(execPath ?? "/bin/true") + waitpid"
    }
  }

  static func report(_ m: CostMeasurement) -> Report {
    let r = Report()
    let me = ThisProcess.untracedID
    let copied = AddressSpace.forkCopiedResident(me)
    let shell = Parent(
      pid: me, mappings: AddressSpace.mappingCount(), rss: ProcFS.residentBytes(me) ?? 0,
      privateResident: copied?.bytes)
    let forker = Parent(
      pid: m.forkerPID, mappings: m.forker.mappings, rss: m.forker.residentBytes,
      privateResident: m.forker.anonymousBytes)

    r.line(
      "created and finished \(m.iterations) of each kind, each kind in its own warm loop, in \(r.duration(m.elapsed)):"
    )
    var t = Table(["row", "what one sample does", "median", "p10 – p90", "cold"], rightAligned: [2, 4])
    for way in m.ways {
      let s = m.warm[way]!
      t.add([
        way.rawValue, label(way, tinySize: m.tinySize, execPath: m.execPath), r.ns(s.median),
        "\(r.ns(s.percentile(0.1))) – \(r.ns(s.percentile(0.9)))", r.ns(m.cold[way]!.median),
      ])
    }
    // At 80 columns the description moves under its row, unlabelled.
    t.short = [1: "", 3: "p10–p90"]
    t.stackable = [1]
    r.table(t)
    r.line(
      "  median, p10 – p90: \(m.blocks) blocks per kind, kinds taking turns, first \(m.warmupPerBlock) of each block discarded"
    )
    r.line(
      "  cold: median of \(m.coldRounds) rounds of one of each kind in turn, each after another kind's work")
    if let placed = placementLine(m, r: r) { r.line(placed) }
    r.line()
    var chart = BarChart(width: 30, logarithmic: true)
    for way in m.ways {
      chart.add(way.rawValue, m.warm[way]!.median, Units.duration(seconds: m.warm[way]!.median / 1e9))
    }
    r.chart(chart)
    r.line("  (bar lengths on a logarithmic scale: each row can be many times the one above)")
    r.line()

    let thread = m.warm[.thread]!.median
    var ratios = JSONObject()
    for way in m.ways where way != .thread {
      let x = thread > 0 ? m.warm[way]!.median / thread : .infinity
      ratios["\(way.rawValue)_over_thread"] = .double(x)
      let what =
        switch way {
        case .forkSmall: "a process by fork of a small C process"
        case .forkShell: "a process by fork of this shell"
        case .spawnTiny: "a process by posix_spawn of the tiny program"
        case .spawnTrue: "a process by posix_spawn of \(m.execPath ?? "/bin/true")"
        case .thread: ""
        }
      r.line("  \(what) cost \(r.ratio(x)) a thread here")
    }
    let small = m.warm[.forkSmall]!.median
    let big = m.warm[.forkShell]!.median
    ratios["fork_shell_over_fork_small"] = .double(small > 0 ? big / small : .infinity)
    let coldThread = m.cold[.thread]!.median
    ratios["thread_cold_over_warm"] = .double(thread > 0 ? coldThread / thread : .infinity)
    r.line("  the parents fork copied:")
    for (name, p) in [("proclab-forker", forker), ("this shell", shell)] {
      r.line(
        "    \(name) (pid \(r.pid(p.pid))): \(r.count(p.mappings)) mappings, \(r.note(Units.bytes(p.rss), .text)) resident"
          + (p.privateResident.map { ", \(r.note(Units.bytes($0), .text)) of it private" } ?? ""))
    }

    r.fact("iterations", m.iterations)
    r.fact(
      "method",
      "warm loops per kind, \(m.blocks) alternating blocks, \(m.warmupPerBlock) warm-up samples discarded per block"
    )
    r.fact("blocks", m.blocks)
    r.fact("warmup_per_block", m.warmupPerBlock)
    r.fact("cold_rounds", m.coldRounds)
    var rows = JSONObject()
    for way in m.ways {
      guard case .object(var obj) = m.warm[way]!.json else { continue }
      obj["calls"] = .string(label(way, tinySize: m.tinySize, execPath: m.execPath))
      obj["cold"] = m.cold[way]!.json
      rows[way.rawValue] = .object(obj)
    }
    r.fact("rows", JSON.object(rows))
    r.fact("order", m.ways.map(\.rawValue))
    r.fact("ratios", JSON.object(ratios))
    r.fact("shell_rss_bytes", shell.rss)
    r.fact("shell_mappings", shell.mappings)
    if let anon = AddressSpace.anonymousResidentBytes(me) { r.fact("shell_anon_rss_bytes", anon) }
    if let copied {
      r.fact("shell_copied_rss_bytes", copied.bytes)
      r.fact("shell_copied_mappings", copied.mappings)
    }
    r.fact("forker_pid", Int(forker.pid))
    r.fact("forker_rss_bytes", forker.rss)
    r.fact("forker_anon_rss_bytes", m.forker.anonymousBytes)
    r.fact("forker_mappings", forker.mappings)
    if let tiny = m.tinySize { r.fact("tiny_program_bytes", tiny) }
    r.fact("thread_same_cpu", m.threadSameCPU.json)
    r.fact("thread_other_cpu", m.threadOtherCPU.json)
    r.fact("thread_minor_faults_warm", m.threadFaultsWarm)
    r.fact("thread_minor_faults_cold", m.threadFaultsCold)
    r.fact("cold_thread_after", m.coldThreadAfter.map(\.rawValue))
    if let since = m.coldThreadSinceShellFork { r.fact("cold_thread_since_shell_fork", since) }
    r.fact("elapsed_ns", Int(m.elapsed.nanoseconds))
    explain(r, m, shell: shell, forker: forker)
    return r
  }

  static func explain(_ r: Report, _ m: CostMeasurement, shell: Parent, forker: Parent) {
    let thread = m.warm[.thread]!.median
    let small = m.warm[.forkSmall]!.median
    let big = m.warm[.forkShell]!.median
    func d(_ ns: Double) -> String { Units.duration(seconds: ns / 1e9) }
    func x(_ a: Double, _ b: Double) -> String { Units.ratio(a / max(b, 1)) }
    var short: String
    if small > thread {
      short =
        "A process made by fork cost \(x(small, thread)) a thread here when a small C process forked, "
        + "\(x(big, thread)) when this shell did: a thread only needs a stack and a task in the same address space; "
        + "fork copies the parent's memory map — its mappings and the page-table entries of its private resident "
        + "pages — and the child's exit tears that copy down again."
    } else {
      short =
        "Surprise: a fork of the small C process was not dearer than a thread this time (\(x(small, thread)); from "
        + "this shell \(x(big, thread))). The machine may be very busy; try `cost --iterations 2000`."
    }
    if let exec = m.warm[.spawnTrue]?.median {
      let most = m.ways.allSatisfy { m.warm[$0]!.median <= exec }
      short +=
        (most ? " Running a program cost most: posix" : " Posix")
        + "_spawn of \(m.execPath ?? "/bin/true") until it ended took \(d(exec)), \(x(exec, thread)) a thread."
    }
    var more: [String] = []
    let privateText = { (p: Parent) in p.privateResident.map { ", \(Units.bytes($0)) of it private" } ?? "" }
    if big > small {
      more.append(
        "fork's price depends on the parent: the same C loop forked in \(d(small)) from proclab-forker "
          + "(\(forker.mappings) mappings, \(Units.bytes(forker.rss)) resident\(privateText(forker))) and in \(d(big)) "
          + "from this shell (\(shell.mappings) mappings, \(Units.bytes(shell.rss)) resident\(privateText(shell))). "
          + "What drives it is the private resident memory, whose page-table entries fork copies one by one, more "
          + "than the number of mappings: `cost --parent-size 256M` grows a parent and shows it.")
    } else {
      more.append(
        "Surprise: fork of this shell (\(d(big))) took no longer than fork of the small C process (\(d(small))); the "
          + "machine's noise may have hidden the difference this time (try more iterations).")
    }
    if let tiny = m.warm[.spawnTiny]?.median {
      more.append(
        "posix_spawn of the tiny static program took \(d(tiny)) (fork of this shell: \(d(big))): glibc's "
          + "posix_spawn uses clone(CLONE_VM|CLONE_VFORK), so the child borrows the parent's memory until execve "
          + "and nothing is copied; execve then builds a new, nearly empty address space.")
      if let exec = m.warm[.spawnTrue]?.median, exec > tiny {
        more.append(
          "\(m.execPath ?? "/bin/true") took \(d(exec - tiny)) longer than the tiny program: after execve its "
            + "dynamic loader maps and relocates libc and the program's start-up runs, all before it exits and "
            + "waitpid returns; the kernel's part of exec is in both rows.")
      }
    }
    if let placement = placementSentence(m) { more.append(placement) }
    more.append(coldSentence(m))
    let noisy = m.ways.filter { m.warm[$0]!.percentile(0.9) > 3 * m.warm[$0]!.median }
    if !noisy.isEmpty {
      more.append(
        "Something else was busy on this machine: p90 was more than 3× the median for "
          + "\(noisy.map(\.rawValue).joined(separator: ", ")); the medians are still fair.")
    }
    r.explain(short, more: more.joined(separator: " "))
  }
  /// Where the kernel ran each new thread of the warm loop: on the CPU its creator was on just
  /// before pthread_create, or on another (sched_getcpu in both).
  static func placementLine(_ m: CostMeasurement, r: Report) -> String? {
    let (same, other) = (m.threadSameCPU, m.threadOtherCPU)
    guard same.count + other.count > 0 else { return nil }
    // One shape whatever the split, so a transcript line matches every run.
    func median(_ s: Samples) -> String { s.count > 0 ? "median \(r.ns(s.median))" : r.note("none", .word) }
    return
      "  thread: ran on its creator's CPU in \(r.count(same.count)) of \(r.count(same.count + other.count)) "
      + "samples (\(median(same))), on another CPU in \(r.count(other.count)) (\(median(other)))"
  }

  /// A claim about placement only when the run shows it: enough samples on each side and one
  /// median clearly above the other.
  static func placementSentence(_ m: CostMeasurement) -> String? {
    let (same, other) = (m.threadSameCPU, m.threadOtherCPU)
    let total = same.count + other.count
    guard same.count >= max(10, total / 10), other.count >= max(10, total / 10) else { return nil }
    let d = { (ns: Double) in Units.duration(seconds: ns / 1e9) }
    if other.median > same.median * 1.3 {
      return "Where the kernel put the new thread changed its price: on its creator's CPU \(d(same.median)), "
        + "on another CPU \(d(other.median)) (\(other.count) of \(total) samples). There its start and its end "
        + "both cross CPUs: the other CPU must be made to run it (an inter-processor interrupt when that CPU "
        + "was idle, and on a virtual machine the hypervisor resuming that virtual CPU), and its exit must "
        + "wake the creator, asleep in pthread_join, on the first CPU. On its creator's CPU the new thread "
        + "simply runs while its creator sleeps."
    }
    if same.median > other.median * 1.3 {
      return "The new threads that ran on their creator's CPU cost more (\(d(same.median))) than those on "
        + "another CPU (\(d(other.median))) in this run."
    }
    return nil
  }

  /// The cold column: what the run measured (the figure, the faults, what came before each cold
  /// thread sample) and the copy-on-write fact; it does not say how much of the difference the
  /// faults cause, which the run does not measure.
  static func coldSentence(_ m: CostMeasurement) -> String {
    func d(_ ns: Double) -> String { Units.duration(seconds: ns / 1e9) }
    let warm = m.warm[.thread]!.median
    let cold = m.cold[.thread]!.median
    let names: [CreationCost.Way: String] = [
      .thread: "a thread", .forkSmall: "a fork of the small process", .forkShell: "a fork of this shell",
      .spawnTiny: "a posix_spawn", .spawnTrue: "a posix_spawn",
    ]
    let after = m.coldThreadAfter.compactMap { names[$0] }.reduce(into: [String]()) {
      if !$0.contains($1) { $0.append($1) }
    }
    var text =
      "Each figure is the median of warm samples: every kind ran in its own loop, as lmbench's lat_proc and "
      + "stress-ng time it, with the kinds taking turns block by block so a busy machine slows all alike. The cold "
      + "column times one of each kind in turn instead"
    if !after.isEmpty {
      text += ", so each thread sample came right after \(after.joined(separator: " or "))"
      if let since = m.coldThreadSinceShellFork {
        text +=
          since == 1
          ? " (a fork of this shell right before)" : " (a fork of this shell at most \(since) samples before)"
      }
    }
    text += ": a thread then cost \(d(cold)) (\(Units.ratio(cold / max(warm, 1))) its warm figure)"
    text +=
      " and took \(Units.fixed(m.threadFaultsCold, digits: 1)) minor page faults per sample against \(Units.fixed(m.threadFaultsWarm, digits: 2)) in its warm loop"
    if cold > warm * 1.2 && m.threadFaultsCold > m.threadFaultsWarm + 0.5 {
      text +=
        ". A fork write-protects the parent's private pages for copy-on-write, and the first write to each one "
        + "afterwards is a page fault, even once the child has gone; how much of the \(d(cold - warm)) difference "
        + "such faults make, and how much other traces of the other kinds' work (caches, TLB) do, this run does not "
        + "measure (timing one such fault would show it)."
    } else if cold > warm * 1.2 {
      text += ": the extra time came without extra page faults, and this run does not show where it went."
    } else {
      text += ": this run shows no cold penalty for a thread."
    }
    return text
  }
}
