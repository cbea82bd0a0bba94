import Glibc

/// The process exercises: fork and wait, a pipe from child to parent, a pipeline with dup2.
enum ProcessExercises {
  static let forkWait = Exercise(
    "fork-wait", "three children, every one reaped",
    checks: [
      ExerciseCheck("creates exactly 3 children, all from the parent", points: 3) { c in
        let kids = c.descendants
        let direct = kids.filter { $0.parent == c.run.root }
        if kids.isEmpty {
          return .notMet("no child process was created", "call fork() in main, three times")
        }
        if kids.count == 3 && direct.count == 3 {
          return .met("3 children: \(c.list(direct.map(\.pid))) (each made by \(direct[0].createdBy))")
        }
        if direct.count != kids.count {
          let deeper = kids.filter { $0.parent != c.run.root }
          return .notMet(
            "\(kids.count) processes besides the parent; \(c.list(deeper.map(\.pid))) were made by children",
            "a child that does not exit goes on in the parent's loop and forks too: end each child with exit(i)"
          )
        }
        return .notMet(
          "\(kids.count) children: \(c.list(kids.map(\.pid)))", "fork exactly 3 times, in the parent")
      },
      ExerciseCheck("the parent reaps every child", points: 3) { c in
        let kids = c.descendants
        guard !kids.isEmpty else { return .notMet("there was no child to reap", "create the children first") }
        let unreaped = kids.filter { $0.reapedBy != c.run.root }
        if unreaped.isEmpty { return .met("waitpid in \(c.run.root) collected \(c.list(kids.map(\.pid)))") }
        let p = unreaped[0]
        let zombie =
          p.exitedAt.map { "a zombie from \(c.ms($0)) until the parent exited" } ?? "never waited for"
        return .notMet(
          "\(c.list(unreaped.map(\.pid))) never reaped by the parent (\(p.pid) was \(zombie))",
          "call waitpid(pid, &status, 0) for each child before main returns")
      },
      ExerciseCheck("the children exit with statuses 0, 1 and 2", points: 2) { c in
        let codes = c.descendants.compactMap { $0.exit?.exitCode }.sorted()
        if codes == [0, 1, 2] {
          return .met("exit statuses \(codes.map(String.init).joined(separator: ", "))")
        }
        let seen = c.descendants.map { $0.exit.map { "\($0)" } ?? "still running" }
        return .notMet(
          seen.isEmpty ? "no child ended" : "children: \(seen.joined(separator: "; "))",
          "child i ends with exit(i) (0, 1, 2)")
      },
      ExerciseCheck("the parent ends last, with status 0", points: 1) { c in
        let end = c.root.exitedAt ?? c.run.duration
        let late = c.descendants.filter { ($0.exitedAt ?? c.run.duration) > end }
        guard !c.descendants.isEmpty else {
          return .notMet("no child to wait for", "create the children first")
        }
        guard c.root.exit == .exited(0) else {
          return .notMet("the parent \(c.root.exit.map { "\($0)" } ?? "did not end")", "return 0 from main")
        }
        return late.isEmpty
          ? .met("exited 0 after its children")
          : .notMet("\(c.list(late.map(\.pid))) outlived the parent", "wait for every child before returning")
      },
      ExerciseCheck("no descriptor besides 0–2 open at exit", points: 1) { c in openDescriptors(c) },
    ])

  static let pipe = Exercise(
    "pipe", "from the child to the parent through one pipe",
    checks: [
      ExerciseCheck("one pipe, made by the parent before it forks", points: 2) { c in
        guard let pipe = c.run.pipes.first else {
          return .notMet("no pipe was made", "int fds[2]; pipe(fds); before fork()")
        }
        let child = c.descendants.first
        if c.run.pipes.count == 1, pipe.createdBy == c.run.root, let child, pipe.createdAt < child.createdAt {
          return .met(
            "pipe 1 made by \(pipe.createdBy) at \(c.ms(pipe.createdAt)), child \(child.pid) forked at \(c.ms(child.createdAt))"
          )
        }
        if child == nil { return .notMet("a pipe but no child", "fork() after pipe()") }
        return .notMet(
          "\(c.run.pipes.count) pipes; the first made by \(pipe.createdBy) at \(c.ms(pipe.createdAt))",
          "make one pipe in the parent, before fork, so both processes share it")
      },
      ExerciseCheck("the child writes into the pipe, the parent does not", points: 2) { c in
        guard let pipe = c.run.pipes.first, let child = c.descendants.first else {
          return .notMet("no pipe and child to look at", "make the pipe, then fork")
        }
        let wrote = pipe.use(child.pid)?.wrote ?? 0
        let parentWrote = pipe.use(c.run.root)?.wrote ?? 0
        if wrote > 0 && parentWrote == 0 {
          return .met("child \(child.pid) wrote \(Units.bytes(wrote)) into pipe 1")
        }
        return .notMet(
          "child wrote \(Units.bytes(wrote)), parent wrote \(Units.bytes(parentWrote))",
          "in the child: write(fds[1], message, length); the parent only reads")
      },
      ExerciseCheck("the parent reads all of it, then end of file", points: 2) { c in
        guard let pipe = c.run.pipes.first else { return .notMet("no pipe", "make the pipe first") }
        let use = pipe.use(c.run.root)
        let read = use?.read ?? 0
        let total = pipe.bytesWritten
        if total > 0, read == total, use?.sawEndOfFile == true, c.output.contains("hello through the pipe") {
          return .met(
            "read \(Units.bytes(read)) in \(Units.plural(use?.reads ?? 0, "read")), the last returned 0")
        }
        if c.run.timedOut && use?.sawEndOfFile != true {
          return .notMet(
            "the parent's read never returned 0: it was still waiting at the timeout",
            "read returns 0 only when every write end is closed, the parent's own included")
        }
        return .notMet(
          "read \(Units.bytes(read)) of \(Units.bytes(total)); end of file \(use?.sawEndOfFile == true ? "seen" : "not seen")",
          "loop: while ((n = read(fds[0], buf, size)) > 0) …, then print what you read")
      },
      ExerciseCheck("the parent closes its write end", points: 2) { c in
        guard let pipe = c.run.pipes.first else { return .notMet("no pipe", "make the pipe first") }
        if let closed = pipe.use(c.run.root)?.closedWrite { return .met("closed at \(c.ms(closed))") }
        return .notMet("the parent kept its write end open", "close(fds[1]) in the parent right after fork")
      },
      ExerciseCheck("the child closes the read end it does not use", points: 1) { c in
        guard let pipe = c.run.pipes.first, let child = c.descendants.first else {
          return .notMet("no pipe and child", "make the pipe, then fork")
        }
        if let closed = pipe.use(child.pid)?.closedRead {
          return .met("child \(child.pid) closed it at \(c.ms(closed))")
        }
        return .notMet("child \(child.pid) kept the read end", "close(fds[0]) first thing in the child")
      },
      ExerciseCheck("the child is reaped, nothing is left open", points: 1) { c in
        guard let child = c.descendants.first else { return .notMet("no child", "fork a child") }
        guard child.reapedBy == c.run.root else {
          return .notMet(
            "child \(child.pid) was never reaped by the parent", "waitpid(pid, NULL, 0) in the parent")
        }
        return openDescriptors(c)
      },
    ])

  static let pipeline = Exercise(
    "pipeline", "echo one two three | wc -w, built by hand", timeout: .seconds(5),
    checks: [
      ExerciseCheck("two children: one runs echo, the other wc", points: 2) { c in
        let programs = c.descendants.compactMap { $0.execs.last.map { baseName($0.path) } }
        if c.descendants.count == 2, Set(programs) == ["echo", "wc"] {
          return .met(
            c.descendants.map { "\($0.pid) runs \(baseName($0.execs.last!.path))" }.joined(separator: ", "))
        }
        return .notMet(
          "\(Units.plural(c.descendants.count, "child", "children")); programs run: \(programs.isEmpty ? "none" : programs.joined(separator: ", "))",
          "fork twice; execlp(\"echo\", …) in one child, execlp(\"wc\", \"wc\", \"-w\", NULL) in the other")
      },
      ExerciseCheck("echo's stdout is the pipe's write end (dup2 before exec)", points: 2) { c in
        redirected(c, program: "echo", fd: 1, writeEnd: true)
      },
      ExerciseCheck("wc's stdin is the pipe's read end (dup2 before exec)", points: 2) { c in
        redirected(c, program: "wc", fd: 0, writeEnd: false)
      },
      ExerciseCheck("wc sees end of file: no write end is left open", points: 2) { c in
        guard let wc = c.descendants.first(where: { $0.execs.last.map { baseName($0.path) } == "wc" }) else {
          return .notMet("no process ran wc", "execlp(\"wc\", \"wc\", \"-w\", NULL) in the second child")
        }
        let sawEnd = c.run.pipes.contains { $0.use(wc.pid)?.sawEndOfFile == true }
        if sawEnd && wc.exit == .exited(0) { return .met("wc (\(wc.pid)) read to end of file and exited 0") }
        let holders = c.run.pipes.first.map { p in
          [c.run.root]
            + c.descendants.map(\.pid)
            .filter { pid in p.use(pid)?.closedWrite == nil && pid != wc.pid }
        }
        return .notMet(
          c.run.timedOut ? "wc was still waiting for input at the timeout" : "wc did not read to end of file",
          "every process must close the write end it holds: the parent after forking, each child before exec"
            + (holders.map { $0.isEmpty ? "" : " (never closed in: \(c.list($0)))" } ?? ""))
      },
      ExerciseCheck("the parent reaps both children", points: 1) { c in
        let unreaped = c.descendants.filter { $0.reapedBy != c.run.root }
        if !c.descendants.isEmpty && unreaped.isEmpty { return .met("both collected by waitpid") }
        // A child still running at the timeout cannot have been reaped: the parent's waitpid
        // waited for it. The cause is why it never ended, not a missing waitpid.
        // (At the timeout proclab ends the whole tree with SIGKILL.)
        let running = unreaped.filter { $0.exit == nil || $0.exit?.signal == SIGKILL }
        if c.run.timedOut && !running.isEmpty {
          return .notMet(
            "\(c.list(running.map(\.pid))) never ended before the timeout, so waitpid could not return it",
            "make the child end first (the end-of-file check above says what kept it waiting)")
        }
        return .notMet(
          unreaped.isEmpty ? "no child" : "never reaped: \(c.list(unreaped.map(\.pid)))",
          "waitpid for each child")
      },
      ExerciseCheck("the output is 3", points: 1) { c in
        let text = String(c.output.drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
        return text == "3"
          ? .met("the program printed 3")
          : .notMet(
            "the output was \"\(Printable.line(String(text.prefix(40))))\"", "only wc writes to the terminal")
      },
    ])

  static func baseName(_ path: String) -> String { path.split(separator: "/").last.map(String.init) ?? path }

  /// Whether the process that ran `program` made `fd` the pipe's write (or read) end with dup2.
  static func redirected(_ c: VerifyContext, program: String, fd: Int32, writeEnd: Bool) -> Verdict {
    guard let p = c.descendants.first(where: { $0.execs.last.map { baseName($0.path) } == program }) else {
      return .notMet("no process ran \(program)", "execlp(\"\(program)\", …) in a child")
    }
    let end = writeEnd ? "write" : "read"
    let execAt = p.execs.last?.at ?? .max
    if let r = c.run.redirections.last(where: { $0.pid == p.pid && $0.fd == fd && $0.at <= execAt }),
      r.pipe != nil, r.pipeWriteEnd == writeEnd
    {
      return .met(
        "\(p.pid): dup2 at \(c.ms(r.at)) made its fd \(fd) the pipe's \(end) end (\(r.target)), before exec at \(c.ms(execAt))"
      )
    }
    return .notMet(
      "\(p.pid) ran \(program) without \(fd == 1 ? "stdout" : "stdin") pointing at the pipe's \(end) end",
      "in that child, before exec: dup2(fds[\(writeEnd ? 1 : 0)], \(fd))")
  }

  /// No process left a descriptor besides 0–2 open at its exit.
  static func openDescriptors(_ c: VerifyContext) -> Verdict {
    let open = c.run.processes.flatMap { p in p.openAtExit.map { (p.pid, $0) } }
    guard let (pid, d) = open.first else { return .met("every process exited with only 0, 1 and 2 open") }
    let who = pid == c.run.root ? "the parent (\(pid))" : "child \(pid)"
    let others = Set(open.map(\.0)).subtracting([pid]).count
    var more: [String] = []
    if open.filter({ $0.0 == pid }).count > 1 {
      more.append(Units.plural(open.filter { $0.0 == pid }.count - 1, "more descriptor"))
    }
    if others > 0 {
      more.append("descriptors left open in \(Units.plural(others, "other process", "other processes")) too")
    }
    return .notMet(
      "\(who) still had fd \(d.fd) (\(d.target)) open at exit\(more.isEmpty ? "" : "; " + more.joined(separator: ", "))",
      "close every descriptor you opened or inherited through fork once you are done with it")
  }
}
