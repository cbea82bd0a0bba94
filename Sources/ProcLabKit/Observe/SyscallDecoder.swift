import Glibc

/// Reads a curated set of system calls the way a learner would want them:
/// process creation, exec with its argv, wait with the status it collected,
/// pipes and descriptors with what each descriptor is, read/write byte counts,
/// signals, futex waits with their durations, mappings and heap growth, message
/// queues and sockets. Other calls are shown by name with their result.
///
/// It keeps the descriptor model current as calls finish, so it must see every
/// call of every traced process in order.
final class SyscallDecoder {
  let descriptors = DescriptorModel()

  /// What a decoded call did, for the observer's model.
  enum Effect: Sendable, Equatable {
    case pipe(id: Int, read: Int32, write: Int32)
    case duplicate(from: Int32, to: Int32, object: DescriptorModel.Object?)
    case close(fd: Int32, object: DescriptorModel.Object?)
    case open(fd: Int32, object: DescriptorModel.Object)
    case transfer(fd: Int32, object: DescriptorModel.Object?, bytes: Int, isWrite: Bool)
    case reaped(child: Int32, status: TerminationStatus?)
    case signalSent(target: Int32, signal: Int32, thread: Bool)
    case handler(signal: Int32, handler: UInt64)
    case futexWait(nanoseconds: UInt64)
    case futexWake(woken: Int)
    case mapping(bytes: Int, shared: Bool, anonymous: Bool, address: UInt64)
    case heapEnd(UInt64)
    case queue(name: String)
    case socket(id: Int, family: String)
  }

  struct Decoded {
    var text: String
    var effect: Effect?
  }

  // MARK: entry

  /// Reads what must be read while the call has not run yet.
  func capture(_ call: inout ActiveCall, tid: Int32) {
    let n = call.number
    let a = call.arguments
    guard call.native, Sys.isDecoded(n) else { return }
    if n == Sys.execve {
      call.capture = .exec(
        path: TraceeMemory.string(tid, at: a[0]) ?? "?", argv: TraceeMemory.stringArray(tid, at: a[1]))
    } else if n == Sys.execveat {
      call.capture = .exec(
        path: TraceeMemory.string(tid, at: a[1]) ?? "?", argv: TraceeMemory.stringArray(tid, at: a[2]))
    } else if n == Sys.openat || n == Sys.openat2 || n == Sys.unlinkat || n == Sys.mknodat {
      call.capture = .path(TraceeMemory.string(tid, at: a[1]) ?? "?")
    } else if n == Sys.open || n == Sys.creat || n == Sys.mqOpen || n == Sys.unlink || n == Sys.mqUnlink
      || n == Sys.mknod
    {
      call.capture = .path(TraceeMemory.string(tid, at: a[0]) ?? "?")
    } else if n == Sys.clone3 {
      // struct clone_args { flags, pidfd, child_tid, parent_tid, exit_signal, … }
      let w = TraceeMemory.words(tid, at: a[0], count: 5)
      if w.count == 5 { call.capture = .clone3(flags: w[0], exitSignal: w[4]) }
    } else if n == Sys.rtSigaction, a[1] != 0 {
      // struct kernel_sigaction { handler, flags, restorer, mask }
      let w = TraceeMemory.words(tid, at: a[1], count: 2)
      if w.count == 2 { call.capture = .sigaction(handler: w[0], flags: w[1]) }
    }
  }

  // MARK: exit

  /// Turns a finished call into text and an effect, updating the descriptor model.
  /// With `describe` false only the effect is worked out (the text stays empty) for the
  /// frequent calls: a program making millions of writes is counted, not described.
  func decode(_ c: FinishedCall, describe: Bool = true) -> Decoded {
    let n = c.number
    let a = c.arguments
    let pid = c.pid
    let r = c.result
    let failed = c.isError
    lazy var fail = c.failure
    func fd(_ i: Int) -> Int32 { a.int(i) }
    func name(_ f: Int32) -> String { descriptors.describe(pid, f) }
    func path() -> String {
      if case .path(let p) = c.call.capture { return "\"\(Printable.line(p))\"" }
      return "?"
    }
    guard c.call.native else { return Decoded(text: "\(c.name) = \(r)") }
    guard Sys.isDecoded(n) else {
      return Decoded(text: describe ? "\(c.name)(…) = \(failed ? fail : String(r))" : "")
    }

    switch n {
    case Sys.read, Sys.write, Sys.pread64, Sys.pwrite64, Sys.readv, Sys.writev:
      let isWrite = n == Sys.write || n == Sys.pwrite64 || n == Sys.writev
      let object = descriptors.entry(pid, fd(0))?.object
      let effect = Effect.transfer(fd: fd(0), object: object, bytes: failed ? 0 : Int(r), isWrite: isWrite)
      if !describe { return Decoded(text: "", effect: failed ? nil : effect) }
      let shown = "\(c.name)(\(name(fd(0))), \(n == Sys.readv || n == Sys.writev ? "iov" : String(a[2])))"
      if failed { return Decoded(text: "\(shown) = \(fail)") }
      let what = !isWrite && r == 0 ? "0 (end of file)" : Units.bytes(Int(r))
      return Decoded(text: "\(shown) = \(what)", effect: effect)

    case Sys.pipe, Sys.pipe2:
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

    case Sys.dup2, Sys.dup3, Sys.dup:
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

    case Sys.fcntl:
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

    case Sys.close:
      let shown = name(fd(0))
      let entry = failed ? nil : descriptors.closed(pid, fd(0))
      return Decoded(
        text: "close(\(shown)) = \(failed ? fail : "0")",
        effect: failed ? nil : .close(fd: fd(0), object: entry?.object))

    case Sys.open, Sys.openat, Sys.openat2, Sys.creat:
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

    case Sys.fork, Sys.vfork:
      return Decoded(text: "\(c.name)() = \(failed ? fail : String(r))")
    case Sys.clone:
      // x86-64 and arm64: clone(flags, stack, parent_tid, child_tid, tls); the low byte is the exit signal.
      let flags = a[0]
      return Decoded(
        text: "clone(\(cloneFlags(flags & ~0xff, exitSignal: flags & 0xff))) = \(failed ? fail : String(r))")
    case Sys.clone3:
      if case .clone3(let flags, let sig) = c.call.capture {
        return Decoded(text: "clone3(\(cloneFlags(flags, exitSignal: sig))) = \(failed ? fail : String(r))")
      }
      return Decoded(text: "clone3() = \(failed ? fail : String(r))")

    case Sys.execve, Sys.execveat:
      if case .exec(let p, let argv) = c.call.capture {
        let args = argv.map { "\"\(Printable.word($0))\"" }.joined(separator: ", ")
        return Decoded(text: "execve(\"\(Printable.line(p))\", [\(args)]) = \(failed ? fail : "0")")
      }
      return Decoded(text: "execve() = \(failed ? fail : "0")")

    case Sys.wait4:
      let target = fd(0)
      let who = target == -1 ? "any child" : target > 0 ? String(target) : "group \(-target)"
      let noHang = a[2] & 1 != 0 ? ", WNOHANG" : ""
      if failed { return Decoded(text: "wait4(\(who)\(noHang)) = \(fail)") }
      if r == 0 { return Decoded(text: "wait4(\(who)\(noHang)) = 0 (none has ended yet)") }
      var status: TerminationStatus?
      if a[1] != 0, let s = TraceeMemory.int32s(c.tid, at: a[1], count: 1).first {
        status = TerminationStatus(waitStatus: s)
      }
      let child = Int32(truncatingIfNeeded: r)
      return Decoded(
        text: "wait4(\(who)\(noHang)) = \(child)\(status.map { ", \($0)" } ?? "")",
        effect: status.map {
          if case .stopped = $0 { return nil } else { return .reaped(child: child, status: $0) }
        }
          ?? .reaped(child: child, status: nil))

    case Sys.waitid:
      if failed { return Decoded(text: "waitid() = \(fail)") }
      // siginfo_t: si_signo, si_errno, si_code, (pad), si_pid, si_uid, si_status
      let info = TraceeMemory.int32s(c.tid, at: a[2], count: 7)
      let noWait = a[3] & 0x0100_0000 != 0  // WNOWAIT: looked, did not reap
      guard info.count == 7, info[4] != 0 else { return Decoded(text: "waitid() = 0 (none has ended yet)") }
      let code = info[2]
      let status: TerminationStatus? =
        code == 1
        ? .exited(info[6]) : (code == 2 || code == 3) ? .signaled(info[6], coreDumped: code == 3) : nil
      let text =
        "waitid(\(info[4])\(noWait ? ", WNOWAIT" : "")) = 0, \(status.map { "\($0)" } ?? "changed state")"
      return Decoded(
        text: text, effect: noWait || status == nil ? nil : .reaped(child: info[4], status: status))

    case Sys.kill, Sys.tkill, Sys.tgkill:
      let target = n == Sys.tgkill ? fd(1) : fd(0)
      let sig = n == Sys.tgkill ? fd(2) : fd(1)
      let text = "\(c.name)(\(target), \(sig == 0 ? "0" : Signals.name(sig))) = \(failed ? fail : "0")"
      return Decoded(
        text: text,
        effect: failed || sig == 0 ? nil : .signalSent(target: target, signal: sig, thread: n != Sys.kill))

    case Sys.rtSigaction:
      let sig = fd(0)
      guard case .sigaction(let handler, let flags) = c.call.capture else {
        return Decoded(text: "rt_sigaction(\(Signals.name(sig)), query) = \(failed ? fail : "0")")
      }
      let what =
        handler == 0 ? "SIG_DFL" : handler == 1 ? "SIG_IGN" : "handler \(Units.address(UInt(handler)))"
      let restart = flags & 0x1000_0000 != 0 ? ", SA_RESTART" : ""
      return Decoded(
        text: "rt_sigaction(\(Signals.name(sig)), \(what)\(restart)) = \(failed ? fail : "0")",
        effect: failed ? nil : .handler(signal: sig, handler: handler))

    case Sys.futex:
      let op = a[1]
      if !describe {
        if Sys.isFutexWait(op: op) { return Decoded(text: "", effect: .futexWait(nanoseconds: c.duration)) }
        if Sys.isFutexWake(op: op) && !failed { return Decoded(text: "", effect: .futexWake(woken: Int(r))) }
        return Decoded(text: "")
      }
      let waited = Units.duration(.nanoseconds(Int64(c.duration)))
      if Sys.isFutexWait(op: op) {
        let outcome = failed ? "\(fail)" : "0"
        return Decoded(
          text: "futex(\(Units.address(UInt(a[0]))), \(Flags.futexOp(op))) = \(outcome) after \(waited)",
          effect: .futexWait(nanoseconds: c.duration))
      }
      if Sys.isFutexWake(op: op) {
        return Decoded(
          text: "futex(\(Units.address(UInt(a[0]))), \(Flags.futexOp(op))) = \(failed ? fail : "\(r) woken")",
          effect: failed ? nil : .futexWake(woken: Int(r)))
      }
      return Decoded(
        text: "futex(\(Units.address(UInt(a[0]))), \(Flags.futexOp(op))) = \(failed ? fail : String(r))")

    case Sys.mmap:
      let shared = a[3] & 1 != 0
      let anonymous = a[3] & 0x20 != 0
      let text =
        "mmap(\(Units.bytes(Int(a[1]))), \(Flags.names(a[2], Flags.prot)), \(Flags.names(a[3], Flags.map))"
        + (anonymous ? "" : ", \(name(fd(4)))") + ") = "
        + (failed ? fail : Units.address(UInt(bitPattern: Int(r))))
      return Decoded(
        text: text,
        effect: failed
          ? nil
          : .mapping(bytes: Int(a[1]), shared: shared, anonymous: anonymous, address: UInt64(bitPattern: r)))
    case Sys.munmap:
      return Decoded(
        text: "munmap(\(Units.address(UInt(a[0]))), \(Units.bytes(Int(a[1])))) = \(failed ? fail : "0")")
    case Sys.brk:
      return Decoded(
        text:
          "brk(\(a[0] == 0 ? "NULL" : Units.address(UInt(a[0])))) = \(Units.address(UInt(bitPattern: Int(r))))",
        effect: .heapEnd(UInt64(bitPattern: r)))

    case Sys.mqOpen:
      var p = "?"
      if case .path(let s) = c.call.capture { p = s }
      if failed { return Decoded(text: "mq_open(\(path())) = \(fail)") }
      let f = Int32(truncatingIfNeeded: r)
      descriptors.opened(
        pid, f, .init(kind: .queue(p)), closeOnExec: true, at: c.exit, by: "mq_open in \(pid)")
      return Decoded(text: "mq_open(\(path()), \(Flags.open(a[1]))) = \(f)", effect: .queue(name: p))
    case Sys.mqTimedsend:
      return Decoded(text: "mq_timedsend(\(name(fd(0))), \(Units.bytes(Int(a[2])))) = \(failed ? fail : "0")")
    case Sys.mqTimedreceive:
      return Decoded(text: "mq_timedreceive(\(name(fd(0)))) = \(failed ? fail : Units.bytes(Int(r)))")

    case Sys.socket:
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
    case Sys.socketpair:
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
    case Sys.accept, Sys.accept4:
      if failed { return Decoded(text: "\(c.name)(\(name(fd(0)))) = \(fail)") }
      let id = descriptors.newSocket()
      let f = Int32(truncatingIfNeeded: r)
      descriptors.opened(
        pid, f, .init(kind: .socket(id)), closeOnExec: false, at: c.exit, by: "accept in \(pid)")
      return Decoded(
        text: "\(c.name)(\(name(fd(0)))) = \(f) (socket \(id))", effect: .socket(id: id, family: "accepted"))
    case Sys.connect, Sys.bind, Sys.listen:
      return Decoded(text: "\(c.name)(\(name(fd(0)))) = \(failed ? fail : "0")")
    case Sys.sendto, Sys.sendmsg, Sys.recvfrom, Sys.recvmsg:
      let isWrite = n == Sys.sendto || n == Sys.sendmsg
      let object = descriptors.entry(pid, fd(0))?.object
      if failed { return Decoded(text: "\(c.name)(\(name(fd(0)))) = \(fail)") }
      return Decoded(
        text: "\(c.name)(\(name(fd(0)))) = \(Units.bytes(Int(r)))",
        effect: .transfer(fd: fd(0), object: object, bytes: Int(r), isWrite: isWrite))

    case Sys.exitGroup, Sys.exit:
      return Decoded(text: "\(c.name)(\(fd(0)))")
    case Sys.unlink, Sys.unlinkat, Sys.mqUnlink, Sys.mknod, Sys.mknodat:
      return Decoded(text: "\(c.name)(\(path())) = \(failed ? fail : "0")")
    case Sys.pause, Sys.rtSigsuspend, Sys.nanosleep, Sys.clockNanosleep:
      let waited = Units.duration(.nanoseconds(Int64(c.duration)))
      return Decoded(text: "\(c.name)() = \(failed ? fail : String(r)) after \(waited)")
    default:
      return Decoded(text: describe ? "\(c.name)(…) = \(failed ? fail : String(r))" : "")
    }
  }

  /// `CLONE_VM|CLONE_VFORK, exit SIGCHLD` or `thread: CLONE_VM|…`.
  func cloneFlags(_ flags: UInt64, exitSignal: UInt64) -> String {
    // What is shared (memory, descriptors, handlers, the thread group) is the lesson; the
    // TID and TLS bookkeeping flags every fork and thread carries are summed up as `…`.
    let shown = flags & Flags.cloneShown
    var parts: [String] = []
    if shown != 0 { parts.append(Flags.names(shown, Flags.clone)) }
    if exitSignal != 0 {
      parts.append(shown == 0 ? Signals.name(Int32(exitSignal)) : "exit " + Signals.name(Int32(exitSignal)))
    }
    if flags & ~Flags.cloneShown != 0 { parts.append("…") }
    return parts.joined(separator: ", ")
  }

  /// Applies the descriptor side of process creation and exec.
  func created(child: Int32, parent: Int32, flags: UInt64) {
    descriptors.created(child: child, parent: parent, sharesTable: flags & Flags.cloneFiles != 0)
  }
  func execed(_ pid: Int32) { descriptors.execed(pid) }
}
