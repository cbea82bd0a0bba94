import Foundation
import Glibc

/// The child side of `crash`: a lab child that gets ready, says so, waits for
/// the shell's go signal (SIGUSR1, taken with sigtimedwait) and then ends the
/// way it was asked to. Siblings just wait to be killed.
enum CrashLab {
  /// The signal the shell sends to say "crash now".
  static let goSignal = SIGUSR1
  /// How long a child waits for the go signal (or for SIGKILL) before giving up.
  static let patience: Duration = .seconds(60)
  /// Stack of each worker thread: small, so `stack --in-thread` overflows quickly.
  static let threadStackBytes = 1 << 20
  /// The main thread's stack is capped at this when RLIMIT_STACK is larger or unlimited.
  static let mainStackCap: UInt64 = 8 << 20
  /// Room left above what the child already uses when `oom` lowers RLIMIT_AS.
  static let memoryHeadroom = 64 << 20
  static let oomBlock = 1 << 20

  struct Request {
    var kind: CrashKind
    var exitCode: Int32
    var threads: Int
    var coreDirectory: String?
    var coreBytes: UInt64
    var scratch: String

    var json: JSON {
      [
        "kind": .string(kind.rawValue), "code": .int(Int(exitCode)), "threads": .int(threads),
        "core_dir": coreDirectory.map { .string($0) } ?? .null, "core_bytes": .int(Int(coreBytes)),
        "scratch": .string(scratch),
      ]
    }

    init(
      kind: CrashKind, exitCode: Int32, threads: Int, coreDirectory: String?, coreBytes: UInt64,
      scratch: String
    ) {
      self.kind = kind
      self.exitCode = exitCode
      self.threads = threads
      self.coreDirectory = coreDirectory
      self.coreBytes = coreBytes
      self.scratch = scratch
    }

    init?(json: JSON) {
      guard let kind = json["kind"]?.stringValue.flatMap(CrashKind.init(rawValue:)) else { return nil }
      self.init(
        kind: kind, exitCode: Int32(json["code"]?.intValue ?? 0), threads: json["threads"]?.intValue ?? 0,
        coreDirectory: json["core_dir"]?.stringValue, coreBytes: UInt64(json["core_bytes"]?.intValue ?? 0),
        scratch: json["scratch"]?.stringValue ?? "/tmp")
    }
  }

  static let entry = LabEntry("crash") { json in
    guard let request = Request(json: json) else { throw LabFailure("crash: bad request \(json.serialized)") }
    let me = getpid()
    // Block the go signal first: the threads made below inherit the mask, so
    // only sigtimedwait ever takes it.
    Faults.block(signal: goSignal)

    var ready = JSONObject()
    ready["pid"] = .int(Int(me))
    // Core dumps: report the limit the kernel will check, after lab mode set it to 0.
    if let dir = request.coreDirectory {
      try ScratchDirectory.enter(dir)
      do {
        try CoreDumps.allow(bytes: request.coreBytes)
        ready["core_raise"] = "ok"
      } catch let e as SystemError {
        ready["core_raise"] = .string(e.name)
      }
    }
    ready["core_limit"] = CoreDumps.limit().json

    switch request.kind {
    case .stack:
      let soft = ResourceLimits.soft(ResourceLimits.stack)
      if soft > mainStackCap { ResourceLimits.lower(ResourceLimits.stack, to: mainStackCap) }
      ready["stack_limit"] = .int(Int(clamping: ResourceLimits.soft(ResourceLimits.stack)))
    case .oom:
      let used = (ProcFS.status(me, field: "VmSize")?.split(separator: " ").first).flatMap { Int($0) } ?? 0
      let limit = UInt64(used * 1024 + memoryHeadroom)
      ResourceLimits.lower(ResourceLimits.addressSpace, to: limit)
      ready["address_space_used"] = .int(used * 1024)
      ready["address_space_limit"] = .int(Int(clamping: ResourceLimits.soft(ResourceLimits.addressSpace)))
    default: break
    }

    var workers: [Int32] = []
    if request.threads > 0 {
      workers = Faults.startThreads(count: request.threads, stackBytes: threadStackBytes)
      guard workers.count == request.threads else {
        throw LabFailure("crash: only \(workers.count) of \(request.threads) threads started")
      }
      ready["workers"] = .array(workers.map { .int(Int($0)) })
      ready["crasher"] = .int(Int(workers[0]))
      ready["thread_stack"] = .int(threadStackBytes)
    }
    // Every thread of this process, as the kernel lists them.
    ready["tids"] = .array(ProcFS.threads(of: me).map { .int(Int($0)) })
    // Said before announcing: the shell's SIGKILL may follow the announcement at once.
    if request.kind == .kill { say("pid \(me) is ready and waits; only the shell's SIGKILL will end it") }
    // The child will not live to send its trace with a result: send it now.
    if Trace.isEnabled { ready["trace"] = .array(Trace.drain().map(\.json)) }
    LabChild.announce(.object(ready))

    if request.kind == .kill {
      _ = Faults.wait(signal: goSignal, timeout: patience)
      throw LabFailure("crash: nobody killed this child within \(Units.duration(patience))")
    }
    guard Faults.wait(signal: goSignal, timeout: patience) else {
      throw LabFailure("crash: no go signal within \(Units.duration(patience))")
    }

    if request.kind == .oom {
      let (blocks, error) = Faults.exhaustMemory(block: oomBlock, maxBlocks: 1 << 16)
      LabChild.announce([
        "oom": [
          "blocks": .int(blocks), "block": .int(oomBlock), "errno": .string(SystemError.name(of: error)),
        ]
      ])
      say(
        "malloc(\(Units.bytes(oomBlock))) returned \(error == 0 ? "memory every time" : "NULL (\(SystemError.name(of: error)))") after \(blocks) blocks"
      )
      _ = Faults.trigger(.exit, exitCode: CrashKind.outOfMemoryStatus, directory: request.scratch)
    }

    guard let fault = request.kind.fault else { throw LabFailure("crash: \(request.kind) is not a fault") }
    let step = request.threads > 0 ? threadStackBytes / 4 : Int(mainStackCap / 8)
    let survived: (value: Int, errno: Int32)
    if request.threads > 0 {
      survived = (
        Faults.triggerInThread(
          0, fault, exitCode: request.exitCode, directory: request.scratch, reportEvery: step), 0
      )
    } else {
      survived = Faults.trigger(
        fault, exitCode: request.exitCode, directory: request.scratch, reportEvery: step)
    }
    // Still here: the fault did not happen (a CPU that does not trap, a failed setup).
    return [
      "survived": true, "value": .int(survived.value),
      "errno": survived.errno == 0 ? .null : .string(SystemError.name(of: survived.errno)),
    ]
  }

  /// A bystander: says it is running, then waits until the shell kills it.
  static let sibling = LabEntry("crash-sibling") { _ in
    Faults.block(signal: goSignal)
    LabChild.announce(["pid": .int(Int(getpid()))])
    _ = Faults.wait(signal: goSignal, timeout: .seconds(120))
    return ["pid": .int(Int(getpid()))]
  }

  /// One line on standard error: what the child says last.
  static func say(_ line: String) { Output.err("crash [tid \(getpid())]: \(line)\n") }
}

/// An experiment that could not do what it was asked (reported as the lab child's error).
struct LabFailure: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}
