import Glibc

/// Readers for /proc: what the kernel says about processes and threads right now.
public enum ProcFS {
  /// The fields of /proc/PID/stat a learner cares about.
  public struct Stat: Sendable, Equatable {
    public var pid: Int32
    public var command: String
    public var state: Character
    public var parent: Int32
    public var processGroup: Int32
    public var threads: Int
    public var residentBytes: Int
    public var processor: Int
  }

  /// Reads a small file under /proc whole: openat(2), read(2) until end of file, close(2).
  /// Each is traced, so `set trace on` shows that `ps` is just reading files.
  public static func read(_ path: String) -> String? {
    var start = MonotonicClock.nanoseconds()
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    Trace.record(
      "openat", "\"\(path)\", O_RDONLY|O_CLOEXEC",
      result: fd < 0 ? "-1 \(SystemError.name(of: errno))" : "\(fd)", since: start)
    if fd < 0 { return nil }
    defer {
      start = MonotonicClock.nanoseconds()
      close(fd)
      Trace.record("close", "\(fd)", result: "0", since: start)
    }
    var data = [UInt8]()
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
      start = MonotonicClock.nanoseconds()
      // A /proc read is short: finish it even after Ctrl-C.
      let n =
        (try? systemCall("read", onInterrupt: .retry) {
          buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, 4096) }
        }) ?? -1
      Trace.record("read", "\(fd), 4096", result: "\(n)", since: start)
      if n <= 0 { break }
      data.append(contentsOf: buffer[0..<n])
    }
    return String(decoding: data, as: UTF8.self)
  }

  /// The names in a directory (those starting with `prefix`): openat(2) with
  /// O_DIRECTORY and getdents64(2) (via readdir(3)).
  public static func list(_ path: String, prefix: String = "") -> [String]? {
    let start = MonotonicClock.nanoseconds()
    guard let dir = opendir(path) else {
      Trace.record(
        "openat", "\"\(path)\", O_RDONLY|O_DIRECTORY", result: "-1 \(SystemError.name(of: errno))",
        since: start)
      return nil
    }
    defer { closedir(dir) }
    // The prefix is compared on the raw bytes: a crowded /tmp holds thousands of
    // names, and making a String of each was most of the shell's start-up.
    let wanted = prefix.utf8.count
    var names: [String] = []
    while let entry = readdir(dir) {
      // d_name is read in place (a 256-byte array in the entry), not copied.
      let name = UnsafeRawPointer(entry).advanced(by: MemoryLayout<dirent>.offset(of: \.d_name)!)
        .assumingMemoryBound(to: CChar.self)
      guard strncmp(name, prefix, wanted) == 0 else { continue }
      let word = String(cString: name)
      if word != "." && word != ".." { names.append(word) }
    }
    Trace.record("getdents64", "\"\(path)\"", result: "\(names.count) entries", since: start)
    return names
  }

  /// /proc/PID/stat, parsed (the command name may hold spaces and parentheses).
  public static func stat(_ pid: Int32) -> Stat? { stat(path: "/proc/\(pid)/stat") }

  /// /proc/self/task/TID/stat for one thread.
  public static func threadStat(_ tid: Int32) -> Stat? { stat(path: "/proc/self/task/\(tid)/stat") }

  static func stat(path: String) -> Stat? {
    guard let text = read(path), let open = text.firstIndex(of: "("), let close = text.lastIndex(of: ")")
    else { return nil }
    let pid = Int32(text[..<open].filter { $0 != " " }) ?? 0
    let command = String(text[text.index(after: open)..<close])
    let fields = text[text.index(after: close)...].split(separator: " ")
    // fields[0] is field 3 (state) of proc(5).
    guard fields.count > 36, let state = fields[0].first else { return nil }
    let page = Int(sysconf(Int32(_SC_PAGESIZE)))
    return Stat(
      pid: pid, command: command, state: state, parent: Int32(fields[1]) ?? 0,
      processGroup: Int32(fields[2]) ?? 0, threads: Int(fields[17]) ?? 0,
      residentBytes: (Int(fields[21]) ?? 0) * page, processor: Int(fields[36]) ?? -1)
  }

  /// What a state letter in /proc/PID/stat means.
  public static func meaning(ofState s: Character) -> String {
    switch s {
    case "R": "running or runnable"
    case "S": "sleeping (waiting for an event)"
    case "D": "waiting for I/O, uninterruptible"
    case "Z": "zombie: ended, not yet reaped by its parent"
    case "T": "stopped by a signal"
    case "t": "stopped by a debugger"
    case "X": "dead"
    case "I": "idle kernel thread"
    default: "unknown"
    }
  }

  /// Every PID in /proc.
  public static func allPIDs() -> [Int32] {
    guard let names = list("/proc") else { return [] }
    return names.compactMap { Int32($0) }
  }

  /// The children of a process, from /proc/PID/task/*/children (needs CONFIG_PROC_CHILDREN),
  /// falling back to a scan of every process's parent.
  public static func children(of pid: Int32) -> [Int32] {
    var found = Set<Int32>()
    var sawFile = false
    for tid in threads(of: pid) {
      if let text = read("/proc/\(pid)/task/\(tid)/children") {
        sawFile = true
        for word in text.split(separator: " ") { if let c = Int32(word) { found.insert(c) } }
      }
    }
    if !sawFile {
      for p in allPIDs() where stat(p)?.parent == pid { found.insert(p) }
    }
    // The shell's own helpers (the kernel tracer) are not the learner's children.
    return found.subtracting(HelperProcesses.current).sorted()
  }

  /// The thread IDs of a process (/proc/PID/task).
  public static func threads(of pid: Int32) -> [Int32] {
    guard let names = list("/proc/\(pid)/task") else { return [] }
    return names.compactMap { Int32($0) }.sorted()
  }

  /// The open descriptor numbers of a process (/proc/PID/fd).
  public static func descriptors(of pid: Int32) -> [Int32] {
    guard let names = list("/proc/\(pid)/fd") else { return [] }
    return names.compactMap { Int32($0) }.sorted()
  }

  /// What a descriptor refers to (readlink /proc/PID/fd/N): `pipe:[1234]`, a path…
  public static func descriptorTarget(pid: Int32, fd: Int32) -> String? {
    var buffer = [CChar](repeating: 0, count: 4096)
    let start = MonotonicClock.nanoseconds()
    let n = readlink("/proc/\(pid)/fd/\(fd)", &buffer, 4095)
    Trace.record("readlink", "\"/proc/\(pid)/fd/\(fd)\"", result: n < 0 ? "-1" : "\(n)", since: start)
    if n < 0 { return nil }
    return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }

  /// The command line of a process (/proc/PID/cmdline), words joined by spaces.
  public static func commandLine(_ pid: Int32) -> String? {
    guard let text = read("/proc/\(pid)/cmdline") else { return nil }
    return text.split(separator: "\0").joined(separator: " ")
  }

  /// A value from /proc/PID/status (`VmRSS`, `Threads`…), as the text after the colon.
  public static func status(_ pid: Int32, field: String) -> String? {
    guard let text = read("/proc/\(pid)/status") else { return nil }
    for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
      return String(line.dropFirst(field.count + 1).drop { $0 == " " || $0 == "\t" })
    }
    return nil
  }

  /// Resident set size in bytes, from /proc/PID/status VmRSS.
  public static func residentBytes(_ pid: Int32) -> Int? {
    guard let v = status(pid, field: "VmRSS"), let kb = Int(v.split(separator: " ").first ?? "") else {
      return nil
    }
    return kb * 1024
  }

  /// The mapping of /proc/PID/maps that holds `address`: its range, permissions and name.
  public static func mapping(pid: Int32, containing address: UInt) -> String? {
    guard let text = read("/proc/\(pid)/maps") else { return nil }
    for line in text.split(separator: "\n") {
      let parts = line.split(separator: " ", omittingEmptySubsequences: true)
      guard parts.count >= 5 else { continue }
      let range = parts[0].split(separator: "-")
      guard range.count == 2, let lo = UInt(range[0], radix: 16), let hi = UInt(range[1], radix: 16) else {
        continue
      }
      if address >= lo && address < hi {
        let name = parts.count >= 6 ? parts[5...].joined(separator: " ") : "[anonymous]"
        return "\(parts[0]) \(parts[1]) \(name)"
      }
    }
    return nil
  }
}
