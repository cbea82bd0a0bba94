/// The OS work of `condvar`: the bounded buffer runs in a lab child, because a
/// faulty variant can leave every thread asleep for ever; the child's own
/// watchdog reports at the timeout, and the shell kills it if even that fails.
enum CondvarExperiment {
  struct Run {
    var labPID: Int32
    var result: JSON
  }

  static func run(_ o: CondvarCommand.Options) throws -> Run {
    let request: JSON = [
      "producers": .int(o.producers), "consumers": .int(o.consumers), "capacity": .int(o.capacity),
      "items": .int(o.items), "variant": .int(Int(o.variant.rawValue)), "cvs": .int(o.conditionVariables),
      "broadcast": .bool(o.broadcast), "timeout_ms": .int(o.timeout),
    ]
    let run = try Lab.run(entry.name, request, timeout: .milliseconds(o.timeout + 10_000))
    guard let res = run.result, run.status == .exited(0) else {
      let why =
        run.timedOut ? "did not answer within \(o.timeout + 10_000) ms and was killed" : "\(run.status)"
      throw UsageError(
        "condvar: the lab child \(run.pid) \(why); its last words: \(run.lastOutput.joined(separator: " / "))"
      )
    }
    return Run(labPID: run.pid, result: res)
  }

  /// The lab side: runs the buffer and reports the counts.
  static let entry = LabEntry("sync.condvar") { request in
    let res = try SyncPrimitives.boundedBuffer(
      producers: request["producers"]?.intValue ?? 2, consumers: request["consumers"]?.intValue ?? 3,
      capacity: request["capacity"]?.intValue ?? 4, items: request["items"]?.intValue ?? 1000,
      variant: BufferVariant(rawValue: Int32(request["variant"]?.intValue ?? 0)) ?? .correct,
      conditionVariables: request["cvs"]?.intValue ?? 2, broadcast: request["broadcast"]?.boolValue ?? false,
      timeout: .milliseconds(request["timeout_ms"]?.intValue ?? 2000))
    return [
      "produced": .int(res.produced), "consumed": .int(res.consumed), "duplicates": .int(res.duplicates),
      "missing": .int(res.missing), "underflows": .int(res.underflows), "hung": .bool(res.hung),
      "producer_waits": .int(res.producerWaits), "consumer_waits": .int(res.consumerWaits),
      "producer_wakeups": .int(res.producerWakeups), "consumer_wakeups": .int(res.consumerWakeups),
      "empty_wakeups": .int(res.emptyWakeups), "full_wakeups": .int(res.fullWakeups),
      "max_count": .int(res.maxCount), "min_count": .int(res.minCount),
      "elapsed_ns": .int(Int(res.elapsed)), "finished_workers": .int(res.finishedWorkers),
      "workers": .array(
        res.workers.map {
          [
            "tid": .int(Int($0.tid)), "consumer": .bool($0.consumer), "handled": .int($0.handled),
            "waits": .int($0.waits), "wakeups": .int($0.wakeups), "empty_wakeups": .int($0.emptyWakeups),
          ] as JSON
        }),
    ]
  }
}
