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
/// CLAB_FAULT_EXIT; `truncated_page` is what the bus fault reads: a MAP_SHARED
/// page whose file was cut to 0 bytes (Swift's Faults.truncatedMapping);
/// `report_every` is how often (in frames) the stack fault reports its depth
/// on standard error (0: never).
long clab_fault(int kind, int code, volatile char *truncated_page, int report_every);

// ---- a fault the thread survives ----

/// The handler Faults.survive installs (on an alternate stack, SA_ONSTACK |
/// SA_NODEFER) for the fault's signal: jumps back into clab_fault_escaping.
void clab_escape_handler(int sig);
/// sigsetjmp, then fault `kind` on the calling thread: when clab_escape_handler
/// runs it jumps back here (siglongjmp). Returns the signal the handler caught
/// (the thread survived), or 0 when no fault happened.
int clab_fault_escaping(int kind, volatile char *truncated_page);

// ---- a task that shares the memory, not the thread group ----

/// clone(CLONE_VM | SIGCHLD) on the given stack: a task that shares the
/// caller's address space but is its own thread group. It writes `value` to
/// a shared variable (clab_clone_shared_value reads it), one line to standard
/// error, then runs fault `kind` (segv, fpe or ill only: it calls nothing that
/// touches the C library's state). Returns its PID, or -1 with errno.
pid_t clab_clone_vm_fault(int kind, long value, void *stack, size_t stack_bytes);
/// The variable the clone(CLONE_VM) task wrote, read by the caller.
long clab_clone_shared_value(void);

#endif
