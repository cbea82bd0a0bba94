/// Calls on processes, signals, futexes and memory.
extension SyscallDecoder.DecodedCall {
  /// fork/vfork: the new PID.
  func fork() -> Decoded {
    return Decoded(text: "\(c.name)() = \(failed ? fail : String(r))")
  }

  /// clone: what the child shares, and its exit signal.
  func clone() -> Decoded {
    // x86-64 and arm64: clone(flags, stack, parent_tid, child_tid, tls); the low byte is the exit signal.
    let flags = a[0]
    return Decoded(
      text:
        "clone(\(decoder.cloneFlags(flags & ~0xff, exitSignal: flags & 0xff))) = \(failed ? fail : String(r))"
    )
  }

  /// clone3: the flags read from struct clone_args at entry.
  func clone3() -> Decoded {
    if case .clone3(let flags, let sig) = c.call.capture {
      return Decoded(
        text: "clone3(\(decoder.cloneFlags(flags, exitSignal: sig))) = \(failed ? fail : String(r))")
    }
    return Decoded(text: "clone3() = \(failed ? fail : String(r))")
  }

  /// execve/execveat: the program and argv read at entry.
  func exec() -> Decoded {
    if case .exec(let p, let argv) = c.call.capture {
      let args = argv.map { "\"\(Printable.word($0))\"" }.joined(separator: ", ")
      return Decoded(text: "execve(\"\(Printable.line(p))\", [\(args)]) = \(failed ? fail : "0")")
    }
    return Decoded(text: "execve() = \(failed ? fail : "0")")
  }

  /// wait4: which child ended and how (the status word read from the tracee).
  func wait4() -> Decoded {
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
  }

  /// waitid: the child and how it ended, from the siginfo_t; WNOWAIT reaps nothing.
  func waitid() -> Decoded {
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
  }

  /// kill/tkill/tgkill: a signal sent to a process or a thread.
  func kill() -> Decoded {
    let target = n == Sys.tgkill ? fd(1) : fd(0)
    let sig = n == Sys.tgkill ? fd(2) : fd(1)
    let text = "\(c.name)(\(target), \(sig == 0 ? "0" : Signals.name(sig))) = \(failed ? fail : "0")"
    return Decoded(
      text: text,
      effect: failed || sig == 0 ? nil : .signalSent(target: target, signal: sig, thread: n != Sys.kill))
  }

  /// rt_sigaction: the new disposition read at entry.
  func sigaction() -> Decoded {
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
  }

  /// futex: waits with how long they slept, wakes with how many woke.
  func futex() -> Decoded {
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
  }

  /// mmap: size, protection, flags, and the file mapped.
  func mmap() -> Decoded {
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
  }

  /// munmap.
  func munmap() -> Decoded {
    return Decoded(
      text: "munmap(\(Units.address(UInt(a[0]))), \(Units.bytes(Int(a[1])))) = \(failed ? fail : "0")")
  }

  /// brk: the new end of the heap.
  func brk() -> Decoded {
    return Decoded(
      text:
        "brk(\(a[0] == 0 ? "NULL" : Units.address(UInt(a[0])))) = \(Units.address(UInt(bitPattern: Int(r))))",
      effect: .heapEnd(UInt64(bitPattern: r)))
  }

  /// exit/exit_group: the status (the call does not return).
  func exit() -> Decoded {
    return Decoded(text: "\(c.name)(\(fd(0)))")
  }

  /// pause/rt_sigsuspend/nanosleep/clock_nanosleep: how long the caller slept.
  func sleep() -> Decoded {
    let waited = Units.duration(.nanoseconds(Int64(c.duration)))
    return Decoded(text: "\(c.name)() = \(failed ? fail : String(r)) after \(waited)")
  }

  /// A decoded call with no shape of its own: name and result.
  func other() -> Decoded {
    return Decoded(text: describe ? "\(c.name)(…) = \(failed ? fail : String(r))" : "")
  }
}
