#ifndef CLAB_SYNC_H
#define CLAB_SYNC_H

#include <stdint.h>
#include <sys/types.h>

// Synchronization experiments: worker threads (or forked processes) that take
// turns in a real pthread mutex, semaphore or rwlock and record, with
// CLOCK_MONOTONIC, when each turn was requested, acquired and released.

#define CLAB_SYNC_MAX_WORKERS 32
#define CLAB_SYNC_MAX_TURNS 16

enum clab_sync_kind {
  CLAB_SYNC_MUTEX = 0,     // pthread_mutex_lock
  CLAB_SYNC_TRYLOCK = 1,   // pthread_mutex_trylock with back-off
  CLAB_SYNC_SEMAPHORE = 2, // sem_wait / sem_post
  CLAB_SYNC_RWLOCK = 3     // pthread_rwlock_rdlock / wrlock
};

typedef struct {
  uint64_t requested_ns, acquired_ns, released_ns;
  /// Voluntary context switches during the wait alone: the thread slept in the kernel (futex).
  long wait_switches;
  /// trylock refusals before this turn got the lock.
  int refusals;
  /// How many workers were inside (this one included) when it entered.
  int inside;
} clab_sync_turn;

typedef struct {
  int tid;          // gettid() (a child's PID in process mode)
  int writer;       // rwlock: 1 for a writer
  int turns;        // turns completed
  long voluntary;   // whole-worker voluntary switches (getrusage RUSAGE_THREAD)
  long involuntary;
  clab_sync_turn turn[CLAB_SYNC_MAX_TURNS];
} clab_sync_worker;

typedef struct {
  // request
  int kind, workers, rounds, permits, writers, processes;
  long hold_ns;
  long timeout_ms;
  // results
  int interrupted, timed_out, failed_errno;
  int max_inside, max_readers, writer_overlaps;
  int children_reaped;
  unsigned long shared_addr, shared_bytes; // the MAP_SHARED mapping in process mode
  uint64_t start_ns, end_ns;
  clab_sync_worker worker[CLAB_SYNC_MAX_WORKERS];
} clab_sync_run;

/// Runs the workers and waits for all of them (threads joined, children reaped).
/// Returns 0, or -1 with failed_errno set if a primitive could not be created.
int clab_sync_run_turns(clab_sync_run *run);

// ---- bounded buffer with a mutex and two condition variables ----

#define CLAB_CONDVAR_MAX_THREADS 16

typedef struct {
  int tid, consumer, handled, waits, wakeups, empty_wakeups;
} clab_condvar_worker;

typedef struct {
  // request
  int producers, consumers, capacity, items;
  /// 0: correct (while, under the mutex); 1: faulty `if` instead of `while`;
  /// 2: faulty lost wake-up: checks "empty" without the mutex, then waits without re-checking.
  int variant;
  long timeout_ms;     // the run gives up waiting for its workers after this
  // results
  int produced, consumed, duplicates, missing, underflows, hung, finished_workers;
  int producer_waits, consumer_waits, producer_wakeups, consumer_wakeups, empty_wakeups;
  int max_count, min_count;
  uint64_t start_ns, end_ns;
  clab_condvar_worker worker[2 * CLAB_CONDVAR_MAX_THREADS];
} clab_condvar_run;

/// Runs producers and consumers; returns 0 when all finished, 1 if some were
/// still blocked at the timeout (their threads are left blocked: lab child only).
int clab_condvar_run_buffer(clab_condvar_run *run);

// ---- two threads, two locks ----

enum clab_deadlock_mode { CLAB_DEADLOCK_OPPOSITE = 0, CLAB_DEADLOCK_ORDERED = 1, CLAB_DEADLOCK_TRYLOCK = 2 };

typedef struct {
  int tid[2];
  int holds[2][2]; // holds[thread][lock]
  int waits[2];    // lock a thread waits for, -1 for none
  int done[2];
  int refusals[2];
  int version;     // bumps on every change
  uint64_t changed_ns;
} clab_deadlock_state;

typedef struct clab_deadlock clab_deadlock;

/// Starts the two threads (A then B, B then A, unless ordered); returns NULL with errno on failure.
clab_deadlock *clab_deadlock_start(int mode, long pause_ns);
/// A consistent copy of what the lock wrappers recorded.
void clab_deadlock_snapshot(clab_deadlock *d, clab_deadlock_state *out);
/// Joins both threads and frees (only call when both are done).
void clab_deadlock_finish(clab_deadlock *d);

#endif
