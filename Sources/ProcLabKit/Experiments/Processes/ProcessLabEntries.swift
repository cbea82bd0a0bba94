import Glibc

/// Experiments that run inside lab copies of proclab for the processes verbs.
enum ProcessLabEntries {
  /// `spawn`'s default child: catches SIGUSR1 (so `kill PID USR1` shows a
  /// handler at work), sleeps `hold_ms`, then exits 0.
  static let child = LabEntry("child") { request in
    ChildSignals.catchCounting(SIGUSR1)
    let ms = request["hold_ms"]?.intValue ?? 0
    if ms > 0 { ChildSignals.sleep(.milliseconds(ms)) }
    return [
      "pid": .int(Int(ThisProcess.id)), "parent": .int(Int(ThisProcess.parent)),
      "caught": .int(ChildSignals.caughtCount),
    ]
  }

  /// `files`: a program image started by exec lists the descriptors it was given.
  static let descriptors = LabEntry("descriptors") { _ in
    let me = ThisProcess.id
    var list: [JSON] = []
    for fd in ProcFS.descriptors(of: me) {
      guard let target = ProcFS.descriptorTarget(pid: me, fd: fd) else { continue }
      // The directory handle used to list /proc/self/fd is not something it inherited.
      if target.hasPrefix("/proc/") && target.hasSuffix("/fd") { continue }
      list.append(["fd": .int(Int(fd)), "target": .string(target)])
    }
    return ["pid": .int(Int(me)), "descriptors": .array(list)]
  }

  /// `orphan`: this lab child becomes a subreaper, forks a parent that forks a
  /// grandchild and exits; the grandchild is adopted here, then reaped here.
  static let orphan = LabEntry("orphan") { _ in
    try Subreaper.become()
    let me = ThisProcess.id
    let start = MonotonicClock.nanoseconds()
    let (middle, report) = try Subreaper.orphanChain(timeout: .seconds(5))
    let middleEnd = try Wait.wait4(middle, timeout: .seconds(10))
    let grandEnd = try Wait.wait4(report.grandchild, timeout: .seconds(10))
    let elapsed = MonotonicClock.since(start)
    var result: JSONObject = JSONObject()
    result["subreaper"] = .int(Int(me))
    result["subreaper_parent"] = .int(Int(ThisProcess.parent))
    result["is_subreaper"] = .bool(Subreaper.isSubreaper)
    result["middle"] = .int(Int(middle))
    result["middle_status"] = middleEnd?.status.json ?? .null
    result["grandchild"] = .int(Int(report.grandchild))
    result["parent_before"] = .int(Int(report.parentBefore))
    result["parent_after"] = .int(Int(report.parentAfter))
    result["adopted_after_ms"] = .double(report.waited.milliseconds)
    result["reaped_by"] = grandEnd == nil ? .null : .int(Int(me))
    result["grandchild_status"] = grandEnd?.status.json ?? .null
    result["elapsed_ms"] = .double(elapsed.milliseconds)
    return .object(result)
  }
}
