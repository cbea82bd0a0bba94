import Glibc

/// The OS work of `spawn`: create the children, then either hand them to the
/// session (held, or kept as zombies) or wait for them and collect what wait4
/// reports. Whatever happens (a failed spawn, Ctrl-C, a timeout), no child is
/// left behind unreaped unless it went into the session's table.
struct SpawnExperiment {
  struct Plan {
    var method: SpawnCommand.Method
    var count: Int
    var hold: Double?
    var noReap: Bool
    /// `--exec` words as typed, and the program file they name.
    var program: [String] = []
    var resolved = ""

    var held: Bool { hold != nil }
    var holdDuration: Duration { .milliseconds(Int64(((hold ?? 0) * 1000).rounded())) }
    /// The learner's name for what was started.
    var label: String {
      switch method {
      case .posixSpawn: "lab copy of proclab"
      case .fork: "fork copy of the shell"
      case .exec: program.joined(separator: " ")
      }
    }
  }

  struct Child {
    var pid: Int32
    var parent: Int32 = 0
    var created: Duration
    var status: TerminationStatus?
    var usage: ResourceUsage?
    var state: Character?
    /// Held children: how their resident memory divides (smaps_rollup).
    var memory: MemoryRollup?
  }

  struct Observation {
    var plan: Plan
    var shell: Int32
    var children: [Child] = []
    /// From before the first child's creation to after the last one's.
    var creation: Duration = .zero
    /// What `--exec` programs wrote to their standard output and error (at most 64 KiB).
    var captured: [UInt8] = []
    var timedOut = false
    /// The shell's own peak resident size (VmHWM), read after the children ended.
    var shellPeak: Int?
    /// The longest the shell waits for children that run to their end.
    var limit: Duration { plan.method == .exec ? .seconds(60) : .seconds(30) }
  }

  let plan: Plan

  func run(_ session: Session) throws -> Observation {
    var o = Observation(plan: plan, shell: ThisProcess.id)
    var handedOver = Set<Int32>()
    let null = try Descriptors.openNull()
    var output: (read: Int32, write: Int32)? = nil
    // Programs run in a group whose keeper kills it if the shell dies (ExecGroup).
    let group = plan.method == .exec ? try ExecGroup() : nil
    defer {
      Descriptors.close(null)
      if let output {
        Descriptors.close(output.read)
        if output.write >= 0 { Descriptors.close(output.write) }
      }
      for c in o.children where !handedOver.contains(c.pid) && (c.status == nil || plan.noReap) {
        Children.killAndReap(c.pid)
      }
      // Whatever the programs started in the group and left behind ends here.
      group?.close()
    }
    if plan.method == .exec { output = try Descriptors.pipe() }

    let started = MonotonicClock.nanoseconds()
    for i in 0..<plan.count {
      try Interrupt.check()
      let t0 = MonotonicClock.nanoseconds()
      let pid = try create(null: null, output: output?.write ?? -1, group: group)
      o.children.append(Child(pid: pid, created: MonotonicClock.since(t0)))
      session.progress("spawn", fraction: Double(i + 1) / Double(plan.count))
    }
    o.creation = MonotonicClock.since(started)
    session.progressDone()
    if let pipe = output {
      // Only the children hold the write end now: end of file means they are done writing.
      Descriptors.close(pipe.write)
      output = (pipe.read, -1)
    }
    // The parent as the kernel records it (a zombie keeps its /proc/PID/stat until reaped).
    for i in o.children.indices {
      let stat = ProcFS.stat(o.children[i].pid)
      o.children[i].parent = stat?.parent ?? 0
      o.children[i].state = stat?.state
    }

    let book = session.processBook
    if plan.held {
      try waitUntilReady(&o.children)
      for i in o.children.indices { o.children[i].memory = MemoryRollup.read(o.children[i].pid) }
      for c in o.children {
        session.children.add(
          c.pid, label: "\(plan.label) (sleeps \(Units.plain(plan.hold ?? 0)) s)", keepZombie: plan.noReap)
        book.entries[c.pid] = ProcessBook.Entry(method: plan.method.rawValue)
        handedOver.insert(c.pid)
      }
    } else {
      try waitForEnd(&o, output: output?.read)
      if plan.noReap {
        let now = MonotonicClock.nanoseconds()
        for c in o.children {
          session.children.add(c.pid, label: "\(plan.label) (ended, not reaped)", keepZombie: true)
          book.entries[c.pid] = ProcessBook.Entry(
            method: plan.method.rawValue, endedAt: now, endStatus: c.status)
          handedOver.insert(c.pid)
        }
        for i in o.children.indices { o.children[i].state = ProcFS.stat(o.children[i].pid)?.state }
      }
      o.shellPeak = ProcFS.peakResidentBytes(o.shell)
    }
    return o
  }

  /// One child, the way the plan says.
  private func create(null: Int32, output: Int32, group: ExecGroup?) throws -> Int32 {
    switch plan.method {
    case .posixSpawn:
      var options = Spawn.Options()
      options.descriptors = [(0, null), (1, null), (2, null)]
      options.environment = Lab.environment(extra: [:])
      let request: JSON = ["hold_ms": .int(Int(plan.holdDuration.milliseconds))]
      return try Spawn.spawn(
        path: Lab.executable, arguments: ["proclab", Lab.modeArgument, "child", request.serialized],
        options: options)
    case .fork:
      return try Fork.sleeper(hold: plan.holdDuration)
    case .exec:
      var options = Spawn.Options()
      options.descriptors = [(0, null), (1, output), (2, output)]
      if let group { options.processGroup = group.processGroup }
      return try Spawn.spawn(path: plan.resolved, arguments: plan.program, options: options)
    }
  }

  /// Held children: wait until each can take signals as intended (its SIGUSR1
  /// handler is in place and it sleeps), so a `kill` right after this sees the
  /// child's real behaviour.
  private func waitUntilReady(_ children: inout [Child]) throws {
    let deadline = MonotonicClock.nanoseconds() + 10_000_000_000
    for i in children.indices {
      while MonotonicClock.nanoseconds() < deadline {
        guard let d = SignalDispositions.read(children[i].pid) else { break }
        if (d.isCaught(SIGUSR1) && d.state == "S") || d.state == "Z" { break }
        try MonotonicClock.sleep(.milliseconds(2))
      }
      children[i].state = ProcFS.stat(children[i].pid)?.state
    }
  }

  /// Children that run to their end: poll each (WNOHANG, or waitid WNOWAIT for
  /// --no-reap), read what --exec programs write, SIGKILL what runs past the limit.
  private func waitForEnd(_ o: inout Observation, output: Int32?) throws {
    let deadline = MonotonicClock.nanoseconds() + UInt64(o.limit.nanoseconds)
    var pending = Set(o.children.indices)
    var pause = Duration.microseconds(50)
    while !pending.isEmpty {
      for i in pending.sorted() {
        let pid = o.children[i].pid
        if plan.noReap {
          if let s = try Wait.endedWithoutReaping(pid, noHang: true) {
            o.children[i].status = s
            pending.remove(i)
          }
        } else if let got = try Wait.wait4(pid, noHang: true) {
          o.children[i].status = got.status
          o.children[i].usage = got.usage
          pending.remove(i)
        }
      }
      if pending.isEmpty { break }
      if MonotonicClock.nanoseconds() > deadline && !o.timedOut {
        o.timedOut = true
        for i in pending { SignalSender.sendQuietly(SIGKILL, to: o.children[i].pid) }
      }
      if let output {
        if !Descriptors.readable([output], timeout: .milliseconds(10)).isEmpty {
          keep(try Descriptors.read(output, max: 4096), in: &o.captured)
        }
        try Interrupt.check()
      } else {
        try MonotonicClock.sleep(pause)
        pause = min(pause * 2, .milliseconds(5))
      }
    }
    if let output {
      // What is left in the pipe; a grandchild that kept it open must not hold us up.
      while !Descriptors.readable([output], timeout: .milliseconds(5)).isEmpty {
        let chunk = try Descriptors.read(output, max: 4096)
        if chunk.isEmpty { break }
        keep(chunk, in: &o.captured)
      }
    }
  }

  private func keep(_ chunk: [UInt8], in captured: inout [UInt8]) {
    if captured.count < 65536 { captured += chunk }
  }
}
