import Glibc

/// `memory [--threads]`: one variable, one address; two processes see two
/// values (separate address spaces), two threads see one.
enum MemoryCommand {
  struct Options: CommandOptions {
    var threads = false
    static var declarations: [OptionDeclaration<Self>] {
      [
        .flag(
          "--threads", \.threads, "a thread writes instead of a forked child: the main thread sees the change"
        )
      ]
    }
  }

  static let command = Command(
    name: "memory", area: .processes,
    summary: "same address, different values: processes have separate memory, threads share it",
    examples: ["memory", "memory --threads"], options: Options.self
  ) { options, session in options.threads ? try threads() : try processes() }

  static let original = 42
  static let written = 99

  static func processes() throws -> Report {
    let me = ThisProcess.id
    Fork.Cell.value = original
    let address = Fork.Cell.address
    let parentMapping = ProcFS.mapping(pid: me, containing: address)
    let child = try Fork.memoryChild(newValue: written)
    var reaped = false
    defer {
      if !reaped {
        child.release()
        Children.killAndReap(child.pid)
      }
    }
    // Before the child writes: which physical page does each process use? (root only)
    let framesBefore = (
      ProcessMemory.frame(pid: me, at: address), ProcessMemory.frame(pid: child.pid, at: address)
    )
    let view = try child.write()
    // The child has written and waits: look at both now.
    let parentNow = Fork.Cell.value
    let framesAfter = (
      ProcessMemory.frame(pid: me, at: address), ProcessMemory.frame(pid: child.pid, at: address)
    )
    let childMapping = ProcFS.mapping(pid: child.pid, containing: view.address)
    let kernelChild = ProcessMemory.word(pid: child.pid, at: view.address)
    let kernelParent = ProcessMemory.word(pid: me, at: address)
    child.release()
    let end = try Wait.wait4(child.pid, timeout: .seconds(10))
    if end == nil { Children.killAndReap(child.pid) }
    reaped = true

    let r = Report()
    let sameAddress = view.address == address
    let isolated = parentNow == original && view.after == written
    r.line("one variable, in proclab's data segment: \(r.note(parentMapping ?? "mapping not found", .text))")
    var t = Table(["", "PID", "ADDRESS", "READ", "WROTE", "READ AGAIN"], rightAligned: [1, 3, 4, 5])
    t.add([
      "child", r.pid(child.pid), r.addr(view.address), String(child.first.before), String(written),
      String(view.after),
    ])
    t.add(["parent (this shell)", r.pid(me), r.addr(address), String(original), "-", String(parentNow)])
    r.table(t)
    r.line("child's mapping at that address: \(r.note(childMapping ?? "not found", .text))")
    if let kernelChild, let kernelParent {
      r.line(
        "checked through /proc/PID/mem: \(r.pid(child.pid)) holds \(kernelChild), \(r.pid(me)) holds \(kernelParent) at \(r.addr(address))"
      )
    }
    var copyOnWrite: Bool? = nil
    if let pb = framesBefore.0, let cb = framesBefore.1, let pa = framesAfter.0, let ca = framesAfter.1 {
      copyOnWrite = pb == cb && ca != pa
      r.line(
        "physical page (/proc/PID/pagemap): before the write parent \(r.count(Int(pb))), child \(r.count(Int(cb)))\(pb == cb ? " (shared)" : ""); after it parent \(r.count(Int(pa))), child \(r.count(Int(ca)))\(ca != pa ? " (copied)" : "")"
      )
      r.fact("frames_before", [Int(pb), Int(cb)])
      r.fact("frames_after", [Int(pa), Int(ca)])
      r.fact("copy_on_write_seen", pb == cb && ca != pa)
    }
    r.line("the child \(end.map { "\($0.status)" } ?? "was killed") and was reaped")

    r.fact("address", Units.address(address))
    r.fact("child_address", Units.address(view.address))
    r.fact("same_address", sameAddress)
    r.fact("parent_pid", me)
    r.fact("child_pid", child.pid)
    r.fact("child_parent", view.parent)
    r.fact("child_before", child.first.before)
    r.fact("child_after", view.after)
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
      switch copyOnWrite {
      case true?:
        r.explain(
          "The page frames prove it: until the write both used frame \(framesBefore.0!); the write gave the child its own copy (\(framesAfter.1!))."
        )
      case false?:
        r.explain(
          "Surprise in the page frames: expected one shared frame before the write and two after; saw \(framesBefore.0!)/\(framesBefore.1!) then \(framesAfter.0!)/\(framesAfter.1!)."
        )
      case nil:
        r.explainMore(
          "The physical frame numbers are hidden here (/proc/PID/pagemap shows them only to CAP_SYS_ADMIN).")
      }
    } else {
      r.explain(
        "Surprise: address \(sameAddress ? "matched" : "differed") and the parent read \(parentNow) after the child wrote \(view.after); processes are expected to be isolated."
      )
    }
    return r
  }

  static func threads() throws -> Report {
    let me = ThisProcess.id
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
    r.table(t)
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
