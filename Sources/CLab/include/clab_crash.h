#ifndef CLAB_CRASH_H
#define CLAB_CRASH_H

#include <stddef.h>
#include <sys/types.h>

// ---- faults: each one makes the CPU or the C library end the process ----
//
// Done in C so the optimizer cannot remove them: every access is volatile.
// Each writes one line to standard error first (the child's last words), then
// faults. They return only when the fault did not happen (setup failed, or
// the CPU does not trap); the return value is then -1 with errno set, or the
// unexpected result.

enum {
  CLAB_FAULT_SEGV = 1,  // write through a pointer no mapping covers
  CLAB_FAULT_ABORT = 2, // abort(3)
  CLAB_FAULT_FPE = 3,   // integer division by zero
  CLAB_FAULT_ILL = 4,   // an instruction defined to be illegal (ud2)
  CLAB_FAULT_BUS = 5,   // touch a file mapping whose file was truncated to 0 bytes
  CLAB_FAULT_STACK = 6, // unbounded recursion
  CLAB_FAULT_EXIT = 7   // exit(code): not a fault, for contrast
};

/// The address the segv fault writes to.
unsigned long clab_fault_segv_address(void);

/// Runs fault `kind` on the calling thread. `code` is the exit status for
/// CLAB_FAULT_EXIT; `directory` is where the bus fault makes (and at once
/// unlinks) its file; `report_every` is how often (in frames) the stack
/// fault reports its depth on standard error (0: never).
long clab_fault(int kind, int code, const char *directory, int report_every);

// ---- allocation under an address-space limit ----

/// Allocates `block`-byte blocks with malloc until it returns NULL or
/// `max_blocks` are held, then frees them all. Returns how many succeeded;
/// `*error` is the errno malloc left (ENOMEM) or 0.
long clab_exhaust_memory(size_t block, long max_blocks, int *error);

// ---- the parent's "go": a signal the child waits for with sigtimedwait ----

/// Blocks `sig` in the calling thread (threads created later inherit the mask).
int clab_block_signal(int sig);
/// sigtimedwait for `sig`: 0 when it arrived, -1 (EAGAIN) at the timeout.
int clab_wait_signal(int sig, int timeout_ms);
/// tgkill(pid, tid, sig): a signal for one thread.
int clab_tgkill(pid_t pid, pid_t tid, int sig);

// ---- threads that share one fate ----

/// Starts `count` pthreads (stack `stack_bytes` each) that wait for an order;
/// fills `tids` with their kernel thread IDs. Returns how many started.
int clab_fate_start(int count, size_t stack_bytes, pid_t *tids);
/// Orders worker `index` to run fault `kind`, and waits for it. Returns only
/// if the worker's fault did not end the process (its return value).
long clab_fate_crash(int index, int kind, int code, const char *directory, int report_every);

// ---- resource limits, both halves ----

/// getrlimit(resource): soft and hard limits (RLIM_INFINITY as ~0ULL).
int clab_get_limit(int resource, unsigned long long *soft, unsigned long long *hard);
/// setrlimit(resource, {soft, hard}): may raise, within what the caller is allowed.
int clab_set_limit(int resource, unsigned long long soft, unsigned long long hard);

#endif
