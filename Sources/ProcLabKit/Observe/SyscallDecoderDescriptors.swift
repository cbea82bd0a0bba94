extension SyscallDecoder {
  /// One finished call as its reader sees it: the call's number, arguments, result and
  /// the names of its descriptors (from the model, before the call changes it).
  struct DecodedCall {
    let c: FinishedCall
    /// False: only the effect is worked out, the text stays empty.
    let describe: Bool
    let decoder: SyscallDecoder
    typealias Decoded = SyscallDecoder.Decoded
    typealias Effect = SyscallDecoder.Effect

    var descriptors: DescriptorModel { decoder.descriptors }
    var n: Int32 { c.number }
    var a: SyscallArguments { c.arguments }
    var pid: Int32 { c.pid }
    var r: Int64 { c.result }
    var failed: Bool { c.isError }
    var fail: String { c.failure }
    func fd(_ i: Int) -> Int32 { a.int(i) }
    func name(_ f: Int32) -> String { descriptors.describe(pid, f) }
    func path() -> String {
      if case .path(let p) = c.call.capture { return "\"\(Printable.line(p))\"" }
      return "?"
    }
  }
}

/// Calls on descriptors: reads and writes, pipes, duplicates, files, queues, sockets.
extension SyscallDecoder.DecodedCall {
  /// read/write and their vector and positioned forms: bytes moved through a descriptor.
  func transfer() -> Decoded {
    let isWrite = n == Sys.write || n == Sys.pwrite64 || n == Sys.writev
    let object = descriptors.entry(pid, fd(0))?.object
    let effect = Effect.transfer(fd: fd(0), object: object, bytes: failed ? 0 : Int(r), isWrite: isWrite)
    if !describe { return Decoded(text: "", effect: failed ? nil : effect) }
    let shown = "\(c.name)(\(name(fd(0))), \(n == Sys.readv || n == Sys.writev ? "iov" : String(a[2])))"
    if failed { return Decoded(text: "\(shown) = \(fail)") }
    let what = !isWrite && r == 0 ? "0 (end of file)" : Units.bytes(Int(r))
    return Decoded(text: "\(shown) = \(what)", effect: effect)
  }

  /// pipe/pipe2: the two new descriptors, which the model records as one pipe.
  func pipe() -> Decoded {
    let flags = n == Sys.pipe2 ? a[1] : 0
    if failed { return Decoded(text: "\(c.name)() = \(fail)") }
    let fds = TraceeMemory.int32s(c.tid, at: a[0], count: 2)
    guard fds.count == 2 else { return Decoded(text: "\(c.name)() = 0") }
    let id = descriptors.newPipe()
    let cloexec = flags & Flags.openCloexec != 0
    descriptors.opened(
      pid, fds[0], .init(kind: .pipeRead(id)), closeOnExec: cloexec, at: c.exit, by: "\(c.name) in \(pid)")
    descriptors.opened(
      pid, fds[1], .init(kind: .pipeWrite(id)), closeOnExec: cloexec, at: c.exit, by: "\(c.name) in \(pid)")
    return Decoded(
      text: "\(c.name)(\(cloexec ? "O_CLOEXEC" : "")) = [\(fds[0]) read, \(fds[1]) write] (pipe \(id))",
      effect: .pipe(id: id, read: fds[0], write: fds[1]))
  }

  /// dup/dup2/dup3: one more descriptor for the same open file.
  func duplicate() -> Decoded {
    let from = fd(0)
    let object = descriptors.entry(pid, from)?.object
    let args = n == Sys.dup ? name(from) : "\(name(from)), \(fd(1))"
    if failed { return Decoded(text: "\(c.name)(\(args)) = \(fail)") }
    let to = Int32(truncatingIfNeeded: r)
    let cloexec = n == Sys.dup3 && a[2] & Flags.openCloexec != 0
    if to != from {
      descriptors.closed(pid, to)
      descriptors.duplicated(
        pid, from: from, to: to, closeOnExec: cloexec, at: c.exit, by: "\(c.name) in \(pid)")
    }
    let standard = [0: " (stdin)", 1: " (stdout)", 2: " (stderr)"][Int(to)] ?? ""
    return Decoded(
      text: "\(c.name)(\(args)) = \(to)\(standard)", effect: .duplicate(from: from, to: to, object: object))
  }

  /// fcntl: F_DUPFD duplicates; F_SETFD changes close-on-exec.
  func fcntl() -> Decoded {
    let cmd = a[1]
    if cmd == 0 || cmd == 1030, !failed {  // F_DUPFD, F_DUPFD_CLOEXEC
      let to = Int32(truncatingIfNeeded: r)
      let object = descriptors.entry(pid, fd(0))?.object
      descriptors.duplicated(
        pid, from: fd(0), to: to, closeOnExec: cmd == 1030, at: c.exit, by: "fcntl in \(pid)")
      return Decoded(
        text: "fcntl(\(name(fd(0))), F_DUPFD) = \(to)",
        effect: .duplicate(from: fd(0), to: to, object: object))
    }
    if cmd == 2, !failed { descriptors.setCloseOnExec(pid, fd(0), a[2] & 1 != 0) }  // F_SETFD
    return Decoded(text: "fcntl(\(fd(0)), \(cmd)) = \(failed ? fail : String(r))")
  }

  /// close: the descriptor leaves the model.
  func close() -> Decoded {
    let shown = name(fd(0))
    let entry = failed ? nil : descriptors.closed(pid, fd(0))
    return Decoded(
      text: "close(\(shown)) = \(failed ? fail : "0")",
      effect: failed ? nil : .close(fd: fd(0), object: entry?.object))
  }

  /// open/openat/openat2/creat: a file descriptor by its path.
  func open() -> Decoded {
    let flags = n == Sys.openat ? a[2] : n == Sys.open ? a[1] : n == Sys.creat ? 0o1101 : 0
    let shown = "\(c.name)(\(path())\(n == Sys.openat2 ? "" : ", " + Flags.open(flags)))"
    if failed { return Decoded(text: "\(shown) = \(fail)") }
    var p = "?"
    if case .path(let s) = c.call.capture { p = s }
    let f = Int32(truncatingIfNeeded: r)
    let object = DescriptorModel.Object(kind: .file(p))
    descriptors.opened(
      pid, f, object, closeOnExec: flags & Flags.openCloexec != 0, at: c.exit, by: "\(c.name) in \(pid)")
    return Decoded(text: "\(shown) = \(f)", effect: .open(fd: f, object: object))
  }

  /// mq_open: a queue descriptor by name.
  func mqOpen() -> Decoded {
    var p = "?"
    if case .path(let s) = c.call.capture { p = s }
    if failed { return Decoded(text: "mq_open(\(path())) = \(fail)") }
    let f = Int32(truncatingIfNeeded: r)
    descriptors.opened(
      pid, f, .init(kind: .queue(p)), closeOnExec: true, at: c.exit, by: "mq_open in \(pid)")
    return Decoded(text: "mq_open(\(path()), \(Flags.open(a[1]))) = \(f)", effect: .queue(name: p))
  }

  /// mq_timedsend.
  func mqSend() -> Decoded {
    return Decoded(text: "mq_timedsend(\(name(fd(0))), \(Units.bytes(Int(a[2])))) = \(failed ? fail : "0")")
  }

  /// mq_timedreceive.
  func mqReceive() -> Decoded {
    return Decoded(text: "mq_timedreceive(\(name(fd(0)))) = \(failed ? fail : Units.bytes(Int(r)))")
  }

  /// socket: a new socket descriptor.
  func socket() -> Decoded {
    if failed { return Decoded(text: "socket(\(Flags.socketFamily(a[0]))) = \(fail)") }
    let id = descriptors.newSocket()
    let f = Int32(truncatingIfNeeded: r)
    let family = Flags.socketFamily(a[0])
    descriptors.opened(
      pid, f, .init(kind: .socket(id)), closeOnExec: a[1] & Flags.openCloexec != 0, at: c.exit,
      by: "socket in \(pid)")
    return Decoded(
      text: "socket(\(family), \(Flags.socketType(a[1]))) = \(f) (socket \(id))",
      effect: .socket(id: id, family: family))
  }

  /// socketpair: two connected sockets.
  func socketpair() -> Decoded {
    if failed { return Decoded(text: "socketpair(\(Flags.socketFamily(a[0]))) = \(fail)") }
    let fds = TraceeMemory.int32s(c.tid, at: a[3], count: 2)
    guard fds.count == 2 else { return Decoded(text: "socketpair() = 0") }
    let family = Flags.socketFamily(a[0])
    let one = descriptors.newSocket()
    let two = descriptors.newSocket()
    let cloexec = a[1] & Flags.openCloexec != 0
    descriptors.opened(
      pid, fds[0], .init(kind: .socket(one)), closeOnExec: cloexec, at: c.exit, by: "socketpair in \(pid)")
    descriptors.opened(
      pid, fds[1], .init(kind: .socket(two)), closeOnExec: cloexec, at: c.exit, by: "socketpair in \(pid)")
    return Decoded(
      text:
        "socketpair(\(family), \(Flags.socketType(a[1]))) = [\(fds[0]), \(fds[1])] (sockets \(one), \(two))",
      effect: .socket(id: one, family: family))
  }

  /// accept/accept4: a new socket for a connection.
  func accept() -> Decoded {
    if failed { return Decoded(text: "\(c.name)(\(name(fd(0)))) = \(fail)") }
    let id = descriptors.newSocket()
    let f = Int32(truncatingIfNeeded: r)
    descriptors.opened(
      pid, f, .init(kind: .socket(id)), closeOnExec: false, at: c.exit, by: "accept in \(pid)")
    return Decoded(
      text: "\(c.name)(\(name(fd(0)))) = \(f) (socket \(id))", effect: .socket(id: id, family: "accepted"))
  }

  /// connect/bind/listen.
  func socketSetup() -> Decoded {
    return Decoded(text: "\(c.name)(\(name(fd(0)))) = \(failed ? fail : "0")")
  }

  /// sendto/sendmsg/recvfrom/recvmsg: bytes through a socket.
  func socketTransfer() -> Decoded {
    let isWrite = n == Sys.sendto || n == Sys.sendmsg
    let object = descriptors.entry(pid, fd(0))?.object
    if failed { return Decoded(text: "\(c.name)(\(name(fd(0)))) = \(fail)") }
    return Decoded(
      text: "\(c.name)(\(name(fd(0)))) = \(Units.bytes(Int(r)))",
      effect: .transfer(fd: fd(0), object: object, bytes: Int(r), isWrite: isWrite))
  }

  /// unlink/unlinkat/mq_unlink/mknod/mknodat: by path.
  func pathCall() -> Decoded {
    return Decoded(text: "\(c.name)(\(path())) = \(failed ? fail : "0")")
  }
}
