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

// ---- meeting points: barrier, rendezvous, fork/join ----

#define CLAB_MEETING_MAX_THREADS 32
#define CLAB_MEETING_MAX_ROUNDS 16

enum clab_meeting_kind {
  CLAB_MEETING_BARRIER = 0,  // a reusable barrier from a counter, a mutex and two turnstile semaphores
  CLAB_MEETING_PTHREAD = 1,  // pthread_barrier_wait
  CLAB_MEETING_RENDEZVOUS = 2, // two threads, two semaphores: each signals its arrival, waits for the other's
  CLAB_MEETING_JOIN = 3,     // workers post a semaphore when done; the parent waits once per worker
};

typedef struct {
  int32_t kind, threads, rounds, pad;
  int64_t work_ns;           // the unit of work before arriving (each thread does a different multiple)
  pthread_mutex_t mutex;
  int32_t count;             // barrier: threads arrived in this phase
  int32_t pad2;
  sem_t first, second;       // barrier: the two turnstiles; rendezvous: t1 arrived, t2 arrived; join: done
  pthread_barrier_t barrier;
  int32_t tids[CLAB_MEETING_MAX_THREADS];
  int64_t arrived_ns[CLAB_MEETING_MAX_THREADS * CLAB_MEETING_MAX_ROUNDS];
  int64_t left_ns[CLAB_MEETING_MAX_THREADS * CLAB_MEETING_MAX_ROUNDS];
  int64_t joined_ns;         // join: when the parent got past its waits
} clab_meeting;

/// Thread `index`: for each round, work (index-dependent), record the arrival,
/// meet the others the kind's way, record the departure. (join: work, post, end.)
void clab_meeting_thread(clab_meeting *m, int index);
/// join: the parent's side, sem_wait once per worker; records when it got past.
void clab_meeting_join(clab_meeting *m);

// ---- concurrency bugs that are not deadlocks ----

typedef struct {
  int64_t value;
  char name[24];
} clab_bug_record;

typedef struct {
  clab_bug_record *volatile shared; // atomicity: the pointer one thread checks and uses, the other clears and sets
  clab_bug_record record;
  pthread_mutex_t mutex;            // the fix: check-and-use and clear-and-set as critical sections
  pthread_cond_t ready_cv;          // order: the fix, "initialised" is waited for
  int32_t ready;                    // order: set (under the mutex) once `shared` is initialised
  int32_t fixed;
  int32_t stop;                     // atomic
  int32_t pad;
  int64_t checks;                   // atomicity: check-then-use rounds done by the user thread (atomic)
  int64_t toggles;                  // atomicity: clear/set rounds of the other thread (atomic)
  int64_t null_seen_after_check;    // (never reached when unfixed: that read crashes)
  int64_t budget;                   // atomicity: checks to do
  int64_t setup_ns;                 // order: the creating thread's work before it initialises `shared`
  int64_t used_value;               // order: what the new thread read
  int32_t user_tid, other_tid;
} clab_bug;

/// Atomicity violation, the user: `if (shared != NULL) use(shared->value)`,
/// `budget` times (with the mutex around both when fixed).
void clab_bug_check_then_use(clab_bug *b);
/// Atomicity violation, the other thread: `shared = NULL; shared = &record;` until stop.
void clab_bug_clear_and_set(clab_bug *b);
/// Order violation, the new thread: uses `shared->value` at once (when fixed,
/// first waits until `ready`).
void clab_bug_use_at_start(clab_bug *b);
/// Order violation, the creating thread after pthread_create: its setup work,
/// then `shared = &record` (and, when fixed, `ready = 1` + signal).
void clab_bug_initialise(clab_bug *b);
