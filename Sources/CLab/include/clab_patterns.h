#ifndef CLAB_PATTERNS_H
#define CLAB_PATTERNS_H

#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <sys/types.h>

// Concurrency patterns and bugs whose code is the lesson: fork from a process
// with threads, barriers built from semaphores, rendezvous, fork/join, and the
// atomicity and order violations. Swift sets up, starts, joins and reports.

// ---- fork from a process with threads ----

typedef struct {
  pthread_mutex_t mutex;
  int64_t hold_ns;       // how long the holder keeps the mutex
  int32_t holder_ready;  // the holder has locked it (atomic)
  int32_t holder_tid;
  int32_t release;       // the holder should let go now (atomic)
  int32_t pad;
} clab_fork_lock;

/// Thread body: lock the mutex, say so, keep it `hold_ns` (or until `release`), unlock.
void clab_fork_holder(clab_fork_lock *l);

/// pthread_atfork(prepare: lock the mutex, parent: unlock it, child: unlock it):
/// fork then waits until no other thread holds the mutex, and the child gets it unlocked.
/// Returns 0 or the error number. (Handlers cannot be removed: lab children only.)
int clab_fork_register_atfork(clab_fork_lock *l);

/// fork(): the child (only C, PR_SET_PDEATHSIG SIGKILL) writes 'f' to `fd`,
/// calls pthread_mutex_lock on the mutex — which hangs if another thread of the
/// parent held it at fork time — then writes 'l', unlocks and _exits.
/// Returns the PID or -1 with errno.
pid_t clab_fork_child_locks(clab_fork_lock *l, int fd);

#endif
