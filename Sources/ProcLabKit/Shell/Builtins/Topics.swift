/// Short background texts for `explain TOPIC`.
enum Topics {
  static let entries: [(String, [String])] = [
    (
      "process",
      [
        "A process is a running program with its own address space (its own view of memory), its own registers and stack, and its own resources: open files, sockets, a PID. The kernel keeps address spaces apart: a process's loads and stores reach only its own memory. Another process can read or write it only through the kernel and only with permission (the same user, under the ptrace access rules): ptrace(2), process_vm_readv(2) or /proc/PID/mem, which `memory` uses to check its result; or through shared memory both map on purpose."
      ]
    ),
    (
      "thread",
      [
        "A thread is one line of execution inside a process. Threads of a process share its address space, heap and open files, but each has its own stack and registers, and its own kernel thread ID (TID). The kernel schedules each thread on its own, so threads of one process can run at the same time on different CPUs, as many at once as the CPUs in the process's affinity mask (sched_getaffinity) allow."
      ]
    ),
    (
      "zombie",
      [
        "A zombie is a child that has ended but whose parent has not yet collected its exit status with wait(). Its address space and open files are already freed; what remains is its task_struct, a kernel record of a few KiB (see task_struct in /proc/slabinfo) that the kernel still finds by its PID, holding its exit status and resource usage until the parent waits. (Linux has no fixed process table: a PID leads to its task through a per-namespace lookup.) A zombie runs no code and uses no CPU, but it holds that kernel record and a PID: a parent that never waits leaks them."
      ]
    ),
    (
      "orphan",
      [
        "An orphan is a process whose parent ended first. The kernel re-parents it to the nearest 'subreaper' ancestor, or to PID 1 (init) of its PID namespace, which reaps it when it ends."
      ]
    ),
    (
      "signal",
      [
        "A signal is a small asynchronous notice the kernel delivers to a process: SIGINT (Ctrl-C), SIGTERM (please stop), SIGKILL (stop now, cannot be caught), SIGSEGV (bad memory access), SIGCHLD (a child changed state). A process may catch, ignore or block most signals; SIGKILL and SIGSTOP cannot be caught, blocked or ignored."
      ]
    ),
    (
      "race",
      [
        "A race condition: the result depends on how threads interleave. 'counter += 1' is a load, an add and a store; if two threads load the same old value, one of the two increments is lost."
      ]
    ),
    (
      "mutex",
      [
        "A mutex (mutual exclusion lock) lets one thread at a time into a critical section. On Linux, pthread mutexes use futexes: an uncontended lock is one atomic instruction in user space; a contended one puts the waiter to sleep in the kernel (a voluntary context switch)."
      ]
    ),
    (
      "deadlock",
      [
        "A deadlock is a cycle of threads each holding a lock the next one needs. It needs four things at once: mutual exclusion, hold-and-wait, no preemption and a circular wait. Taking locks in one global order breaks the cycle."
      ]
    ),
    (
      "pipe",
      [
        "A pipe is a one-way byte stream through a kernel buffer (64 KiB by default on Linux). A writer blocks when the buffer is full; a reader blocks when it is empty and sees end-of-file once every write end is closed."
      ]
    ),
    (
      "fork",
      [
        "fork() creates a child that is a copy of the caller: same memory contents (shared copy-on-write until either writes), same open descriptors, same code position. It returns twice: the child's PID in the parent, 0 in the child."
      ]
    ),
    (
      "cow",
      [
        "Copy-on-write: after fork, parent and child share physical pages marked read-only. The first write to a page by either makes the kernel copy that page for the writer, so each sees its own value at the same virtual address."
      ]
    ),
    (
      "context-switch",
      [
        "A context switch is the kernel stopping one thread and running another: saving and restoring registers, and for threads of different processes also switching page tables (address spaces), which can cost TLB and cache misses."
      ]
    ),
  ]
  static var names: [String] { entries.map(\.0) }
  static func text(for topic: String) -> [String]? { entry(topic)?.1 }
  /// The topic's own name for any spelling `explain` accepts (`signals` → `signal`).
  static func name(for topic: String) -> String? { entry(topic)?.0 }
  private static func entry(_ topic: String) -> (String, [String])? {
    let key = topic.lowercased()
    return entries.first {
      $0.0 == key || $0.0 + "s" == key || $0.0.replacing("-", with: " ") == key
    }
  }
}
