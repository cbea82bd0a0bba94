#ifndef CLAB_LOCKS_H
#define CLAB_LOCKS_H

#include <pthread.h>
#include <stdint.h>

// Locks built from scratch, and counters at scale: the loops whose machine
// code is the lesson. Swift (OS/LockBench.swift) sets up, starts, joins and reports.

#define CLAB_LOCK_MAX_THREADS 64

enum clab_lock_impl {
  CLAB_LOCK_TAS = 0,      // test-and-set: spin on an atomic exchange
  CLAB_LOCK_TTAS = 1,     // test-and-test-and-set: spin reading, exchange when it looks free
  CLAB_LOCK_TICKET = 2,   // ticket lock: take a number, wait until it is served (FIFO)
  CLAB_LOCK_PETERSON = 3, // Peterson's algorithm for two threads: plain loads and stores
  CLAB_LOCK_MUTEX = 4,    // pthread_mutex_lock: a futex, sleeps when taken
  CLAB_LOCK_YIELD = 5,    // test-and-set that calls sched_yield() when refused
};

typedef struct {
  int64_t turns;            // times this thread got the lock
  int64_t longest_wait_ns;  // the longest it waited for one turn
  int64_t total_wait_ns;
  int64_t cpu_ns;           // CPU time of the whole run (CLOCK_THREAD_CPUTIME_ID)
  int64_t wall_ns;
  int64_t voluntary;        // voluntary context switches (slept: futex, yield)
  int64_t involuntary;      // involuntary ones (preempted)
  int32_t tid;
  int32_t pad;
} clab_lock_worker;

typedef struct {
  // Each lock word on its own 128-byte stretch (a cache line and its
  // prefetch neighbour), so that one lock's traffic does not disturb another's.
  int32_t flag;        // TAS, TTAS, yield: 1 while held
  char pad_flag[124];
  uint32_t next_ticket;
  char pad_next[124];
  uint32_t now_serving;
  char pad_serving[124];
  // Peterson: interested[0], interested[1] and turn, each on its own 128 bytes
  // (slots 0, 32 and 64), as separate variables in separate cache lines.
  int32_t peterson[96];
  pthread_mutex_t mutex;
  char pad_mutex[88];
  // What the critical section touches.
  int64_t counter;     // incremented with a plain load and store: lost if two are inside
  int32_t owner;       // who is inside (the checker)
  int32_t pad0;
  int64_t taken;       // turns handed out (inside the lock)
  char pad_data[104];
  // The run.
  int32_t impl;
  int32_t threads;
  int32_t fence;       // Peterson: a full fence between the stores and the loads
  int32_t go;          // 0: wait; 1: start; -1: stop before starting
  int32_t stop;        // set when the budget or the deadline is reached
  int32_t pad1;
  int64_t budget;      // turns to hand out in all
  int64_t deadline_ns; // CLOCK_MONOTONIC: stop by then whatever the budget
  int64_t inside_work; // busy-work rounds inside the critical section
  int64_t outside_work; // and outside it
  int64_t violations;  // the checker found another thread inside (atomic)
  int32_t lockstep;    // before each turn all threads meet at a barrier, then race for the lock
  int32_t arrived;     // the barrier's count (atomic)
  clab_lock_worker worker[CLAB_LOCK_MAX_THREADS];
} clab_lock_bench;

/// Thread `index`: wait at the gate, then take the lock, run the critical
/// section (check who is inside, add 1 to the counter with a plain load and
/// store), release, until the budget or the deadline. Records turns, waits and CPU time.
void clab_lock_worker_run(clab_lock_bench *b, int index);

// ---- counters ----

enum clab_counter_mode {
  CLAB_COUNTER_EXACT = 0,      // one global counter, a mutex around every increment
  CLAB_COUNTER_SLOPPY = 1,     // a local counter per thread, added to the global one every S increments
  CLAB_COUNTER_PER_THREAD = 2, // a counter per thread, summed only at the end
};

typedef struct {
  int64_t value;
  char pad[120];
} clab_padded_counter;

typedef struct {
  pthread_mutex_t lock;
  int64_t global;
  int32_t mode;
  int32_t threads;
  int32_t padded;          // per-thread counters 128 bytes apart (1) or adjacent, 8 bytes apart (0)
  int32_t go;
  int64_t increments;      // per thread
  int64_t threshold;       // sloppy: S
  int64_t global_before_flush; // what a reader of the global counter saw when every thread had finished
  int32_t finished;        // threads done counting, before the final flush (atomic)
  int32_t pad;
  long arrived;            // the start line: every thread spins until all are running (atomic)
  char pad_header[24];
  int64_t packed[CLAB_LOCK_MAX_THREADS];
  clab_padded_counter spread[CLAB_LOCK_MAX_THREADS];
  int64_t elapsed_ns[CLAB_LOCK_MAX_THREADS];
  int64_t started_ns[CLAB_LOCK_MAX_THREADS]; // CLOCK_MONOTONIC when each thread began counting
} clab_counter_bench;

/// Thread `index` counts `increments` times in the bench's mode, then (sloppy)
/// waits for the others and adds what is left in its local counter.
void clab_counter_worker_run(clab_counter_bench *c, int index);

#endif
