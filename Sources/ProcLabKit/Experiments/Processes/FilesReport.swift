/// Turns what `files` observed into lines, facts and an explanation.
enum FilesReport {
  /// `notes.txt`, `pipe:[1234]`: the last part of a descriptor's target.
  static func name(_ target: String) -> String {
    target.hasPrefix("/") ? String(target.split(separator: "/").last ?? "") : target
  }

  /// A file's bytes on one line: newlines as `\n`, other control characters escaped.
  static func shown(_ content: String) -> String {
    "\"" + Printable.word(content.replacing("\n", with: "\\n")) + "\""
  }

  static func timeline(_ t: FilesExperiment.Timeline) -> Report {
    let r = Report()
    r.line(
      "one process, \(r.pid(t.child)), from fork to execve: its descriptors as /proc/\(r.pid(t.child))/fd and fdinfo showed them"
    )
    // The descriptors this experiment made, as the child had them after fork (not those
    // the shell itself inherited from whoever started it).
    let fds = t.childAfterFork.keys.filter { $0 > 2 && !t.before.contains($0) }.sorted()
    var table = Table(
      ["FD", "WHAT", "CLOEXEC", "IN PARENT", "after fork", "close(\(t.closed))", "execve"],
      rightAligned: [0])
    var facts: [JSON] = []
    var survived: [Int32] = []
    var closedByExec: [Int32] = []
    for fd in fds {
      guard let info = t.childAfterFork[fd] else { continue }
      let inParent = t.parentAfterFork[fd]?.target == info.target
      let afterClose = t.childAfterClose[fd]?.target == info.target
      let exec = t.afterExec[fd] == info.target
      if exec { survived.append(fd) } else if afterClose { closedByExec.append(fd) }
      let execText = !afterClose ? "-" : exec ? "open" : "closed"
      table.add([
        r.count(Int(fd)), t.pipeEnds[fd] ?? r.note(name(info.target), .text),
        info.closeOnExec ? "yes" : "no",
        inParent ? "same" : "closed there", "open", afterClose ? "open" : "closed", execText,
      ])
      facts.append([
        "fd": .int(Int(fd)), "target": .string(info.target), "cloexec": .bool(info.closeOnExec),
        "in_parent": .bool(inParent), "after_close": .bool(afterClose), "after_exec": .bool(exec),
      ])
    }
    r.table(table)
    let samePID = t.execPID == t.child
    let positions =
      t.parentOffset == t.childOffset
      ? "pos \(t.parentOffset) in both"
      : "pos \(t.parentOffset) and \(t.childOffset)"
    r.line(
      "shared offset: parent wrote \(FilesExperiment.parentLine.utf8.count) B, child 6 B through fd \(t.closed); \(positions) (fdinfo)"
    )
    r.line(
      "after close(\(t.closed)) in the child, the parent wrote \(FilesExperiment.parentAgain.utf8.count) B more; notes.txt: \(shown(t.content))"
    )
    let found = t.afterExec.keys.filter { $0 <= 2 || !t.before.contains($0) }.sorted().map(String.init)
    r.line(
      "execve: \(samePID ? "still" : "not") PID \(t.execPID.map { r.pid($0) } ?? "?"), now a fresh proclab; it found fds \(found.joined(separator: ", ")) and \(t.execStatus.map { "\($0)" } ?? "was killed")"
    )
    r.fact("parent", t.parent)
    r.fact("child", t.child)
    r.fact("exec_pid", t.execPID.map { JSON.int(Int($0)) } ?? .null)
    r.fact("same_process_after_exec", samePID)
    r.fact("descriptors", JSON.array(facts))
    r.fact(
      "shared_offset",
      ["parent": .int(t.parentOffset), "child": .int(t.childOffset), "lseek": .int(t.lseekOffset)] as JSON)
    r.fact("content", t.content)
    r.fact("survived_exec", survived.map(Int.init))
    r.fact("closed_at_exec", closedByExec.map(Int.init))
    r.fact("exec_status", t.execStatus?.json ?? .null)

    let inherited = fds.filter { t.parentAfterFork[$0]?.target == t.childAfterFork[$0]?.target }.count
    r.explain(
      "fork copied the descriptor table: child \(t.child) had the parent's descriptors under the same numbers (\(inherited) of them still open in the parent too), each pointing at the same open file description. So the offset is shared: after the parent's \(FilesExperiment.parentLine.utf8.count) bytes and the child's 6, both saw position \(t.parentOffset). Closing fd \(t.closed) in the child removed only the child's entry; the parent kept writing through its own.",
      more:
        "execve replaced the program in the same process (PID \(t.child) before and after; just before it, the child made the report pipe its standard output, fd 1) and kept its descriptor table, except the descriptors marked close-on-exec (O_CLOEXEC, flags in /proc/PID/fdinfo): the kernel closed \(closedByExec.map(String.init).joined(separator: ", ")) and kept \(survived.map(String.init).joined(separator: ", ")). That is why proclab opens everything with O_CLOEXEC: programs it starts get only what they are meant to. Try `files --offset` to see what two separate opens of one file do instead."
    )
    if t.parentOffset != t.childOffset {
      r.explain("Surprise: parent and child saw different offsets (\(t.parentOffset) and \(t.childOffset)).")
    }
    if !samePID { r.explain("Surprise: the program after execve reported another PID.") }
    return r
  }

  static func offsets(_ o: FilesExperiment.Offsets) -> Report {
    let r = Report()
    r.line(
      "shared.txt: opened once by the parent \(r.pid(o.parent)), then fork made child \(r.pid(o.child)):")
    var t = Table(["STEP", "OFFSET"], rightAligned: [1])
    // The steps run one after the other (the child waits for its turn): offsets and contents
    // are the experiment's, the same every run.
    for step in o.sharedSteps { t.add([step.who, String(step.offset)]) }
    t.indent = "  "
    r.table(t)
    r.line("  content: \(shown(o.sharedContent)) (nothing overwritten)")
    r.line(
      "separate.txt: the parent opened it and wrote \"parent\\n\" (its offset: 7); the child opened it itself:"
    )
    r.line(
      "  after the child's \"child\\n\" at its own offset 0: \(shown(o.separateContent)); the parent's offset is still \(o.separateParentOffset)"
    )
    r.line(
      "  after the parent wrote again at \(o.separateParentOffset): \(shown(o.separateFinal))")
    let lost = !o.separateContent.hasPrefix(FilesExperiment.parentLine)
    r.fact("parent", o.parent)
    r.fact("child", o.child)
    r.fact("shared_offsets", o.sharedSteps.map(\.offset))
    r.fact("shared_content", o.sharedContent)
    r.fact("separate_content_after_child", o.separateContent)
    r.fact("separate_content", o.separateFinal)
    r.fact("separate_parent_offset", o.separateParentOffset)
    r.fact("overwritten", lost)
    r.explain(
      "After fork, parent and child share one open file description, so one offset: each write went after the other's, and the file kept all three lines. Two separate open() calls make two open file descriptions, each with an offset of its own: the child wrote at 0, on top of the parent's line, and the parent's next write went to its own offset \(o.separateParentOffset).",
      more:
        "That is why a shell's `(echo a; echo b) > f` keeps both lines (the two echoes share the redirection's description), while two programs that each open f and write both start at 0. O_APPEND moves every write to the end, whoever opened the file."
    )
    if !lost { r.explain("Surprise: the child's separate open did not overwrite the parent's line.") }
    return r
  }
}
