import Glibc

/// Signal names, numbers and what each one means to a learner.
public enum Signals {
  public static let kill = SIGKILL
  public static let interrupt = SIGINT
  public static let terminate = SIGTERM

  public struct Info: Sendable {
    public let number: Int32
    public let name: String
    public let meaning: String
    public let defaultAction: String
  }

  public static let all: [Info] = [
    Info(number: SIGHUP, name: "SIGHUP", meaning: "the terminal hung up", defaultAction: "terminate"),
    Info(
      number: SIGINT, name: "SIGINT", meaning: "interrupt from the keyboard (Ctrl-C)",
      defaultAction: "terminate"),
    Info(
      number: SIGQUIT, name: "SIGQUIT", meaning: "quit from the keyboard (Ctrl-\\)",
      defaultAction: "core dump"),
    Info(number: SIGILL, name: "SIGILL", meaning: "illegal instruction", defaultAction: "core dump"),
    Info(number: SIGTRAP, name: "SIGTRAP", meaning: "trace or breakpoint trap", defaultAction: "core dump"),
    Info(number: SIGABRT, name: "SIGABRT", meaning: "abort() was called", defaultAction: "core dump"),
    Info(
      number: SIGBUS, name: "SIGBUS", meaning: "bus error: access to memory that cannot exist",
      defaultAction: "core dump"),
    Info(
      number: SIGFPE, name: "SIGFPE", meaning: "arithmetic error (such as integer division by zero)",
      defaultAction: "core dump"),
    Info(
      number: SIGKILL, name: "SIGKILL", meaning: "killed: cannot be caught, blocked or ignored",
      defaultAction: "terminate"),
    Info(number: SIGUSR1, name: "SIGUSR1", meaning: "user-defined signal 1", defaultAction: "terminate"),
    Info(
      number: SIGSEGV, name: "SIGSEGV", meaning: "segmentation fault: invalid memory access",
      defaultAction: "core dump"),
    Info(number: SIGUSR2, name: "SIGUSR2", meaning: "user-defined signal 2", defaultAction: "terminate"),
    Info(
      number: SIGPIPE, name: "SIGPIPE", meaning: "write to a pipe with no reader", defaultAction: "terminate"),
    Info(number: SIGALRM, name: "SIGALRM", meaning: "timer expired (alarm)", defaultAction: "terminate"),
    Info(
      number: SIGTERM, name: "SIGTERM", meaning: "polite request to terminate", defaultAction: "terminate"),
    Info(number: SIGCHLD, name: "SIGCHLD", meaning: "a child stopped or ended", defaultAction: "ignore"),
    Info(number: SIGCONT, name: "SIGCONT", meaning: "continue if stopped", defaultAction: "continue"),
    Info(
      number: SIGSTOP, name: "SIGSTOP", meaning: "stop: cannot be caught, blocked or ignored",
      defaultAction: "stop"),
    Info(number: SIGTSTP, name: "SIGTSTP", meaning: "stop from the keyboard (Ctrl-Z)", defaultAction: "stop"),
    Info(
      number: SIGTTIN, name: "SIGTTIN", meaning: "background read from the terminal", defaultAction: "stop"),
    Info(
      number: SIGTTOU, name: "SIGTTOU", meaning: "background write to the terminal", defaultAction: "stop"),
    Info(number: SIGXCPU, name: "SIGXCPU", meaning: "CPU time limit exceeded", defaultAction: "core dump"),
    Info(number: SIGXFSZ, name: "SIGXFSZ", meaning: "file size limit exceeded", defaultAction: "core dump"),
    Info(number: SIGSYS, name: "SIGSYS", meaning: "bad system call", defaultAction: "core dump"),
  ]

  public static func info(_ number: Int32) -> Info? { all.first { $0.number == number } }

  public static func name(_ number: Int32) -> String { info(number)?.name ?? "signal \(number)" }

  /// Parses `TERM`, `SIGTERM`, `sigterm` or `15`.
  public static func parse(_ text: String) -> Int32? {
    if let n = Int32(text), n > 0, n < 65 { return n }
    var upper = text.uppercased()
    if !upper.hasPrefix("SIG") { upper = "SIG" + upper }
    return all.first { $0.name == upper }?.number
  }

  public static var namesForHelp: String {
    ["TERM", "KILL", "INT", "HUP", "STOP", "CONT", "USR1", "USR2", "SEGV", "ABRT"].joined(separator: ", ")
  }
}
