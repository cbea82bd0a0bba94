/// The text of `set trace on` and `trace`: each library call proclab made,
/// grouped by process, with the system calls the kernel ran for it beneath it
/// (or "none: handled in user space"), then what the command's own processes
/// and threads ran, and the shell's own work between the calls.
enum TraceRender {
  /// Calls shown under one library call before the rest are summed up.
  static let kernelShown = 3
  /// Calls that say what a library call really was, listed before the others (first rank first).
  static let telling: [Set<String>] = [
    [
      "clone", "clone3", "fork", "vfork", "execve", "execveat", "wait4", "waitid", "futex", "kill", "tgkill",
      "signal",
    ],
    [
      "pipe2", "pipe", "dup2", "dup3", "socketpair", "socket", "mq_open", "mq_timedsend", "mq_timedreceive",
      "openat",
      "read", "write", "close", "mmap", "exit_group",
    ],
  ]

  static func rank(_ name: String) -> Int { telling.firstIndex { $0.contains(name) } ?? telling.count }

  static func text(
    _ calls: [TraceCall], kernel: KernelTraceReport?, color: Bool, width: Int? = Layout.width
  ) -> String {
    Style.enabled = color
    let me = ThisProcess.id
    let kernelCount = kernel?.total ?? 0
    var out = [
      Style.dim(
        "trace: \(Units.plural(calls.count, "library call"))"
          + (kernel != nil && kernel?.note == nil || kernelCount > 0
            ? "; the kernel ran \(Units.plural(kernelCount, "system call")) during the command" : ""))
    ]
    var order: [Int32] = []
    var byPID: [Int32: [TraceCall]] = [:]
    for c in calls {
      if byPID[c.pid] == nil { order.append(c.pid) }
      byPID[c.pid, default: []].append(c)
    }
    let joined = kernel != nil && kernel?.note == nil
    for pid in order {
      let group = byPID[pid]!
      out.append("  pid \(pid)" + (pid == me ? " (this shell)" : " (child)"))
      let threads = Set(group.map(\.tid))
      for (c, repeats) in collapse(group) {
        let who = threads.count > 1 ? Style.dim("[tid \(c.tid)] ") : ""
        if joined, repeats == 0, c.kernel.count == 1, !c.aggregate, sameCall(c.name, c.kernel[0].name) {
          // One library call, one system call of its name: one line.
          let inKernel = Units.duration(.nanoseconds(c.kernel[0].nanoseconds))
          out.append("    " + who + c.rendered + Style.dim(" — system call: \(inKernel)"))
          continue
        }
        out.append("    " + who + c.rendered)
        if joined { out += kernelLines(c) }
        if repeats > 0 {
          out.append(Style.dim("    … and \(repeats) more \(c.name) calls like it"))
        }
      }
    }
    if let kernel {
      out += taskLines(kernel)
      if !kernel.ownWork.isEmpty {
        let n = kernel.ownWork.values.reduce(0, +)
        out.append(
          Style.dim(
            "  the shell's own work between these calls: \(Units.plural(n, "system call")) (\(counts(kernel.ownWork)))"
          ))
      }
      if let note = kernel.note { out.append(Style.dim("  " + note)) }
      if joined {
        out.append(
          Style.dim(
            "  times are taken under ptrace: each system call stops twice for the tracer, which adds microseconds; compare calls with one another, not with untraced runs"
          ))
      }
    }
    // Fitted to the terminal: a long call goes on under its first argument, other lines
    // under their own text, a little further in.
    return out.flatMap { line in
      TextWrap.wrap(line, width: width, continuation: continuation(of: line, width: width ?? .max))
    }.joined(separator: "\n")
  }

  /// Where a wrapped trace line goes on: under the first argument of the call it shows
  /// (`mmap(` → the column after the parenthesis), else two columns into its text. The text
  /// starts after the indentation, a `└ ` marker, `[tid N] ` and `in PID: `.
  static func continuation(of line: String, width: Int) -> String {
    let plain = Array(Style.stripped(line))
    var i = plain.prefix { $0 == " " }.count
    func skip(_ prefix: String) {
      let p = Array(prefix)
      if plain.count >= i + p.count, Array(plain[i..<(i + p.count)]) == p { i += p.count }
    }
    func skipBracketed(open: Character, close: String) {
      guard i < plain.count, plain[i] == open, let end = plain[i...].firstIndex(of: close.first!) else {
        return
      }
      i = end + 1
      while i < plain.count && plain[i] == " " { i += 1 }
    }
    skip("└ ")
    skipBracketed(open: "[", close: "]")
    if plain.count > i + 3, plain[i] == "i", plain[i + 1] == "n", plain[i + 2] == " ",
      let colon = plain[i...].firstIndex(of: ":"), plain[(i + 3)..<colon].allSatisfy(\.isNumber)
    {
      i = colon + 1
      while i < plain.count && plain[i] == " " { i += 1 }
    }
    var column = DisplayWidth.columns(String(plain[..<min(i, plain.count)]))
    let name = plain[i...].prefix { $0.isLetter || $0.isNumber || $0 == "_" }
    if !name.isEmpty, i + name.count < plain.count, plain[i + name.count] == "(",
      column + name.count + 1 <= width / 2
    {
      column += name.count + 1
    } else {
      column += 2
    }
    return String(repeating: " ", count: column)
  }

  /// Whether a library call is just the system call of that name (open is openat since glibc 2.26).
  static func sameCall(_ library: String, _ kernel: String) -> Bool {
    library == kernel || (library == "open" && kernel == "openat")
      || (library == "wait4" && kernel == "wait4")
  }

  /// Runs of the same call (`wait4(…, WNOHANG)` polled 40 times): the first one, and how many followed.
  static func collapse(_ calls: [TraceCall]) -> [(TraceCall, Int)] {
    var out: [(TraceCall, Int)] = []
    var i = 0
    while i < calls.count {
      var j = i + 1
      while j < calls.count && calls[j].name == calls[i].name && calls[j].arguments == calls[i].arguments
        && calls[j].tid == calls[i].tid
      {
        j += 1
      }
      if j - i > 3 {
        var first = calls[i]
        first.kernel = calls[i..<j].flatMap(\.kernel)
        out.append((first, j - i - 1))
      } else {
        for k in i..<j { out.append((calls[k], 0)) }
      }
      i = j
    }
    return out
  }

  static func kernelLines(_ c: TraceCall) -> [String] {
    let mark = Style.dim("      └ ")
    if c.kernel.isEmpty {
      return c.aggregate || c.start == 0 ? [] : [mark + "none: handled in user space"]
    }
    if c.aggregate, c.kernel.allSatisfy({ $0.name == "futex" }) { return [mark + futexSummary(c)] }
    let ordered = c.kernel.enumerated().sorted {
      (rank($0.element.name), $0.offset) < (rank($1.element.name), $1.offset)
    }
    .map(\.element)
    var lines = ordered.prefix(kernelShown).map { k in
      let whereText = k.pid != c.pid ? "in \(k.pid): " : k.tid != c.tid ? "in \(k.tid): " : ""
      return mark + whereText + k.text + Style.dim(" (\(Units.duration(.nanoseconds(k.nanoseconds))))")
    }
    let rest = Array(ordered.dropFirst(kernelShown))
    if !rest.isEmpty {
      lines.append(
        mark
          + Style.dim(
            "and \(rest.count) more: \(counts(rest.reduce(into: [:]) { $0[$1.name, default: 0] += 1 }))"))
    }
    return lines
  }

  /// `in 3 threads: 5 futex waits (106 ms in all, longest 45.6 ms), 6 wakes`.
  static func futexSummary(_ c: TraceCall) -> String {
    let waits = c.kernel.filter { $0.text.contains("WAIT") }
    let wakes = c.kernel.count - waits.count
    let total = waits.reduce(Int64(0)) { $0 + $1.nanoseconds }
    let longest = waits.map(\.nanoseconds).max() ?? 0
    let tasks = Set(c.kernel.map(\.tid)).count
    let inWorkers = KernelTraceJoin.kernelNames(forAggregate: c.name).inWorkers
    var text =
      (inWorkers ? "in \(Units.plural(tasks, "worker")): " : "") + Units.plural(waits.count, "futex wait")
    if !waits.isEmpty {
      text +=
        " (\(Units.duration(.nanoseconds(total))) in all, longest \(Units.duration(.nanoseconds(longest))))"
    }
    if wakes > 0 || inWorkers { text += ", \(Units.plural(wakes, "wake"))" }
    text +=
      inWorkers
      ? "; every other lock and unlock stayed in user space"
      : ": it sleeps in the kernel until the thread's exit clears its TID and wakes it"
    return text
  }

  static func taskLines(_ kernel: KernelTraceReport) -> [String] {
    guard !kernel.tasks.isEmpty else { return [] }
    var out = ["  processes and threads the command started:"]
    for t in kernel.tasks.prefix(12) {
      let kind = t.task.isThread ? "thread \(t.task.tid) of \(t.task.pid)" : "process \(t.task.pid)"
      let made = "\(t.task.via)" + (t.madeBy.map { " in \($0)" } ?? "")
      var line = "    \(kind) (\(made)): \(Units.plural(t.calls.count, "system call"))"
      let futexWaits = t.calls.filter { $0.name == "futex" && $0.text.contains("WAIT") }
      if !futexWaits.isEmpty {
        let waited = futexWaits.reduce(Int64(0)) { $0 + $1.nanoseconds }
        line += ", \(Units.plural(futexWaits.count, "futex wait")) (\(Units.duration(.nanoseconds(waited))))"
      }
      if !t.calls.isEmpty { line += Style.dim(" — " + counts(t.counts, limit: 5)) }
      out.append(line)
    }
    if kernel.tasks.count > 12 { out.append("    … \(kernel.tasks.count - 12) more") }
    return out
  }

  /// `mmap ×3, read ×6, …`, most frequent first.
  static func counts(_ d: [String: Int], limit: Int = 6) -> String {
    let sorted = d.sorted { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }
    let shown = sorted.prefix(limit).map { $0.value == 1 ? $0.key : "\($0.key) ×\($0.value)" }
    return shown.joined(separator: ", ") + (sorted.count > limit ? ", …" : "")
  }
}
