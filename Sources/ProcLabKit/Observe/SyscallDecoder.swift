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
  /// Each call number has its own reader (`DecodedCall`, in SyscallDecoderDescriptors.swift
  /// and SyscallDecoderProcesses.swift).
  func decode(_ c: FinishedCall, describe: Bool = true) -> Decoded {
    guard c.call.native else { return Decoded(text: "\(c.name) = \(c.result)") }
    guard Sys.isDecoded(c.number) else {
      return Decoded(text: describe ? "\(c.name)(…) = \(c.isError ? c.failure : String(c.result))" : "")
    }
    let call = DecodedCall(c: c, describe: describe, decoder: self)
    switch c.number {
    case Sys.read, Sys.write, Sys.pread64, Sys.pwrite64, Sys.readv, Sys.writev: return call.transfer()
    case Sys.pipe, Sys.pipe2: return call.pipe()
    case Sys.dup2, Sys.dup3, Sys.dup: return call.duplicate()
    case Sys.fcntl: return call.fcntl()
    case Sys.close: return call.close()
    case Sys.open, Sys.openat, Sys.openat2, Sys.creat: return call.open()
    case Sys.fork, Sys.vfork: return call.fork()
    case Sys.clone: return call.clone()
    case Sys.clone3: return call.clone3()
    case Sys.execve, Sys.execveat: return call.exec()
    case Sys.wait4: return call.wait4()
    case Sys.waitid: return call.waitid()
    case Sys.kill, Sys.tkill, Sys.tgkill: return call.kill()
    case Sys.rtSigaction: return call.sigaction()
    case Sys.futex: return call.futex()
    case Sys.mmap: return call.mmap()
    case Sys.munmap: return call.munmap()
    case Sys.brk: return call.brk()
    case Sys.mqOpen: return call.mqOpen()
    case Sys.mqTimedsend: return call.mqSend()
    case Sys.mqTimedreceive: return call.mqReceive()
    case Sys.socket: return call.socket()
    case Sys.socketpair: return call.socketpair()
    case Sys.accept, Sys.accept4: return call.accept()
    case Sys.connect, Sys.bind, Sys.listen: return call.socketSetup()
    case Sys.sendto, Sys.sendmsg, Sys.recvfrom, Sys.recvmsg: return call.socketTransfer()
    case Sys.exitGroup, Sys.exit: return call.exit()
    case Sys.unlink, Sys.unlinkat, Sys.mqUnlink, Sys.mknod, Sys.mknodat: return call.pathCall()
    case Sys.pause, Sys.rtSigsuspend, Sys.nanosleep, Sys.clockNanosleep: return call.sleep()
    default: return call.other()
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
