/// `kill PID [SIGNAL]`: send a real signal to a child this shell holds, and say what it did.
///
/// Command (options, which children may be signalled) here; the OS work in
/// KillExperiment.swift; lines, facts and explanation in KillReport.swift.
enum KillCommand {
  struct Options: CommandOptions {
    var pid: Int32?
    var signal = SignalValue(Signals.terminate)

    static var declarations: [OptionDeclaration<Self>] {
      [
        .positional(
          "pid", \.pid, "PID", in: 1...Int32.max, "a child this shell created (ps lists them)",
          completion: .children),
        .positional("signal", \.signal, "SIGNAL", "the signal to send, by name or number"),
      ]
    }

    /// kill(1)'s spellings, the signal first: `kill -15 PID`, `kill -STOP PID`, `kill -SIGSTOP PID`,
    /// `kill -s STOP PID`. (A PID is never negative here: a negative one means a process group to
    /// kill(1), which this shell does not signal.)
    static func normalized(_ words: [String]) -> [String] {
      if words.count == 2, words[0].count > 1, words[0].hasPrefix("-"), Int32(words[1]) != nil,
        SignalValue.parse(String(words[0].dropFirst())) != nil
      {
        return [words[1], String(words[0].dropFirst())]
      }
      if words.count == 3, words[0] == "-s", Int32(words[2]) != nil, SignalValue.parse(words[1]) != nil {
        return [words[2], words[1]]
      }
      return words
    }
  }

  static let command = Command(
    name: "kill", area: .processes,
    summary: "send a signal to a child this shell created and report what it did",
    examples: [
      "spawn 2 --hold 30; kill PID", "kill PID STOP", "kill PID TERM", "kill PID CONT", "kill PID USR1",
      "kill PID 9",
    ],
    options: Options.self
  ) { options, session in try run(options, session) }

  /// `its children: 4101, 4102` or how to get some.
  static func heldList(_ session: Session) -> String {
    let pids = session.children.pids
    return pids.isEmpty
      ? "it holds none (start some with spawn 2 --hold 30)"
      : "it holds: \(pids.prefix(8).map(String.init).joined(separator: ", "))\(pids.count > 8 ? ", … (\(pids.count) in all; see ps)" : "")"
  }

  static func run(_ options: Options, _ session: Session) throws -> Report {
    guard let pid = options.pid else {
      throw UsageError("kill: which process? usage: kill PID [SIGNAL]; \(heldList(session))")
    }
    if let gone = session.children.recentlyReaped.last(where: { $0.pid == pid }) {
      throw UsageError(
        "kill: \(pid) has already ended (\(gone.status)) and the shell reaped it; nothing to signal")
    }
    if session.children.wasReaped(pid) {
      throw UsageError(
        "kill: \(pid) was this shell's child, but it has ended and was reaped; nothing to signal")
    }
    guard let child = session.children.child(pid) else {
      throw UsageError(
        "kill: \(pid) is not a process this shell created, so it will not signal it; \(heldList(session))")
    }
    let o = try KillExperiment(pid: pid, signal: options.signal.number, keepZombie: child.keepZombie).run()
    if o.effect == .terminated && !o.keptZombie {
      // wait4 reaped it: the shell no longer answers for it.
      session.children.remove(pid)
      session.processBook.entries[pid] = nil
    }
    return KillReport(o).build()
  }
}
