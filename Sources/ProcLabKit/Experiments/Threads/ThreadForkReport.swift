/// What `thread N --fork` prints and why.
enum ThreadForkReport {
  static func render(_ res: ThreadForkExperiment.Result) -> Report {
    let r = Report()
    r.line(
      "lab child \(r.pid(res.labPID)) with \(res.parentThreads) threads (main + \(res.threads)); thread \(r.tid(Int32(res.holderTID))) holds a mutex for \(r.fixed("\(ThreadForkExperiment.holdMS) ms")); the main thread forks\(res.atfork ? " (pthread_atfork handlers registered)" : "")"
    )
    r.line(
      "fork took \(r.duration(.nanoseconds(Int64(res.forkNanoseconds)))); child \(r.pid(Int32(res.childPID))): /proc/\(res.childPID)/task lists \(res.childThreads) thread\(res.childThreads == 1 ? "" : "s")"
    )
    if res.childHung {
      r.line(
        "the child called pthread_mutex_lock: no progress for \(ThreadForkExperiment.watchdogMS) ms, asleep in \(r.note(res.childWaitsIn.isEmpty ? "?" : res.childWaitsIn, .word)); watchdog: \(res.childStatus), reaped"
      )
    } else {
      r.line("the child locked and unlocked the mutex, then \(res.childStatus)")
    }
    r.fact("lab_pid", res.labPID)
    r.fact("threads", res.threads)
    r.fact("parent_threads", res.parentThreads)
    r.fact("child_pid", res.childPID)
    r.fact("child_threads", res.childThreads)
    r.fact("child_locked", res.childLocked)
    r.fact("child_hung", res.childHung)
    r.fact("child_waits_in", res.childWaitsIn)
    r.fact("child_status", res.childStatus)
    r.fact("fork_ns", res.forkNanoseconds)
    r.fact("atfork", res.atfork)
    var short =
      "The process had \(res.parentThreads) threads, but the forked child had \(res.childThreads): fork gives the child a copy of the whole address space (copy-on-write: the page tables are copied, the pages shared until one side writes) but only the thread that called it."
    if res.childHung {
      short +=
        " The mutex was copied too, locked, with its owner left behind: the thread that would unlock it does not exist in the child (unlocking it from another thread is undefined behaviour, even where glibc's default mutex would let it), so the child's pthread_mutex_lock slept (in \(res.childWaitsIn.isEmpty ? "the kernel" : res.childWaitsIn)) until the watchdog killed it. The same happens with any lock another thread holds at fork time and nothing resets in the child (a library's, the Swift runtime's): that is why a child of a threaded process should only call async-signal-safe functions before exec."
    } else if res.atfork {
      short +=
        " With pthread_atfork, fork first ran the 'prepare' handler, which locked the mutex — waiting \(Units.duration(.nanoseconds(Int64(res.forkNanoseconds)))) for the holder to let go — so the copy was taken with the mutex in a known state, and the 'child' handler unlocked it: the child could lock it. That is what pthread_atfork is for: libraries take their locks before fork and release them on both sides."
    } else {
      short +=
        " This time the holder had already let go before fork, so the child's copy of the mutex was unlocked."
    }
    r.explain(
      short,
      more:
        "POSIX says the child of a multithreaded process is a copy with a single thread and may only call async-signal-safe functions until it calls exec. glibc resets some of its own locks in the child (malloc's, for instance), but it cannot know about yours. The usual cures: fork before creating threads; exec right after fork, which posix_spawn does in one call (glibc's is clone(CLONE_VM|CLONE_VFORK), then execve in the child); or pthread_atfork handlers for the locks you own."
    )
    return r
  }
}
