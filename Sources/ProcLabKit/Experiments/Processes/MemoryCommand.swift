import Glibc

/// `memory [--threads]`: one variable, one address; two processes see two
/// values (separate address spaces), two threads see one.
enum MemoryCommand {
  static let command = Command(
    name: "memory", area: .processes,
    summary: "same address, different values: processes have separate memory, threads share it",
    usage: "memory [--threads]",
    options: [
      .init("--threads", "a thread writes instead of a forked child: the main thread sees the change")
    ],
    examples: ["memory", "memory --threads"]
  ) { args, session in
    try args.expectPositionals(atMost: 0)
    return try args.flag("--threads") ? threads() : processes()
  }

  static let original = 42
  static let written = 99

  static func processes() throws -> Report {
    let me = getpid()
    Fork.Cell.value = original
    let address = Fork.Cell.address
    let parentMapping = ProcFS.mapping(pid: me, containing: address)
    let child = try Fork.memoryChild(newValue: written)
    var released = false
    defer {
      if !released {
        Descriptors.close(child.holdFD)
        Children.killAndReap(child.pid)
      }
    }
    // The child is alive, has written its value, and waits: look at both now.
    let parentNow = Fork.Cell.value
    let childMapping = ProcFS.mapping(pid: child.pid, containing: child.view.address)
    let kernelChild = ProcessMemory.word(pid: child.pid, at: child.view.address)
    let kernelParent = ProcessMemory.word(pid: me, at: address)
    Descriptors.close(child.holdFD)
    released = true
    let end = try Wait.wait4(child.pid, timeout: .seconds(10))
    if end == nil { Children.killAndReap(child.pid) }

    let r = Report()
    let sameAddress = child.view.address == address
    let isolated = parentNow == original && child.view.after == written
    r.line("one variable, in proclab's data segment: \(r.note(parentMapping ?? "mapping not found", .text))")
    var t = Table(["", "PID", "ADDRESS", "READ", "WROTE", "READ AGAIN"], rightAligned: [1, 3, 4, 5])
    t.add([
      "child", r.pid(child.pid), r.addr(child.view.address), String(child.view.before), String(written),
      String(child.view.after),
    ])
    t.add(["parent (this shell)", r.pid(me), r.addr(address), String(original), "-", String(parentNow)])
    r.lines(t.lines)
    r.line("child's mapping at that address: \(r.note(childMapping ?? "not found", .text))")
    if let kernelChild, let kernelParent {
      r.line(
        "checked through /proc/PID/mem: \(r.pid(child.pid)) holds \(kernelChild), \(r.pid(me)) holds \(kernelParent) at \(r.addr(address))"
      )
    }
    r.line("the child \(end.map { "\($0.status)" } ?? "was killed") and was reaped")

    r.fact("address", Units.address(address))
    r.fact("child_address", Units.address(child.view.address))
    r.fact("same_address", sameAddress)
    r.fact("parent_pid", me)
    r.fact("child_pid", child.pid)
    r.fact("child_parent", child.view.parent)
    r.fact("child_before", child.view.before)
    r.fact("child_after", child.view.after)
    r.fact("parent_after", parentNow)
    r.fact("mapping", parentMapping ?? "")
    r.fact("child_mapping", childMapping ?? "")
    if let kernelChild { r.fact("kernel_child_value", kernelChild) }
    if let kernelParent { r.fact("kernel_parent_value", kernelParent) }
    r.fact("isolated", isolated)

    if sameAddress && isolated {
      r.explain(
        "Same virtual address \(Units.address(address)), two values: the child wrote \(written), the parent still reads \(parentNow). Each process has its own address space; the address is only a name inside it.",
        more:
          "After fork the two processes share physical pages read-only (copy-on-write). The child's first write made the kernel copy that one page for the child, so the parent's page kept \(original). Threads of one process have no such separation: try `memory --threads`."
      )
    } else {
      r.explain(
        "Surprise: address \(sameAddress ? "matched" : "differed") and the parent read \(parentNow) after the child wrote \(child.view.after); processes are expected to be isolated."
      )
    }
    return r
  }

  static func threads() throws -> Report {
    let me = getpid()
    let mainTID = ProcessMemory.currentThread
    Fork.Cell.value = original
    let address = Fork.Cell.address
    let mapping = ProcFS.mapping(pid: me, containing: address)
    let view = try Fork.memoryThread(newValue: written)
    let mainNow = Fork.Cell.value

    let r = Report()
    r.line("one variable, in proclab's data segment: \(r.note(mapping ?? "mapping not found", .text))")
    var t = Table(
      ["", "PID", "TID", "ADDRESS", "READ", "WROTE", "READ AGAIN"], rightAligned: [1, 2, 4, 5, 6])
    t.add([
      "new thread", r.pid(view.pid), r.tid(view.tid), r.addr(view.address), String(view.before),
      String(written),
      String(view.after),
    ])
    t.add(["main thread", r.pid(me), r.tid(mainTID), r.addr(address), String(original), "-", String(mainNow)])
    r.lines(t.lines)
    r.line(
      "the thread was joined (pthread_join): \(Units.plural(ProcFS.threads(of: me).count, "thread")) left in this process"
    )
    let shared = mainNow == written && view.address == address
    r.fact("address", Units.address(address))
    r.fact("thread_address", Units.address(view.address))
    r.fact("pid", me)
    r.fact("thread_pid", view.pid)
    r.fact("main_tid", mainTID)
    r.fact("thread_tid", view.tid)
    r.fact("thread_before", view.before)
    r.fact("thread_after", view.after)
    r.fact("main_after", mainNow)
    r.fact("mapping", mapping ?? "")
    r.fact("shared", shared)
    if shared {
      r.explain(
        "One process (PID \(me)), two threads (TIDs \(mainTID) and \(view.tid)): the thread wrote \(written) at \(Units.address(address)) and the main thread reads \(mainNow) there. Threads share one address space.",
        more:
          "That sharing is why threads are cheap to create (no memory to copy) and why they need locks when they write the same data: compare `memory`, where a forked child's write stayed in the child."
      )
    } else {
      r.explain("Surprise: the main thread read \(mainNow) after the thread wrote \(view.after).")
    }
    return r
  }
}
