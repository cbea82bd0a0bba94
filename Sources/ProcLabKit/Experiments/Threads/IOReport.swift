/// What `io` prints: one row per way of waiting, who waited when, and what the
/// measurements support about threads, poll and asynchronous I/O.
enum IOReport {
  typealias Result = IOExperiment.Result
  typealias Mode = IOCommand.Mode

  static func render(_ results: [Result], tasks k: Int, waitMS: Int, skipped: Mode?) -> Report {
    let r = Report()
    r.line(
      "\(k) task\(k == 1 ? "" : "s"), each waiting \(waitMS) ms for a reply: an eventfd a server thread writes after sleeping (real kernel waits, no disk or network)"
    )
    if let skipped {
      r.line(
        "(\(skipped.rawValue) skipped: \(k) × \(waitMS) ms would take \(Units.duration(.milliseconds(k * waitMS))))"
      )
    }
    var t = Table(
      ["how", "wall time", "in waits", "CPU time", "threads", "RSS +", "address space +"],
      rightAligned: [1, 2, 3, 4, 5, 6])
    var chart = BarChart(width: 24)
    for res in results {
      t.add([
        res.mode.rawValue, r.seconds(Double(res.wall) / 1e9), r.number(waits(res, waitMS)),
        r.duration(res.cpu),
        "\(res.threadsUsed)", r.note(Units.bytes(res.residentGrowth), .text),
        r.note(Units.bytes(res.virtualGrowth), .text),
      ])
      chart.add(res.mode.rawValue, Double(res.wall), Units.duration(seconds: Double(res.wall) / 1e9))
    }
    t.short = [1: "wall", 3: "CPU", 6: "addr space +"]
    r.table(t)
    if results.count > 1 {
      r.line("wall time:")
      r.chart(chart)
    }
    for res in results {
      r.line("\(res.mode.rawValue) (\(res.mode.how)): who waited when")
      var tl = Timeline(width: 48)
      for (i, task) in res.tasks.enumerated().prefix(ThreadWork.maxRows) where task.answered > 0 {
        tl.add(
          "task \(i + 1) \(r.tid(task.tid))",
          [Timeline.Interval(start: task.asked, end: max(task.answered, task.asked + 1), mark: "░")])
      }
      tl.legend = [("░", "waiting for its reply"), ("·", "not started or done")]
      r.timeline(tl)
      r.lines(ThreadWork.moreRows(res.tasks.count))
    }
    let fileReady = RegularFileReadiness.pollsReadyAtOnce()
    if let fileReady {
      r.line(
        "poll() on a regular file (proclab's own binary): \(fileReady ? "ready at once — a file never makes poll wait, so poll cannot overlap disk reads" : "not ready (unexpected)")"
      )
    }
    facts(results, tasks: k, waitMS: waitMS, fileReady: fileReady, into: r)
    explain(results, tasks: k, waitMS: waitMS, fileReady: fileReady, r: r)
    return r
  }

  static func waits(_ res: Result, _ waitMS: Int) -> Double { Double(res.wall) / 1e6 / Double(waitMS) }

  static func modeFacts(_ res: Result, waitMS: Int) -> JSONObject {
    var o = JSONObject()
    o["tasks"] = .int(res.tasks.count)
    o["wall_ns"] = .int(Int(res.wall))
    o["waits"] = .double(waits(res, waitMS))
    o["cpu_ns"] = .int(Int(res.cpu.nanoseconds))
    o["threads"] = .int(res.threadsUsed)
    o["peak_threads"] = .int(res.peakThreads)
    o["resident_growth_bytes"] = .int(res.residentGrowth)
    o["virtual_growth_bytes"] = .int(res.virtualGrowth)
    o["tids"] = .array(res.tasks.prefix(64).map { .int(Int($0.tid)) })
    o["answered"] = .int(res.tasks.filter { $0.answered > 0 }.count)
    o["values"] = .array(res.tasks.prefix(64).map { .int(Int($0.value)) })
    return o
  }

  static func facts(_ results: [Result], tasks k: Int, waitMS: Int, fileReady: Bool?, into r: Report) {
    r.fact("tasks", k)
    r.fact("wait_ms", waitMS)
    var modes = JSONObject()
    for res in results { modes[res.mode.rawValue] = .object(modeFacts(res, waitMS: waitMS)) }
    r.fact("modes", JSON.object(modes))
    if let fileReady { r.fact("regular_file_polls_ready", fileReady) }
  }

  static func explain(_ results: [Result], tasks k: Int, waitMS: Int, fileReady: Bool?, r: Report) {
    var parts: [String] = []
    let byMode = Dictionary(uniqueKeysWithValues: results.map { ($0.mode, $0) })
    func w(_ m: Mode) -> String { Units.fixed(waits(byMode[m]!, waitMS), digits: 1) }
    func share(_ res: Result) -> Double { res.cpu.seconds / max(1e-9, Double(res.wall) / 1e9) }
    if byMode[.serial] != nil {
      parts.append("One after another, the \(k) waits add up: \(w(.serial)) waits of \(waitMS) ms.")
    }
    let overlapped = [Mode.threads, .poll].filter { byMode[$0] != nil }
    if !overlapped.isEmpty && k > 1 {
      parts.append(
        overlapped.map { m in
          let who = m == .threads ? "\(k) threads" : "poll() on one thread"
          return waits(byMode[m]!, waitMS) <= 1.5
            ? "with \(who) the \(k) waits overlapped: together they took \(w(m)) waits' time"
            : "with \(who) the waits should overlap, but took \(w(m)) waits: the replies came late "
              + (share(byMode[m]!) >= 0.5
                ? "(this process itself kept the CPU busy: \(Units.percent(share(byMode[m]!))) of the wall time)"
                : "(the machine is busy\(ThreadWork.loadAverage().map { ", load \(Units.fixed($0, digits: 1))" } ?? ""))")
        }
        .joined(separator: "; ").capitalizedFirst + ".")
    }
    // The CPU time is the whole process's (getrusage RUSAGE_SELF): the side that writes the
    // replies runs in it too, and poll() checks every descriptor again at each call.
    let cpuShare = results.map(share).max() ?? 0
    parts.append(
      cpuShare < 0.1
        ? "Waiting costs little CPU: at most \(Units.percent(cpuShare)) of the wall time went to computing, the replying side's work included — a blocked thread sleeps in the kernel until its descriptor has data."
        : "The process used up to \(Units.percent(cpuShare)) of the wall time in CPU, but not for waiting (a blocked thread sleeps in the kernel until its descriptor has data): for starting the \(k) tasks, for the replies, written by this same process\(byMode[.poll] != nil ? ", and, with poll(), for checking all \(k) descriptors again at every call (epoll keeps the set in the kernel and avoids that)" : "")."
    )
    if let threads = byMode[.threads], let polled = byMode[.poll], k > 1, waits(polled, waitMS) <= 1.5 {
      parts.append(
        "poll() got the same overlap with one thread instead of \(k) (the threads added \(Units.bytes(threads.residentGrowth)) of resident memory and \(Units.bytes(threads.virtualGrowth)) of address space, mostly 8 MiB stacks and per-thread malloc arenas; poll \(Units.bytes(polled.residentGrowth)) and \(Units.bytes(polled.virtualGrowth))): this readiness multiplexing is the heart of event loops (select, poll, epoll; nginx, Node.js, asyncio)."
      )
    }
    r.explain(
      parts.joined(separator: " "),
      more:
        "poll tells which descriptors are ready; the program then reads them itself. That is not completion-based asynchronous I/O (io_uring, POSIX aio), where the kernel does the read and reports when it is done. And readiness only means something for pipes, sockets, terminals and eventfds like these: a regular file always polls ready\(fileReady == true ? " (this binary's own file just did, at once)" : ""), so poll cannot overlap disk reads — threads, a thread pool or io_uring can. I/O-bound work spends its time waiting; threads or an event loop let the waits overlap, so K waits take about one. That helps only waiting: CPU-bound work needs free cores (see 'parallel'). Each thread costs a stack (8 MiB of address space, a few pages resident) and a kernel task; one poll or epoll thread can watch thousands of descriptors."
    )
  }

  static func renderSweep(_ rows: [Result], waitMS: Int) -> Report {
    let r = Report()
    r.line(
      "tasks waiting \(waitMS) ms each for an eventfd reply: one thread per task against one poll() thread"
    )
    var t = Table(
      ["tasks", "how", "wall time", "CPU time", "threads at once", "RSS +", "address space +"],
      rightAligned: [0, 2, 3, 4, 5, 6])
    for res in rows {
      t.add([
        String(res.tasks.count), res.mode.rawValue, r.seconds(Double(res.wall) / 1e9), r.duration(res.cpu),
        r.count(res.peakThreads), r.note(Units.bytes(res.residentGrowth), .text),
        r.note(Units.bytes(res.virtualGrowth), .text),
      ])
    }
    t.short = [4: "threads", 6: "addr space +"]
    r.table(t)
    r.fact("wait_ms", waitMS)
    r.fact(
      "rows",
      JSON.array(
        rows.map {
          var o = modeFacts($0, waitMS: waitMS)
          o["mode"] = .string($0.mode.rawValue)
          return .object(o)
        }))
    let threads = rows.filter { $0.mode == .threads }
    let polls = rows.filter { $0.mode == .poll }
    if let bigT = threads.last, let bigP = polls.last {
      let perThread = bigT.tasks.count > 0 ? bigT.residentGrowth / bigT.tasks.count : 0
      r.explain(
        "With \(bigT.tasks.count) tasks, a thread each took \(Units.duration(seconds: Double(bigT.wall) / 1e9)), up to \(bigT.peakThreads) threads at once, \(Units.bytes(bigT.residentGrowth)) more resident memory (about \(Units.bytes(perThread)) per thread) and \(Units.bytes(bigT.virtualGrowth)) more address space; one poll() thread took \(Units.duration(seconds: Double(bigP.wall) / 1e9)) and \(Units.bytes(bigP.residentGrowth)). The memory of threads grows with the number of waits; an event loop's grows only with its descriptors. That is why servers moved from a thread per connection to event loops (epoll), and why thread pools cap their threads.",
        more:
          "Resident memory is VmHWM (the peak, reset before each run through /proc/self/clear_refs) minus VmRSS before; address space is the peak VmSize. Each thread also costs kernel memory that neither counts: its task structure and kernel stack. poll() itself is O(descriptors) per call; epoll keeps the set in the kernel and reports only the ready ones, which is what event loops use at this scale."
      )
    }
    return r
  }
}

extension String {
  var capitalizedFirst: String { prefix(1).uppercased() + dropFirst() }
}
