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

// ---- readers and a writer: who waits for whom ----

enum clab_rw_kind {
  CLAB_RW_PREFER_READERS = 0,  // pthread rwlock, PTHREAD_RWLOCK_PREFER_READER_NP (glibc's default)
  CLAB_RW_PREFER_WRITERS = 1,  // pthread rwlock, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP
  CLAB_RW_TURNSTILE = 2,       // built from semaphores: a turnstile writers close, a "room empty" semaphore
};

typedef struct {
  pthread_rwlock_t rwlock;
  sem_t turnstile;      // readers pass through it; a waiting writer holds it shut
  sem_t room_empty;     // 1 while no reader and no writer is inside
  pthread_mutex_t readers_lock; // guards `readers` (the light switch)
  int32_t readers;      // readers inside (turnstile kind)
  int32_t kind;
  int64_t hold_ns;      // each reader's hold
  int32_t stop;         // readers stop taking new turns (atomic)
  int32_t readers_inside; // for the record (atomic)
  int32_t max_readers_inside;
  int32_t writer_tid;
  int64_t reader_turns; // all readers' turns (atomic)
  int64_t writer_requested_ns, writer_acquired_ns, writer_released_ns;
  int64_t readers_inside_when_writer_asked;
  int64_t reader_turns_while_writer_waited; // readers that got in after the writer asked (atomic)
} clab_rw_room;

/// A reader: read-lock, hold `hold_ns`, unlock, again at once, until `stop`.
void clab_rw_reader(clab_rw_room *r);
/// The writer: one write turn, timed from asking to getting in.
void clab_rw_writer(clab_rw_room *r);
