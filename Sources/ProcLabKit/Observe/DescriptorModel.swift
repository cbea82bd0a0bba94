/// What each descriptor of each traced process refers to, kept from the calls
/// that made and changed them (pipe2, openat, dup2, close, fork, execve), so a
/// `read(3, …)` can say "the read end of pipe 1" and a leak can say where it was
/// opened. A descriptor the model did not see made (inherited, or open before
/// tracing began) is looked up once in /proc/PID/fd.
final class DescriptorModel {
  /// What a descriptor refers to, in the learner's words.
  struct Object: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
      case pipeRead(Int)
      case pipeWrite(Int)
      case file(String)
      case socket(Int)
      case queue(String)
      case other(String)
    }
    var kind: Kind

    var description: String {
      switch kind {
      case .pipeRead(let n): "pipe \(n) read end"
      case .pipeWrite(let n): "pipe \(n) write end"
      case .file(let path): Printable.line(path)
      case .socket(let n): "socket \(n)"
      case .queue(let name): "queue \(Printable.word(name))"
      case .other(let text): Printable.line(text)
      }
    }

    var pipe: Int? {
      switch kind {
      case .pipeRead(let n), .pipeWrite(let n): n
      default: nil
      }
    }
    var isPipeWrite: Bool { if case .pipeWrite = kind { true } else { false } }
  }

  struct Entry: Sendable, Equatable {
    var object: Object
    var closeOnExec: Bool
    var openedAt: UInt64
    /// `pipe2 in 4120`, `dup2 in 4121`, `inherited`.
    var origin: String
  }

  /// One descriptor table: threads share it, fork copies it.
  final class Table {
    var entries: [Int32: Entry] = [:]
    func copy() -> Table {
      let t = Table()
      t.entries = entries
      return t
    }
  }

  private var tables: [Int32: Table] = [:]
  private(set) var pipes = 0
  private(set) var sockets = 0
  /// Names for descriptors found open at the start (the observer's pipes behind 0–2).
  var startNames: [String: String] = [:]

  func table(_ pid: Int32) -> Table {
    if let t = tables[pid] { return t }
    let t = Table()
    tables[pid] = t
    return t
  }

  func newPipe() -> Int {
    pipes += 1
    return pipes
  }
  func newSocket() -> Int {
    sockets += 1
    return sockets
  }

  /// What `fd` of `pid` refers to: from the model, else from /proc (cached).
  func entry(_ pid: Int32, _ fd: Int32) -> Entry? {
    let t = table(pid)
    if let e = t.entries[fd] { return e }
    guard fd >= 0, let target = ProcFS.descriptorTarget(pid: pid, fd: fd) else { return nil }
    let e = Entry(
      object: Object(kind: .other(startNames[target] ?? target)), closeOnExec: false, openedAt: 0,
      origin: "inherited")
    t.entries[fd] = e
    return e
  }

  /// `3 (pipe 1 read end)`; the standard three by name.
  func describe(_ pid: Int32, _ fd: Int32) -> String {
    let standard = [0: "stdin", 1: "stdout", 2: "stderr"][Int(fd)]
    guard let e = entry(pid, fd) else { return standard ?? "\(fd)" }
    if let standard, e.origin == "inherited" { return "\(fd) \(standard)" }
    return "\(fd) \(e.object.description)"
  }

  func opened(_ pid: Int32, _ fd: Int32, _ object: Object, closeOnExec: Bool, at: UInt64, by origin: String) {
    table(pid).entries[fd] = Entry(object: object, closeOnExec: closeOnExec, openedAt: at, origin: origin)
  }

  @discardableResult
  func closed(_ pid: Int32, _ fd: Int32) -> Entry? {
    let e = entry(pid, fd)
    table(pid).entries[fd] = nil
    return e
  }

  /// dup2/dup3/dup/F_DUPFD: `to` now refers to what `from` does (without close-on-exec unless asked).
  func duplicated(_ pid: Int32, from: Int32, to: Int32, closeOnExec: Bool, at: UInt64, by origin: String) {
    guard let e = entry(pid, from) else { return }
    table(pid).entries[to] = Entry(object: e.object, closeOnExec: closeOnExec, openedAt: at, origin: origin)
  }

  func setCloseOnExec(_ pid: Int32, _ fd: Int32, _ on: Bool) {
    if var e = entry(pid, fd) {
      e.closeOnExec = on
      table(pid).entries[fd] = e
    }
  }

  /// fork copies the table; clone with CLONE_FILES (threads) shares it.
  func created(child: Int32, parent: Int32, sharesTable: Bool) {
    tables[child] = sharesTable ? table(parent) : table(parent).copy()
  }

  /// execve closes every close-on-exec descriptor.
  func execed(_ pid: Int32) {
    let t = table(pid)
    t.entries = t.entries.filter { !$0.value.closeOnExec }
  }

  func forget(_ pid: Int32) { tables[pid] = nil }
}
