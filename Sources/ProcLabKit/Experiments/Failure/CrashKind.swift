import Glibc

/// The ways `crash` can end a lab child, and what each one teaches.
enum CrashKind: String, CaseIterable, Sendable {
  case segv, abort, fpe, ill, bus, stack, exit, oom, kill

  /// `segv, abort, fpe, ill, bus, stack, exit N, oom, kill`
  static var listForHelp: String {
    allCases.map { $0 == .exit ? "exit N" : $0.rawValue }.joined(separator: ", ")
  }

  /// The fault the child runs itself (nil: the shell ends it from outside, or it is not a fault).
  var fault: Faults.Kind? {
    switch self {
    case .segv: .segv
    case .abort: .abort
    case .fpe: .fpe
    case .ill: .ill
    case .bus: .bus
    case .stack: .stack
    case .exit: .exit
    case .oom, .kill: nil
    }
  }

  /// The signal the kernel should report for it (nil: an exit status): the fault's own, or the
  /// SIGKILL the shell sends.
  var expectedSignal: Int32? { self == .kill ? SIGKILL : fault?.signal }

  /// The exit status a child that allocates too much chooses (ENOMEM's number).
  static let outOfMemoryStatus: Int32 = 12

  var canRunInThread: Bool { self != .oom }
  /// Faults a handler can catch and jump back from (abort() keeps a lock; exit is no fault).
  static let survivable: [CrashKind] = [.segv, .fpe, .ill, .bus, .stack]
  /// Faults a clone(CLONE_VM) task can run without touching the C library's state.
  static let cloneable: [CrashKind] = [.segv, .fpe, .ill]

  /// What the child does, in the learner's words.
  var action: String {
    switch self {
    case .segv: "writes to address 0x10, where nothing is mapped"
    case .abort: "calls abort()"
    case .fpe: "divides an integer by zero"
    case .ill: "executes an illegal instruction (ud2)"
    case .bus: "reads a page of a mapped file after the file was truncated to 0 bytes"
    case .stack: "recurses without end until the stack is full"
    case .exit: "calls exit()"
    case .oom: "allocates memory under a lowered RLIMIT_AS until malloc returns NULL"
    case .kill: "waits, and the shell sends it SIGKILL"
    }
  }

  /// Why the kernel sent the signal that ended it.
  func why(stackLimit: String?, threadStack: String?) -> String {
    switch self {
    case .segv:
      "the store to 0x10 page-faulted; no mapping covers that address, so the kernel sent SIGSEGV to the faulting thread"
    case .abort:
      "abort() raised SIGABRT itself (a program gives up this way, e.g. a failed assert); its default action ends the process"
    case .fpe:
      "the CPU's divide instruction trapped on a zero divisor (divide error), and the kernel turned the trap into SIGFPE"
    case .ill:
      "the CPU refused an instruction defined to be invalid (invalid-opcode trap); the kernel sent SIGILL"
    case .bus:
      "the mapping was still there but the file had no byte behind the page any more; the kernel cannot fill the page, so it sent SIGBUS"
    case .stack:
      threadStack.map {
        "each call pushed a frame until the thread's stack (\($0)) was full; the next frame touched the guard page below it and the page fault became SIGSEGV"
      }
        ?? "each call pushed a frame until the stack reached RLIMIT_STACK (\(stackLimit ?? "?")); the kernel refused to grow the stack past that limit, and the page fault became SIGSEGV"
    case .kill:
      "the shell sent SIGKILL with kill(2); the kernel ends the process without running any of its code"
    case .exit:
      "no signal: the process asked to end with exit(), and the kernel kept its status for wait4"
    case .oom:
      "no signal: malloc returned NULL (ENOMEM) under the address-space limit, and the program chose to exit"
    }
  }
}
