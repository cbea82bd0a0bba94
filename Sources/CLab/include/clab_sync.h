#ifndef CLAB_SYNC_H
#define CLAB_SYNC_H

#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <sys/types.h>

// Synchronization experiments: the loops worker threads (or forked children)
// run inside real pthread mutexes, semaphores, rwlocks and condition
// variables. Swift (OS/SyncPrimitives*.swift) sets the primitives up, starts
// and joins the threads, reaps the children and reads what they recorded.

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

/// Everything the workers share. Between processes it lives in a MAP_SHARED
/// anonymous mapping, and the primitives are PTHREAD_PROCESS_SHARED.
typedef struct {
  pthread_mutex_t mutex;
  sem_t semaphore;
  pthread_rwlock_t rwlock;
  int32_t kind, rounds;
  int64_t hold_ns;
  int32_t go;  // 0: wait at the gate; 1: start together; -1: a worker could not be started, stop
  int32_t inside, readers_inside, writers_inside;
  int32_t max_inside, max_readers, writer_overlaps;
  clab_sync_worker worker[CLAB_SYNC_MAX_WORKERS];
} clab_sync_shared;

/// One worker's turns: wait at the gate, then `rounds` times take the
/// primitive, hold it `hold_ns`, give it back, pause a quarter of that.
void clab_sync_take_turns(clab_sync_shared *s, int index);

/// fork(): the child runs clab_sync_take_turns(s, index) (SIGINT back to its
/// default) and _exits; only C runs in it. Returns the PID, or -1 with errno.
pid_t clab_sync_fork_worker(clab_sync_shared *s, int index);

// ---- bounded buffer: one mutex, condition variables "not full" and "not empty" ----

#define CLAB_CONDVAR_MAX_THREADS 16

typedef struct {
  int tid, consumer, handled, waits, wakeups, empty_wakeups;
} clab_condvar_worker;

enum clab_buffer_variant {
  CLAB_BUFFER_CORRECT = 0,      // while (empty) wait, under the mutex
  CLAB_BUFFER_IF = 1,           // if (empty) wait: a stolen wake-up goes unnoticed
  CLAB_BUFFER_LOST_WAKEUP = 2,  // checks "empty" without the mutex, then waits
};

typedef struct {
  pthread_mutex_t mutex;
  pthread_cond_t not_full, not_empty;
  int32_t condition_variables; // 2: not_full and not_empty; 1: everyone waits on not_full
  int32_t producers, consumers, capacity, items;
  int32_t variant;    // clab_buffer_variant
  int32_t broadcast;  // 1: wake every waiter (pthread_cond_broadcast) instead of one
  int32_t *slots;     // capacity slots
  int32_t *taken;     // how many times each item was consumed
  int32_t head, tail, count, next_item;
  int32_t finished;   // workers that have left (atomic)
  // results
  int32_t produced, consumed, underflows;
  int32_t producer_waits, consumer_waits, producer_wakeups, consumer_wakeups, empty_wakeups;
  int32_t full_wakeups; // a producer woke and found the buffer still full
  int32_t max_count, min_count;
  clab_condvar_worker worker[2 * CLAB_CONDVAR_MAX_THREADS];
} clab_buffer;

/// A producer: makes items until `items` were made, waiting while the buffer is full.
void clab_buffer_producer(clab_buffer *b, int index);
/// A consumer, correct or with the variant's bug; leaves once every item was consumed.
void clab_buffer_consumer(clab_buffer *b, int index);

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

typedef struct {
  int32_t mode;
  int64_t pause_ns;
  pthread_mutex_t locks[2];
  pthread_mutex_t state_lock; // guards `state`: the wrappers' bookkeeping
  clab_deadlock_state state;
} clab_deadlock;

/// Thread `index` (0: A then B; 1: B then A unless ordered) takes its two
/// locks through wrappers that record "waits for" before blocking and "holds" after.
void clab_deadlock_thread(clab_deadlock *d, int index);

#endif
