import Glibc

/// `mq`: a POSIX message queue whose messages leave in priority order.
enum MqCommand {
  static let priorities = [2, 9, 0, 5, 5, 1]

  static let command = Command(
    name: "mq", area: .ipc,
    summary:
      "a POSIX message queue (mq_open): a child sends messages with priorities, they leave highest first",
    examples: ["mq"]
  ) { _ in
    let m: MessageQueueResult
    do {
      m = try IPCMessageQueue.priorities(priorities)
    } catch let e as SystemError
      where e.call == "mq_open" && [ENOSYS, EACCES, EPERM, ENOSPC, EMFILE].contains(e.errno)
    {
      throw UsageError(
        "mq: this kernel refused a POSIX message queue (mq_open: \(e.name), \(e.message)); it needs CONFIG_POSIX_MQUEUE and a free queue slot"
      )
    }
    let r = Report()
    r.line(
      "mq_open(\(r.note(m.name, .word)), O_CREAT|O_EXCL): child \(r.pid(m.child)) sent \(m.sentPriorities.count) messages, then \(m.status)"
    )
    r.line("  sent in this order, priorities: " + m.sentPriorities.map(String.init).joined(separator: ", "))
    r.line(
      // The sender ended after its last mq_send: every message is still queued, every run.
      "  queued after the sender ended: \(m.queued) messages (the queue, not the process, holds them)"
    )
    r.line("  the shell received, in this order:")
    for (i, msg) in m.received.enumerated() {
      r.line("    \(i + 1). priority \(msg.priority)  \"\(msg.text)\"")
    }
    let order = m.received.map(\.priority)
    let sortedOrder = order == order.sorted(by: >)
    r.line("  mq_unlink done" + (m.nameLeft ? " — BUT THE QUEUE IS STILL THERE" : "; the queue is gone"))
    r.fact("mechanism", "message queue")
    r.fact("name", m.name)
    r.fact("child", m.child)
    r.fact("sent_priorities", m.sentPriorities)
    r.fact("queued", m.queued)
    r.fact("received_priorities", order)
    r.fact("received_texts", m.received.map(\.text))
    r.fact("priority_order", sortedOrder)
    r.fact("name_left", m.nameLeft)
    r.fact("child_status", m.status.json)
    let fifoAmongEqual: Bool = {
      let fives = m.received.filter { $0.priority == 5 }.map(\.text)
      return fives == fives.sorted()
    }()
    r.explain(
      (sortedOrder
        ? "The messages left highest priority first (\(order.map(String.init).joined(separator: ", "))), not in the order sent"
        : "The messages did NOT leave in priority order (\(order)) — unexpected")
        + (fifoAmongEqual ? ", and the two of equal priority kept their order. " : ". ")
        + "Each message stayed whole, and all \(m.queued) waited in the kernel after their sender had ended.",
      more:
        "A message queue keeps message boundaries like a datagram socket, adds priorities, and has a name "
        + "(/dev/mqueue when mounted), so unrelated processes can use it. Its limits are small by default "
        + "(/proc/sys/fs/mqueue: msg_max 10, msgsize_max 8192), and it must be mq_unlink()ed or it outlives everyone."
    )
    return r
  }
}
