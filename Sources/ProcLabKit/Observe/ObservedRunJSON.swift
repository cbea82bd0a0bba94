/// An observed run travels from the lab child that traced it to the shell as
/// JSON, and the same names are `observe --json`'s facts.
extension ObservedRun {
  public var json: JSON {
    var o = JSONObject()
    o["program"] = .array(program.map(JSON.string))
    o["observer"] = .int(Int(observer))
    o["root"] = .int(Int(root))
    o["duration_ns"] = .int(Int(duration))
    o["processes"] = .array(processes.map(\.json))
    o["threads"] = .array(threads.map(\.json))
    o["calls"] = .object(Self.counts(calls))
    o["total_calls"] = .int(totalCalls)
    o["signals"] = .array(signals.map(\.json))
    o["pipes"] = .array(pipes.map(\.json))
    o["redirections"] = .array(redirections.map(\.json))
    o["leaked_descriptors"] = .array(
      processes.flatMap { p in p.openAtExit.map { d in d.json(pid: p.pid) } })
    o["log"] = .array(log.map(\.json))
    o["log_dropped"] = .int(logDropped)
    o["output"] = .array(output.map { ["stream": .int(Int($0.stream)), "text": .string($0.text)] })
    o["output_dropped"] = .int(outputDropped)
    o["timed_out"] = .bool(timedOut)
    o["limit_reached"] = .bool(limitReached)
    o["interrupted"] = .bool(interrupted)
    o["start_error"] = startError.map(JSON.string) ?? .null
    return .object(o)
  }

  public init?(json j: JSON) {
    guard let root = j["root"]?.intValue else { return nil }
    self.init()
    program = (j["program"]?.arrayValue ?? []).compactMap(\.stringValue)
    observer = Int32(j["observer"]?.intValue ?? 0)
    self.root = Int32(root)
    duration = UInt64(j["duration_ns"]?.intValue ?? 0)
    processes = (j["processes"]?.arrayValue ?? []).compactMap(ObservedProcess.init(json:))
    threads = (j["threads"]?.arrayValue ?? []).compactMap(ObservedThread.init(json:))
    calls = Self.counts(j["calls"])
    totalCalls = j["total_calls"]?.intValue ?? 0
    signals = (j["signals"]?.arrayValue ?? []).compactMap(ObservedSignal.init(json:))
    pipes = (j["pipes"]?.arrayValue ?? []).compactMap(ObservedPipe.init(json:))
    redirections = (j["redirections"]?.arrayValue ?? []).compactMap(Redirection.init(json:))
    log = (j["log"]?.arrayValue ?? []).compactMap(ObservedCall.init(json:))
    logDropped = j["log_dropped"]?.intValue ?? 0
    output = (j["output"]?.arrayValue ?? []).compactMap { c in
      c["text"]?.stringValue.map { OutputChunk(stream: Int32(c["stream"]?.intValue ?? 1), text: $0) }
    }
    outputDropped = j["output_dropped"]?.intValue ?? 0
    timedOut = j["timed_out"]?.boolValue ?? false
    limitReached = j["limit_reached"]?.boolValue ?? false
    interrupted = j["interrupted"]?.boolValue ?? false
    startError = j["start_error"]?.stringValue
  }

  static func counts(_ d: [String: Int]) -> JSONObject {
    var o = JSONObject()
    for (k, v) in d.sorted(by: { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }) {
      o[k] = .int(v)
    }
    return o
  }

  static func counts(_ j: JSON?) -> [String: Int] {
    guard case .object(let o)? = j else { return [:] }
    var d: [String: Int] = [:]
    for f in o.fields { d[f.key] = f.value.intValue ?? 0 }
    return d
  }
}

private func int32(_ j: JSON?) -> Int32? { j?.intValue.map { Int32(truncatingIfNeeded: $0) } }
private func uint64(_ j: JSON?) -> UInt64? { j?.intValue.map { UInt64(max(0, $0)) } }
private func optional(_ v: (some JSONRepresentable)?) -> JSON { v?.json ?? .null }

extension ObservedProcess {
  /// Only what is there: a run of thousands of processes travels from the tracer as JSON.
  var json: JSON {
    var o = JSONObject()
    o["pid"] = .int(Int(pid))
    o["ppid"] = .int(Int(parent))
    o["created_by"] = .string(createdBy)
    o["created_ns"] = .int(Int(createdAt))
    if cloneFlags != 0 { o["clone_flags"] = .int(Int(cloneFlags)) }
    if !execs.isEmpty {
      o["exec"] = .array(
        execs.map {
          ["ns": .int(Int($0.at)), "path": .string($0.path), "argv": .array($0.argv.map(JSON.string))]
        })
    }
    if let exit { o["exit"] = exit.json }
    if let exitedAt { o["exited_ns"] = exitedAt.json }
    if let reapedBy { o["reaped_by"] = reapedBy.json }
    if let reapedAt { o["reaped_ns"] = reapedAt.json }
    if let parentAtExit { o["parent_at_exit"] = parentAtExit.json }
    if let orphanedAt { o["orphaned_ns"] = orphanedAt.json }
    if !openAtExit.isEmpty { o["open_at_exit"] = .array(openAtExit.map { $0.json(pid: pid) }) }
    o["calls"] = .object(ObservedRun.counts(calls))
    if let faultAddress { o["fault_address"] = .string(Units.address(UInt(faultAddress))) }
    if mappedBytes != 0 { o["mapped_bytes"] = .int(mappedBytes) }
    if !sharedMappings.isEmpty { o["shared_mappings"] = .array(sharedMappings.map { .int(Int($0)) }) }
    if heapGrowth != 0 { o["heap_growth"] = .int(heapGrowth) }
    if !handlers.isEmpty { o["handlers"] = .array(handlers.map { .string(Signals.name($0)) }) }
    if startupCalls != 0 { o["startup_calls"] = .int(startupCalls) }
    return .object(o)
  }

  init?(json j: JSON) {
    guard let pid = int32(j["pid"]) else { return nil }
    self.init(
      pid: pid, parent: int32(j["ppid"]) ?? 0, createdBy: j["created_by"]?.stringValue ?? "",
      createdAt: uint64(j["created_ns"]) ?? 0)
    cloneFlags = uint64(j["clone_flags"]) ?? 0
    execs = (j["exec"]?.arrayValue ?? []).map {
      Exec(
        at: uint64($0["ns"]) ?? 0, path: $0["path"]?.stringValue ?? "",
        argv: ($0["argv"]?.arrayValue ?? []).compactMap(\.stringValue))
    }
    exit = TerminationStatus(json: j["exit"])
    exitedAt = uint64(j["exited_ns"])
    reapedBy = int32(j["reaped_by"])
    reapedAt = uint64(j["reaped_ns"])
    parentAtExit = int32(j["parent_at_exit"])
    orphanedAt = uint64(j["orphaned_ns"])
    openAtExit = (j["open_at_exit"]?.arrayValue ?? []).compactMap(OpenDescriptor.init(json:))
    calls = ObservedRun.counts(j["calls"])
    faultAddress = j["fault_address"]?.stringValue.flatMap { UInt64($0.dropFirst(2), radix: 16) }
    mappedBytes = j["mapped_bytes"]?.intValue ?? 0
    sharedMappings = (j["shared_mappings"]?.arrayValue ?? []).compactMap { uint64($0) }
    heapGrowth = j["heap_growth"]?.intValue ?? 0
    handlers = (j["handlers"]?.arrayValue ?? []).compactMap { $0.stringValue.flatMap(Signals.parse) }
    startupCalls = j["startup_calls"]?.intValue ?? 0
  }
}

extension OpenDescriptor {
  func json(pid: Int32) -> JSON {
    [
      "pid": .int(Int(pid)), "fd": .int(Int(fd)), "target": .string(target), "origin": .string(origin),
      "opened_ns": .int(Int(openedAt)),
    ]
  }
  init?(json j: JSON) {
    guard let fd = int32(j["fd"]) else { return nil }
    self.init(
      fd: fd, target: j["target"]?.stringValue ?? "", origin: j["origin"]?.stringValue ?? "",
      openedAt: uint64(j["opened_ns"]) ?? 0)
  }
}

extension ObservedThread {
  var json: JSON {
    [
      "tid": .int(Int(tid)), "pid": .int(Int(pid)), "main": .bool(isMain), "created_by": .int(Int(createdBy)),
      "created_ns": .int(Int(createdAt)), "ended_ns": optional(endedAt), "calls": .int(calls),
      "futex_waits": .int(futexWaits), "futex_waited_ns": .int(Int(futexWaited)),
      "longest_wait_ns": .int(Int(longestWait)), "futex_wakes": .int(futexWakes),
      "ended_on_its_own": .bool(endedOnItsOwn),
    ]
  }
  init?(json j: JSON) {
    guard let tid = int32(j["tid"]) else { return nil }
    self.init(
      tid: tid, pid: int32(j["pid"]) ?? tid, createdBy: int32(j["created_by"]) ?? 0,
      createdAt: uint64(j["created_ns"]) ?? 0)
    endedAt = uint64(j["ended_ns"])
    calls = j["calls"]?.intValue ?? 0
    futexWaits = j["futex_waits"]?.intValue ?? 0
    futexWaited = uint64(j["futex_waited_ns"]) ?? 0
    longestWait = uint64(j["longest_wait_ns"]) ?? 0
    futexWakes = j["futex_wakes"]?.intValue ?? 0
    endedOnItsOwn = j["ended_on_its_own"]?.boolValue ?? false
  }
}

extension ObservedSignal {
  var json: JSON {
    [
      "ns": .int(Int(at)), "signal": .string(Signals.name(signal)), "number": .int(Int(signal)),
      "pid": .int(Int(pid)), "tid": .int(Int(tid)), "sender": optional(sender),
      "fault_address": faultAddress.map { .string(Units.address(UInt($0))) } ?? .null,
      "code": .int(Int(code)), "only_because_traced": .bool(onlyBecauseTraced),
    ]
  }
  init?(json j: JSON) {
    guard let sig = int32(j["number"]), let pid = int32(j["pid"]) else { return nil }
    defer {
      code = int32(j["code"]) ?? 0
      onlyBecauseTraced = j["only_because_traced"]?.boolValue ?? false
    }
    self.init(
      at: uint64(j["ns"]) ?? 0, signal: sig, pid: pid, tid: int32(j["tid"]) ?? pid,
      sender: int32(j["sender"]),
      faultAddress: j["fault_address"]?.stringValue.flatMap { UInt64($0.dropFirst(2), radix: 16) })
  }
}

extension ObservedPipe {
  var json: JSON {
    [
      "id": .int(id), "created_by": .int(Int(createdBy)), "created_ns": .int(Int(createdAt)),
      "uses": .array(
        uses.map {
          [
            "pid": .int(Int($0.pid)), "wrote": .int($0.wrote), "writes": .int($0.writes),
            "read": .int($0.read),
            "reads": .int($0.reads), "saw_eof": .bool($0.sawEndOfFile),
            "closed_write_ns": optional($0.closedWrite),
            "closed_read_ns": optional($0.closedRead),
          ]
        }),
    ]
  }
  init?(json j: JSON) {
    guard let id = j["id"]?.intValue else { return nil }
    self.init(id: id, createdBy: int32(j["created_by"]) ?? 0, createdAt: uint64(j["created_ns"]) ?? 0)
    uses = (j["uses"]?.arrayValue ?? []).compactMap { u in
      guard let pid = int32(u["pid"]) else { return nil }
      var use = Use(pid: pid)
      use.wrote = u["wrote"]?.intValue ?? 0
      use.writes = u["writes"]?.intValue ?? 0
      use.read = u["read"]?.intValue ?? 0
      use.reads = u["reads"]?.intValue ?? 0
      use.sawEndOfFile = u["saw_eof"]?.boolValue ?? false
      use.closedWrite = uint64(u["closed_write_ns"])
      use.closedRead = uint64(u["closed_read_ns"])
      return use
    }
  }
}

extension Redirection {
  var json: JSON {
    [
      "ns": .int(Int(at)), "pid": .int(Int(pid)), "fd": .int(Int(fd)), "target": .string(target),
      "pipe": optional(pipe), "pipe_write_end": .bool(pipeWriteEnd),
    ]
  }
  init?(json j: JSON) {
    guard let pid = int32(j["pid"]), let fd = int32(j["fd"]) else { return nil }
    self.init(
      at: uint64(j["ns"]) ?? 0, pid: pid, fd: fd, target: j["target"]?.stringValue ?? "",
      pipe: j["pipe"]?.intValue,
      pipeWriteEnd: j["pipe_write_end"]?.boolValue ?? false)
  }
}

extension ObservedCall {
  var json: JSON {
    [
      "ns": .int(Int(at)), "duration_ns": .int(Int(duration)), "pid": .int(Int(pid)), "tid": .int(Int(tid)),
      "call": .string(name), "text": .string(text),
    ]
  }
  init?(json j: JSON) {
    guard let pid = int32(j["pid"]), let name = j["call"]?.stringValue else { return nil }
    self.init(
      at: uint64(j["ns"]) ?? 0, duration: uint64(j["duration_ns"]) ?? 0, pid: pid,
      tid: int32(j["tid"]) ?? pid,
      name: name, text: j["text"]?.stringValue ?? "")
  }
}
