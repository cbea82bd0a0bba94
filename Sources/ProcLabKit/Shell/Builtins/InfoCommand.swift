/// `info`: this shell as the kernel sees it, read from /proc and uname(2).
enum InfoCommand {
  static let command = Command(
    name: "info", area: .shell,
    summary: "this shell as the OS sees it: PID, parent, threads, files, CPUs, kernel",
    examples: ["info"]
  ) { session in
    let r = Report()
    let me = ThisProcess.id
    let parent = ThisProcess.parent
    let threads = ProcFS.threads(of: me)
    let fds = ProcFS.descriptors(of: me).filter { ProcFS.descriptorTarget(pid: me, fd: $0) != nil }
    let cores = ThisProcess.onlineCores
    let kernel = Uname.current()
    let rss = ProcFS.residentBytes(me) ?? 0
    let parentName = ProcFS.stat(parent)?.command ?? "?"
    let held = session.children.pids.count

    var t = Table([])
    t.add(["process ID", r.pid(me)])
    // Which program started the shell (bash, tmux, a checker) depends on how it was started.
    t.add(["parent", "\(r.pid(parent)) (\(r.machine(parentName)))"])
    t.add(["threads", "\(r.count(threads.count)) (/proc/\(r.pid(me))/task)"])
    t.add([
      "open files",
      "\(r.count(fds.count)) descriptors: \(r.machine(fds.prefix(8).map(String.init).joined(separator: ", ") + (fds.count > 8 ? ", …" : "")))",
    ])
    t.add(["memory", "\(r.note(Units.bytes(rss), .text)) resident"])
    t.add(["CPU cores", "\(r.count(cores)) online"])
    t.add(["kernel", "\(kernel.system) \(r.note(kernel.release, .word)) \(kernel.machine)"])
    t.add(["children", "\(held) held by this shell"])
    r.table(t)

    r.fact("pid", me)
    r.fact("ppid", parent)
    r.fact("threads", threads.count)
    r.fact("descriptors", fds.map(Int.init))
    r.fact("rss_bytes", rss)
    r.fact("cores", cores)
    r.fact("kernel", "\(kernel.system) \(kernel.release) \(kernel.machine)")
    r.fact("children", held)

    r.explain(
      "This shell is process \(me), started by \(parentName) (\(parent)); it runs \(Units.plural(threads.count, "thread")) and has \(Units.plural(fds.count, "open descriptor")) (0, 1 and 2 are standard input, output and error).",
      more:
        "Everything above was read just now from /proc/\(me) and uname(2): the kernel keeps this record for every process. \(cores == 1 ? "With one core, threads take turns and never run at the same instant." : "With \(cores) cores, up to \(cores) threads can run at the same instant.")"
    )
    return r
  }
}
