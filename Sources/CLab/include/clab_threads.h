#ifndef CLAB_THREADS_H
#define CLAB_THREADS_H

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

// ---- clocks ----

/// Monotonic clock in ns (clock_gettime(CLOCK_MONOTONIC)) for the C loops'
/// own timestamps; async-signal-safe. Swift code uses MonotonicClock (the same clock).
uint64_t clab_monotonic_ns(void);
/// CPU time the calling thread has used (clock_gettime(CLOCK_THREAD_CPUTIME_ID)), in ns.
uint64_t clab_thread_cpu_ns(void);

// ---- samples for per-thread timelines ----

/// One stretch of a thread's work: when it ran and on which CPU it ended.
typedef struct {
  uint64_t start_ns;
  uint64_t end_ns;
  int32_t cpu;
  int32_t pad;
} clab_slice;

// ---- race: shared counter incremented by N threads ----

enum { CLAB_RACE_UNSAFE = 0, CLAB_RACE_MUTEX = 1, CLAB_RACE_ATOMIC = 2 };

/// A barrier where arriving threads keep running (spinning, yielding now and
/// then) until all `count` arrived: when it opens, every thread is on a CPU,
/// so none gets a head start while the others wake from a sleep.
void clab_spin_barrier(long *arrived, long count);

/// Adds 1 to *counter `iterations` times.
/// UNSAFE: a volatile load, an add and a volatile store — three steps another
/// thread can interleave with. MUTEX: the same inside pthread_mutex_lock/unlock.
/// ATOMIC: atomic_fetch_add (one indivisible locked instruction).
/// Records up to `capacity` slices (time, CPU) in `slices`; returns how many.
/// Stops early (returning -1) when Ctrl-C was pressed.
int clab_race_loop(long *counter, long iterations, int mode, pthread_mutex_t *mutex, clab_slice *slices,
                   int capacity, long *done);

// ---- race --schedule: the learner is the scheduler ----

enum { CLAB_STEP_LOAD = 0, CLAB_STEP_ADD = 1, CLAB_STEP_STORE = 2 };
#define CLAB_SCHEDULE_MAX 64

/// One step of a schedule and what it did when its thread ran it.
typedef struct {
  int32_t thread;     // 0 or 1
  int32_t step;       // CLAB_STEP_*
  int64_t reg;        // the thread's register (its local copy) after the step
  int64_t counter;    // the shared counter after the step
  int32_t tid;
  int32_t cpu;
  uint64_t at_ns;
} clab_schedule_step;

typedef struct {
  long counter;   // the shared counter: only volatile loads and stores touch it
  int32_t next;   // the index of the step whose turn it is (the handoff)
  int32_t count;
  int32_t stop;   // set by the caller to give up (Ctrl-C, timeout)
  int32_t pad;
  clab_schedule_step steps[CLAB_SCHEDULE_MAX];
} clab_schedule;

/// Thread `me` runs its steps of the schedule in order, each only when
/// `next` points at it (it yields the CPU while it waits), then hands the turn on.
/// Its register is a local variable: what it loaded stays private to it until it stores.
void clab_schedule_thread(clab_schedule *s, int me);

// ---- parallel: CPU-bound work in units that cannot be optimised away ----

/// Computes one unit of work: `steps` rounds of xorshift mixing seeded by `unit`.
uint64_t clab_work_unit(uint64_t unit, int steps);

/// A global interpreter lock as CPython (3.2 and later) runs it: the holder
/// computes; a thread that wants the lock waits, and once the holder has run
/// a switch interval (sys.setswitchinterval, 5 ms by default) it must let go
/// and wait until a waiting thread has taken the lock (a forced switch).
typedef struct {
  pthread_mutex_t mutex;
  int32_t waiting;   // threads asking for the lock (atomic)
  int32_t holder;    // TID of the thread that holds it, 0 when free (atomic)
  int64_t switches;  // forced switches: the holder let go because someone waited (atomic)
} clab_gil;

/// Computes units [begin, end) and returns the sum of their results (the same
/// whichever worker computes which unit). With `gil` (non-NULL) the worker
/// computes only while it holds that lock, in slices of `units_per_slice`
/// units (one switch interval); after a slice it keeps the lock unless another
/// thread waits for it, and then hands it over (see clab_gil).
/// Records slices; stops on Ctrl-C.
typedef struct {
  uint64_t checksum;
  uint64_t start_ns;
  uint64_t end_ns;
  uint64_t cpu_ns;
  int32_t tid;
  int32_t slices;
  int64_t units_done;
  int64_t handoffs;  // with a lock: times this worker let go because another waited
} clab_work_result;

void clab_work_range(uint64_t begin, uint64_t end, int steps, int units_per_slice, clab_gil *gil,
                     clab_slice *slices, int capacity, clab_work_result *out);

/// fork(): the child computes units [begin, end) with clab_work_range (its own
/// lock when `own_gil`), writes its clab_work_result and slices to `fd`, and
/// _exits. Only C runs in the child. Returns the child's PID or -1.
pid_t clab_fork_worker(uint64_t begin, uint64_t end, int steps, int units_per_slice, int own_gil, int fd,
                       int capacity);

#endif
