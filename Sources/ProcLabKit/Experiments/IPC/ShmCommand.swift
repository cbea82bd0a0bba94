import Glibc

/// `shm`: one shared-memory object mapped by two processes.
enum ShmCommand {
  /// Enough for the two processes to count at the same time for a few hundred
  /// milliseconds even on a busy machine (each increment takes a few ns alone).
  static let defaultIterations = 20_000_000
  /// A semaphore around each increment makes it about 20 times slower.
  static let defaultLockedIterations = 2_000_000

  struct Options: CommandOptions {
    var privateMapping = false
    var counter = SharedMemoryResult.Counter.none
    var iterations: Int?

    static var declarations: [OptionDeclaration<Self>] {
      [
        .flag(
          "--private", \.privateMapping,
          "map with MAP_PRIVATE: each process gets its own copy, the other never sees a write"),
        .choice(
          "counter", \.counter,
          [
            (
              "--no-sync", .unsynchronized,
              "both processes increment one shared counter without synchronization"
            ),
            ("--lock", .semaphore, "both increment it under a process-shared semaphore (sem_init pshared=1)"),
          ]),
        .value(
          "--iterations", \.iterations, "N", in: 1000...100_000_000,
          "increments per process (default \(defaultIterations) with --no-sync, \(defaultLockedIterations) with --lock)"
        ),
      ]
    }

    func validate(command: String) throws {
      if privateMapping && counter != .none {
        throw UsageError(
          "shm: --private gives each process its own copy, so there is no shared counter to race on; use --no-sync or --lock without --private"
        )
      }
      if iterations != nil && counter == .none {
        throw UsageError("shm: --iterations counts with --no-sync or --lock; add one of them")
      }
    }

    /// The increments each process will make, when there is a counter.
    var effective: Options {
      var o = self
      if counter != .none { o.iterations = increments }
      return o
    }

    /// Increments per process: fewer by default when a semaphore guards each one.
    var increments: Int {
      iterations
        ?? (counter == .semaphore ? ShmCommand.defaultLockedIterations : ShmCommand.defaultIterations)
    }
  }

  static let command = Command(
    name: "shm", area: .ipc,
    summary:
      "shared memory (shm_open + mmap) between two processes; --no-sync loses updates, --lock does not",
    examples: ["shm", "shm --private", "shm --no-sync", "shm --lock"],
    options: Options.self
  ) { options, _ in
    let mode = options.counter
    let iterations = options.increments
    let s = try IPCSharedMemory.run(
      privateMapping: options.privateMapping, counter: mode, iterations: iterations)
    let name = s.name
    let r = Report()
    let flag = s.privateMapping ? "MAP_PRIVATE" : "MAP_SHARED"
    r.line(
      "shm_open(\(r.note(name, .word))): mapped \(flag) by the shell \(r.pid(ThisProcess.untracedID)) at \(r.addr(s.parentAddress))"
    )
    r.line(
      "  child \(r.pid(s.child)) opened it by name and mapped it twice: at \(r.addr(s.childAddress)) and at \(r.addr(s.childSecondAddress))"
    )
    r.line(
      "  /dev/shm\(name): " + (s.listedBeforeUnlink ? "listed" : "not listed") + " before shm_unlink, "
        + (s.listedAfterUnlink ? "still listed" : "gone") + " right after both mapped it")
    if s.childSawParent {
      r.line(
        "  the shell wrote \"hello from the parent\"; the child saw it after \(r.duration(s.childWaited))")
    } else {
      r.line(
        "  the shell wrote \"hello from the parent\"; the child looked for \(r.duration(s.childWaited)) and never saw it"
          + (s.childRead.isEmpty ? " (its page holds zeros)" : " (it read \"\(s.childRead)\")"))
    }
    if s.childSawParent {
      r.line(
        "  the child's second mapping showed "
          + (s.childSecondSaw ? "the same message: one page at two addresses" : "something else (unexpected)")
      )
    }
    r.line(
      "  the child wrote \"hello from the child\"; the shell "
        + (s.parentSawChild ? "read it in its own mapping" : "did not see it in its own mapping"))
    if mode != .none {
      r.line(
        // The semaphore loses nothing, on every run; without it how many updates are lost varies
        // (none, even, when the two did not overlap): no bound holds always.
        "  counter: 2 processes × \(iterations) increments "
          + (mode == .semaphore ? "under a process-shared semaphore" : "without synchronization")
          + " = \(mode == .semaphore ? String(s.counter) : r.count(s.counter)) (expected \(s.expected), \(mode == .semaphore ? String(s.lost) : r.count(s.lost)) lost) in \(r.duration(s.counterTime))"
      )
      r.line("  both were counting at the same time for \(r.duration(s.overlap)) of it")
    }
    r.line(
      "  child \(r.pid(s.child)) \(s.status); object unlinked"
        + (s.nameLeft ? " — BUT STILL LISTED" : ", nothing left in /dev/shm"))
    r.fact("mechanism", "shared memory")
    r.fact("name", name)
    r.fact("mapping", flag)
    r.fact("parent_address", Int(s.parentAddress))
    r.fact("child_address", Int(s.childAddress))
    r.fact("child_second_address", Int(s.childSecondAddress))
    r.fact("child_second_saw", s.childSecondSaw)
    r.fact("listed_before_unlink", s.listedBeforeUnlink)
    r.fact("listed_after_unlink", s.listedAfterUnlink)
    r.fact("child_saw_parent", s.childSawParent)
    r.fact("child_saw_ns", Int(s.childWaited.nanoseconds))
    r.fact("child_read", s.childRead)
    r.fact("parent_saw_child", s.parentSawChild)
    r.fact("counter_mode", ["none", "no-sync", "lock"][Int(mode.rawValue)])
    if mode != .none {
      r.fact("iterations", iterations)
      r.fact("counter", s.counter)
      r.fact("expected", s.expected)
      r.fact("lost", s.lost)
      r.fact("counter_ns", Int(s.counterTime.nanoseconds))
      r.fact("overlap_ns", Int(s.overlap.nanoseconds))
    }
    r.fact("name_left", s.nameLeft)
    r.fact("child", s.child)
    r.fact("child_status", s.status.json)

    var text: String
    if s.privateMapping {
      text =
        "With MAP_PRIVATE each process got its own copy of the page the moment it wrote (copy-on-write): "
        + "neither saw the other's write in \(Units.duration(s.childWaited)), though both mapped the same object."
    } else {
      text =
        "Both processes mapped the same physical page: a store by one is a load by the other, no system call and no copy "
        + (s.childSawParent
          ? "(seen after \(Units.duration(s.childWaited)))." : "(yet the child did not see it — unexpected).")
        + " What is shared is the page, not an address: the child mapped it at two addresses and saw the message "
        + "through both"
        + (s.parentAddress == s.childAddress
          ? "; that its first mapping has the shell's address only means its address space began as a copy of the shell's, so mmap found the same free gap."
          : ".")
    }
    switch mode {
    case .unsynchronized:
      text +=
        s.lost > 0
        ? " \(s.lost) of \(s.expected) increments were lost: each is a load, an add and a store, and when both processes load the same value one store overwrites the other."
        : " No update was lost this time: the two processes counted at the same time for only \(Units.duration(s.overlap)) — a busy machine ran them one after the other. The race needs both on two CPUs at once; run it again."
    case .semaphore:
      text +=
        s.lost == 0
        ? " With the semaphore around each increment none of \(s.expected) was lost, at a cost: \(Units.duration(s.counterTime)) for the count."
        : " \(s.lost) were lost even with the semaphore — that should not happen; please report it."
    case .none: break
    }
    r.explain(
      text,
      more:
        "shm_open() creates a named object in /dev/shm (a tmpfs), ftruncate() sizes it and mmap() puts it into the "
        + "address space. The name was unlinked as soon as both processes had mapped it: the memory lives on until "
        + "the last mapping goes, and nothing is left behind if either side is killed. Shared memory is the fastest "
        + "IPC because the kernel is not involved in each transfer — which is also why the processes must "
        + "synchronize themselves (a semaphore or a PTHREAD_PROCESS_SHARED mutex placed in the shared page).")
    return r
  }
}
