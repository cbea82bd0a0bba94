/// The numbers of the calls proclab decodes, on this architecture (-1 where the
/// call does not exist: arm64 has no `fork`, `open`, `pipe` or `dup2`, only their
/// newer forms).
enum Sys {
  private static func n(_ name: String) -> Int32 { Int32(SyscallNames.number(name) ?? -1) }

  static let read = n("read"), write = n("write"), pread64 = n("pread64"), pwrite64 = n("pwrite64")
  static let readv = n("readv"), writev = n("writev")
  static let open = n("open"), openat = n("openat"), openat2 = n("openat2"), creat = n("creat")
  static let close = n("close"), closeRange = n("close_range")
  static let pipe = n("pipe"), pipe2 = n("pipe2")
  static let dup = n("dup"), dup2 = n("dup2"), dup3 = n("dup3"), fcntl = n("fcntl")
  static let fork = n("fork"), vfork = n("vfork"), clone = n("clone"), clone3 = n("clone3")
  static let execve = n("execve"), execveat = n("execveat")
  static let exit = n("exit"), exitGroup = n("exit_group")
  static let wait4 = n("wait4"), waitid = n("waitid")
  static let kill = n("kill"), tkill = n("tkill"), tgkill = n("tgkill")
  static let rtSigaction = n("rt_sigaction"), rtSigreturn = n("rt_sigreturn")
  static let pause = n("pause"), rtSigsuspend = n("rt_sigsuspend"), nanosleep = n("nanosleep")
  static let clockNanosleep = n("clock_nanosleep")
  static let futex = n("futex"), futexWaitv = n("futex_waitv")
  static let mmap = n("mmap"), munmap = n("munmap"), brk = n("brk"), mprotect = n("mprotect")
  static let mqOpen = n("mq_open"), mqUnlink = n("mq_unlink"), mqTimedsend = n("mq_timedsend")
  static let mqTimedreceive = n("mq_timedreceive")
  static let socket = n("socket"), socketpair = n("socketpair"), connect = n("connect"), bind = n("bind")
  static let listen = n("listen"), accept = n("accept"), accept4 = n("accept4")
  static let sendto = n("sendto"), recvfrom = n("recvfrom"), sendmsg = n("sendmsg"), recvmsg = n("recvmsg")
  static let shmget = n("shmget"), shmat = n("shmat"), unlink = n("unlink"), unlinkat = n("unlinkat")
  static let mknodat = n("mknodat"), mknod = n("mknod")

  /// Whether the decoder has something to say about a call (a table by number: every call
  /// of a traced program is looked up here, so the rest go straight to the plain form).
  static func isDecoded(_ n: Int32) -> Bool { n >= 0 && Int(n) < decoded.count && decoded[Int(n)] }
  private static let decoded: [Bool] = {
    var table = [Bool](repeating: false, count: SyscallNames.table.count)
    let names = [
      "read", "write", "pread64", "pwrite64", "readv", "writev", "open", "openat", "openat2", "creat",
      "close",
      "pipe", "pipe2", "dup", "dup2", "dup3", "fcntl", "fork", "vfork", "clone", "clone3", "execve",
      "execveat",
      "exit", "exit_group", "wait4", "waitid", "kill", "tkill", "tgkill", "rt_sigaction", "pause",
      "rt_sigsuspend",
      "nanosleep", "clock_nanosleep", "futex", "mmap", "munmap", "brk", "mq_open", "mq_unlink",
      "mq_timedsend",
      "mq_timedreceive", "socket", "socketpair", "connect", "bind", "listen", "accept", "accept4", "sendto",
      "recvfrom", "sendmsg", "recvmsg", "unlink", "unlinkat", "mknodat", "mknod",
    ]
    for name in names { if let n = SyscallNames.number(name) { table[n] = true } }
    return table
  }()

  /// Calls that block until another thread or process acts: their duration is waiting.
  static func isFutexWait(op: UInt64) -> Bool { [0, 6, 9, 11, 13].contains(op & 0x7f) }
  static func isFutexWake(op: UInt64) -> Bool { [1, 3, 4, 5, 7, 10].contains(op & 0x7f) }
}

/// Flag words as a learner reads them in man pages.
enum Flags {
  static func names(_ value: UInt64, _ table: [(UInt64, String)], rest: Bool = true) -> String {
    var left = value
    var out: [String] = []
    for (bit, name) in table where bit != 0 && value & bit == bit {
      out.append(name)
      left &= ~bit
    }
    if rest && left != 0 { out.append("0x" + String(left, radix: 16)) }
    return out.isEmpty ? "0" : out.joined(separator: "|")
  }

  static let clone: [(UInt64, String)] = [
    (0x100, "CLONE_VM"), (0x200, "CLONE_FS"), (0x400, "CLONE_FILES"), (0x800, "CLONE_SIGHAND"),
    (0x1000, "CLONE_PIDFD"), (0x4000, "CLONE_VFORK"), (0x8000, "CLONE_PARENT"), (0x10000, "CLONE_THREAD"),
    (0x40000, "CLONE_SYSVSEM"), (0x80000, "CLONE_SETTLS"), (0x100000, "CLONE_PARENT_SETTID"),
    (0x200000, "CLONE_CHILD_CLEARTID"), (0x1000000, "CLONE_CHILD_SETTID"),
    (0x2_0000_0000, "CLONE_CLEAR_SIGHAND"),
  ]
  static let cloneThread: UInt64 = 0x10000
  /// The flags `observe` names: what the new task shares with its creator.
  static let cloneShown: UInt64 = 0x100 | 0x200 | 0x400 | 0x800 | 0x4000 | 0x8000 | 0x10000
  static let cloneVfork: UInt64 = 0x4000
  static let cloneVM: UInt64 = 0x100
  static let cloneFiles: UInt64 = 0x400

  /// The access mode and the flags that matter to a learner (O_CREAT, O_CLOEXEC…).
  static func open(_ flags: UInt64) -> String {
    let mode = ["O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE"][Int(flags & 3)]
    let more = names(
      flags & ~3,
      [
        (0o100, "O_CREAT"), (0o200, "O_EXCL"), (0o1000, "O_TRUNC"), (0o2000, "O_APPEND"),
        (0o4000, "O_NONBLOCK"),
        (0o200000, "O_DIRECTORY"), (0o2000000, "O_CLOEXEC"),
      ], rest: false)
    return more == "0" ? mode : mode + "|" + more
  }
  static let openCloexec: UInt64 = 0o2000000

  static let prot: [(UInt64, String)] = [(1, "PROT_READ"), (2, "PROT_WRITE"), (4, "PROT_EXEC")]
  static let map: [(UInt64, String)] = [
    (0x01, "MAP_SHARED"), (0x02, "MAP_PRIVATE"), (0x10, "MAP_FIXED"), (0x20, "MAP_ANONYMOUS"),
    (0x100, "MAP_GROWSDOWN"), (0x800, "MAP_DENYWRITE"), (0x2000, "MAP_LOCKED"), (0x4000, "MAP_NORESERVE"),
    (0x8000, "MAP_POPULATE"), (0x20000, "MAP_STACK"),
  ]

  static func futexOp(_ op: UInt64) -> String {
    let names = [
      0: "FUTEX_WAIT", 1: "FUTEX_WAKE", 2: "FUTEX_FD", 3: "FUTEX_REQUEUE", 4: "FUTEX_CMP_REQUEUE",
      5: "FUTEX_WAKE_OP", 6: "FUTEX_LOCK_PI", 7: "FUTEX_UNLOCK_PI", 8: "FUTEX_TRYLOCK_PI",
      9: "FUTEX_WAIT_BITSET",
      10: "FUTEX_WAKE_BITSET", 11: "FUTEX_WAIT_REQUEUE_PI", 12: "FUTEX_CMP_REQUEUE_PI", 13: "FUTEX_LOCK_PI2",
    ]
    let base = names[Int(op & 0x7f)] ?? "op \(op & 0x7f)"
    return base + (op & 128 != 0 ? "_PRIVATE" : "")
  }

  static func socketFamily(_ f: UInt64) -> String {
    [1: "AF_UNIX", 2: "AF_INET", 10: "AF_INET6", 16: "AF_NETLINK"][Int(f)] ?? "family \(f)"
  }
  static func socketType(_ t: UInt64) -> String {
    let base =
      [1: "SOCK_STREAM", 2: "SOCK_DGRAM", 5: "SOCK_SEQPACKET", 3: "SOCK_RAW"][Int(t & 0xf)]
      ?? "type \(t & 0xf)"
    return base + (t & 0o2000000 != 0 ? "|SOCK_CLOEXEC" : "")
  }
}
