import Glibc

/// `files`: descriptors are inherited by fork (same numbers, same open files),
/// closed per process, and O_CLOEXEC decides which ones survive exec.
enum FilesCommand {
  static let command = Command(
    name: "files", area: .processes,
    summary: "open files and pipes across fork and exec: inherited numbers, separate closes, O_CLOEXEC",
    examples: ["files"]
  ) { session in try run() }

  static func listing(_ pid: Int32) -> [Int32: String] {
    var out: [Int32: String] = [:]
    for fd in ProcFS.descriptors(of: pid) {
      if let t = ProcFS.descriptorTarget(pid: pid, fd: fd) { out[fd] = t }
    }
    return out
  }

  static func run() throws -> Report {
    let me = ThisProcess.id
    let dir = try TemporaryDirectory(prefix: "proclab-files")
    defer { dir.remove() }
    var open: [Int32] = []
    defer { for fd in open { Descriptors.close(fd) } }
    let file = try dir.open("notes.txt", closeOnExec: false)
    open.append(file)
    let report = try Descriptors.pipe()  // child → parent, O_CLOEXEC
    open += [report.read, report.write]
    let command = try Descriptors.pipe()  // parent → child, O_CLOEXEC
    open += [command.read, command.write]

    let child = try Fork.filesChild(fileFD: file, commandFD: command.read, reportFD: report.write)
    var reaped = false
    defer { if !reaped { Children.killAndReap(child) } }
    // 'R' arrives through a pipe the child inherited: that alone shows it works across processes.
    _ = try Fork.readExactly(report.read, count: 1, timeout: .seconds(10))
    let parentTable = listing(me)
    let childTable = listing(child)
    try Descriptors.writeAll(command.write, "C")
    _ = try Fork.readExactly(report.read, count: 1, timeout: .seconds(10))
    let childAfter = listing(child)
    let parentStillOpen = Descriptors.closeOnExec(file) != nil
    let message = "the parent writes after the child closed its copy\n"
    try Descriptors.writeAll(file, message)
    try Descriptors.writeAll(command.write, "Q")
    let end = try Wait.wait4(child, timeout: .seconds(10))
    if end == nil { Children.killAndReap(child) }
    reaped = true

    // exec: a fresh proclab, started with posix_spawn, lists what it was given.
    let lab = try Lab.run("descriptors", [:], timeout: .seconds(20))
    var afterExec: [Int32: String] = [:]
    for d in lab.result?["descriptors"]?.arrayValue ?? [] {
      if let fd = d["fd"]?.intValue, let t = d["target"]?.stringValue { afterExec[Int32(fd)] = t }
    }

    let mine: [(Int32, String, Bool)] = [
      (file, "file notes.txt", false), (report.read, "pipe child→parent, read end", true),
      (report.write, "pipe child→parent, write end", true),
      (command.read, "pipe parent→child, read end", true),
      (command.write, "pipe parent→child, write end", true),
    ]
    let r = Report()
    r.line(
      "parent \(r.pid(me)) opened a file (no O_CLOEXEC) and two pipes (O_CLOEXEC), then fork made child \(r.pid(child)):"
    )
    var t = Table(
      ["FD", "WHAT", "PARENT", "CHILD after fork", "CHILD after close", "after EXEC"], rightAligned: [0])
    var facts: [JSON] = []
    var inherited = 0
    var survivedExec: [Int32] = []
    var goneAtExec: [Int32] = []
    for (fd, what, cloexec) in mine {
      let target = parentTable[fd] ?? "?"
      let shared = childTable[fd] == target
      if shared { inherited += 1 }
      let exec = afterExec[fd] == target
      if exec { survivedExec.append(fd) } else { goneAtExec.append(fd) }
      let shownTarget = target.hasPrefix("pipe:") ? target : "notes.txt"
      t.add([
        r.count(Int(fd)), what + (cloexec ? " [O_CLOEXEC]" : ""), r.note(shownTarget, .text),
        shared ? "same" : (childTable[fd] == nil ? "-" : "other"),
        childAfter[fd] == target ? "open" : "closed",
        exec ? "survived" : "closed",
      ])
      facts.append([
        "fd": .int(Int(fd)), "what": .string(what), "cloexec": .bool(cloexec), "target": .string(target),
        "in_child": .bool(shared), "in_child_after_close": .bool(childAfter[fd] == target),
        "after_exec": .bool(exec),
      ])
    }
    r.lines(t.lines)
    r.line(
      "after the child closed fd \(r.count(Int(file))), the parent's fd \(r.count(Int(file))) was still open: it wrote \(r.count(message.utf8.count)) bytes through it"
    )
    r.line(
      "the exec'd process was \(r.pid(lab.pid)), a fresh proclab started by posix_spawn; it \(lab.status)")
    r.fact("parent", me)
    r.fact("child", child)
    r.fact("exec_child", lab.pid)
    r.fact("descriptors", JSON.array(facts))
    r.fact("inherited", inherited)
    r.fact("parent_still_open", parentStillOpen)
    r.fact("survived_exec", survivedExec.map(Int.init))
    r.fact("closed_at_exec", goneAtExec.map(Int.init))

    let list = mine.map { String($0.0) }.joined(separator: ", ")
    r.explain(
      "fork copied the descriptor table: the child had \(inherited) of the \(mine.count) descriptors (\(list)) under the same numbers, pointing at the same file and pipes. Closing fd \(file) in the child removed only the child's entry; the parent kept using its own.",
      more:
        "Parent and child share each open file description (and so its file offset), but each has its own table of numbers. exec keeps the table too, except descriptors marked close-on-exec: here \(survivedExec.map(String.init).joined(separator: ", ")) survived and \(goneAtExec.map(String.init).joined(separator: ", ")) were closed by the kernel at exec. That is why proclab opens everything with O_CLOEXEC: programs it starts get only what they are meant to."
    )
    if survivedExec != [file] {
      r.explain(
        "Surprise: expected only fd \(file) (no O_CLOEXEC) to survive exec, saw \(survivedExec.isEmpty ? "none" : survivedExec.map(String.init).joined(separator: ", "))."
      )
    }
    if !parentStillOpen { r.explain("Surprise: the parent's fd \(file) was no longer open.") }
    return r
  }
}
