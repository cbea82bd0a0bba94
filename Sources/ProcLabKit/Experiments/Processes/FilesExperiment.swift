/// The OS work of `files`: a forked child that keeps the shell's descriptors and
/// is told, step by step, to write, close and execve, while the shell reads the
/// child's descriptor table (/proc/PID/fd, /proc/PID/fdinfo) between the steps.
enum FilesExperiment {
  /// One process's table at one moment: descriptor number → what the kernel says of it.
  typealias Table = [Int32: DescriptorInfo]

  struct Timeline {
    var parent: Int32
    var child: Int32
    /// The shell's descriptors before the experiment (inherited from whoever started it).
    var before: Set<Int32>
    /// What each pipe end is for.
    var pipeEnds: [Int32: String]
    /// The two files the shell opened without O_CLOEXEC: closed in the child, and kept.
    var closed: Int32
    var kept: Int32
    var parentAfterFork: Table
    var childAfterFork: Table
    /// fdinfo `pos` of the closed file's descriptor in parent and child after both wrote through it.
    var parentOffset: Int
    var childOffset: Int
    var lseekOffset: Int
    var childAfterClose: Table
    /// What the program the child execve'd found (its own listing of /proc/self/fd).
    var afterExec: [Int32: String]
    var execPID: Int32?
    var execStatus: TerminationStatus?
    /// The closed file's content at the end: parent, child, parent again.
    var content: String
  }

  static let parentLine = "parent\n"
  static let parentAgain = "parent again\n"

  static func timeline() throws -> Timeline {
    let me = ThisProcess.id
    // (DescriptorInfo leaves out the descriptor that lists /proc/PID/fd itself.)
    let before = Set(DescriptorInfo.all(of: me).keys)
    let dir = try TemporaryDirectory(prefix: "proclab-files")
    defer { dir.remove() }
    var open: [Int32] = []
    defer { for fd in open { Descriptors.close(fd) } }
    let notes = try dir.open("notes.txt", closeOnExec: false)
    open.append(notes)
    let log = try dir.open("log.txt", closeOnExec: false)
    open.append(log)

    let child = try Fork.FilesChild(
      fileFD: notes, otherPath: "\(dir.path)/notes.txt", program: Lab.executable,
      arguments: ["proclab", Lab.modeArgument, "descriptors", "{}"],
      environment: Environment.current().merging(Lab.environment(extra: [:])) { $1 })
    var reaped = false
    defer {
      child.release()
      if !reaped { Children.killAndReap(child.pid) }
    }
    let parentAfterFork = DescriptorInfo.all(of: me)
    let childAfterFork = DescriptorInfo.all(of: child.pid)
    // One open file description: the parent's write and the child's move one offset.
    try Descriptors.writeAll(notes, parentLine)
    try child.send("W")
    let lseek = try FileOffset.current(notes)
    let parentOffset = DescriptorInfo.read(pid: me, fd: notes)?.offset ?? -1
    let childOffset = DescriptorInfo.read(pid: child.pid, fd: notes)?.offset ?? -1
    try child.send("C")
    let childAfterClose = DescriptorInfo.all(of: child.pid)
    try Descriptors.writeAll(notes, parentAgain)
    // The same process, a new program.
    let messages = try child.exec()
    let end = try Wait.wait4(child.pid, timeout: .seconds(20))
    if end == nil { Children.killAndReap(child.pid) }
    reaped = true
    let result = messages.last?["result"]
    var afterExec: [Int32: String] = [:]
    for d in result?["descriptors"]?.arrayValue ?? [] {
      if let fd = d["fd"]?.intValue, let t = d["target"]?.stringValue { afterExec[Int32(fd)] = t }
    }
    return Timeline(
      parent: me, child: child.pid, before: before, pipeEnds: child.pipeEnds, closed: notes, kept: log,
      parentAfterFork: parentAfterFork,
      childAfterFork: childAfterFork, parentOffset: parentOffset, childOffset: childOffset,
      lseekOffset: lseek,
      childAfterClose: childAfterClose, afterExec: afterExec,
      execPID: result?["pid"]?.intValue.map(Int32.init), execStatus: end?.status,
      content: ProcFS.read("\(dir.path)/notes.txt") ?? "")
  }

  struct Offsets {
    var parent: Int32
    var child: Int32
    /// One open, then fork: offsets after each step, and the file's content.
    var sharedSteps: [(who: String, offset: Int)]
    var sharedContent: String
    /// Two opens (the parent's and the child's own): offsets and content.
    var separateParentOffset: Int
    var separateContent: String
    var separateFinal: String
  }

  static func offsets() throws -> Offsets {
    let me = ThisProcess.id
    let dir = try TemporaryDirectory(prefix: "proclab-files")
    defer { dir.remove() }
    var open: [Int32] = []
    defer { for fd in open { Descriptors.close(fd) } }
    let shared = try dir.open("shared.txt", closeOnExec: true)
    open.append(shared)
    let separate = try dir.open("separate.txt", closeOnExec: true)
    open.append(separate)
    try Descriptors.writeAll(shared, parentLine)
    try Descriptors.writeAll(separate, parentLine)
    var steps = [("parent wrote \"parent\\n\"", try FileOffset.current(shared))]

    let child = try Fork.FilesChild(
      fileFD: shared, otherPath: "\(dir.path)/separate.txt", program: "/bin/true", arguments: ["true"],
      environment: [:])
    defer {
      child.release()
      Children.killAndReap(child.pid)
    }
    try child.send("W")
    steps.append(
      ("child wrote \"child\\n\" through its inherited descriptor", try FileOffset.current(shared)))
    try Descriptors.writeAll(shared, parentLine)
    steps.append(("parent wrote \"parent\\n\" again", try FileOffset.current(shared)))
    guard try child.send("O") == "O" else { throw SystemError("open", errno: 2) }
    let separateOffset = try FileOffset.current(separate)
    let afterChild = ProcFS.read("\(dir.path)/separate.txt") ?? ""
    try Descriptors.writeAll(separate, parentLine)
    return Offsets(
      parent: me, child: child.pid, sharedSteps: steps,
      sharedContent: ProcFS.read("\(dir.path)/shared.txt") ?? "",
      separateParentOffset: separateOffset, separateContent: afterChild,
      separateFinal: ProcFS.read("\(dir.path)/separate.txt") ?? "")
  }
}
