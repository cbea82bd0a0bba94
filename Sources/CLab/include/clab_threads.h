#ifndef CLAB_THREADS_H
#define CLAB_THREADS_H

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

// ---- threads: what a thread can learn about itself ----

/// What one thread saw of itself: its kernel thread ID, the CPU it ran on,
/// the address of a local variable in its own stack frame, and its stack's range.
typedef struct {
  int32_t tid;
  int32_t cpu;
  uint64_t local_address;
  uint64_t stack_low;
  uint64_t stack_high;
  uint64_t started_ns;
} clab_thread_self;

/// Fills `out` for the calling thread (gettid, sched_getcpu, pthread_getattr_np).
/// Returns 0, or the error number of pthread_getattr_np.
int clab_thread_probe(clab_thread_self *out);

/// pthread_setname_np(self, name): the name `ps -L`, `top -H` and
/// /proc/self/task/TID/comm show for the calling thread (cut to 15 bytes).
int clab_set_thread_name(const char *name);

/// sched_getcpu(): the CPU the calling thread is running on right now.
int clab_sched_getcpu(void);

/// Blocks every blockable signal in the calling thread, saving the old mask in `old`
/// (a sigset_t, passed as bytes so Swift need not know its layout). Threads created
/// while it is blocked inherit the mask, so Ctrl-C always reaches the main thread.
int clab_block_signals(void *old, int old_size);
int clab_restore_signals(const void *old);
int clab_sigset_size(void);

/// Adds 1 to a shared counter with an atomic instruction (so N threads leave exactly N).
long clab_atomic_add(long *counter, long delta);
long clab_atomic_load(long *counter);

/// CPU time the calling thread has used (clock_gettime(CLOCK_THREAD_CPUTIME_ID)), in ns.
uint64_t clab_thread_cpu_ns(void);
/// Monotonic clock in ns (clock_gettime(CLOCK_MONOTONIC)); async-signal-safe.
uint64_t clab_monotonic_ns(void);

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

// ---- parallel: CPU-bound work in units that cannot be optimised away ----

/// Computes one unit of work: `steps` rounds of xorshift mixing seeded by `unit`.
uint64_t clab_work_unit(uint64_t unit, int steps);

/// Computes units [begin, end) and returns the sum of their results (the same
/// whichever worker computes which unit). With `gil` (non-NULL) the worker holds
/// that mutex while computing each slice of `units_per_slice` units, as threads
/// do in a runtime with a global interpreter lock. Records slices; stops on Ctrl-C.
typedef struct {
  uint64_t checksum;
  uint64_t start_ns;
  uint64_t end_ns;
  uint64_t cpu_ns;
  int32_t tid;
  int32_t slices;
  int64_t units_done;
} clab_work_result;

void clab_work_range(uint64_t begin, uint64_t end, int steps, int units_per_slice, pthread_mutex_t *gil,
                     clab_slice *slices, int capacity, clab_work_result *out);

/// fork(): the child computes units [begin, end) with clab_work_range (its own
/// lock when `own_gil`), writes its clab_work_result and slices to `fd`, and
/// _exits. Only C runs in the child. Returns the child's PID or -1.
pid_t clab_fork_worker(uint64_t begin, uint64_t end, int steps, int units_per_slice, int own_gil, int fd,
                       int capacity);

/// Reads exactly `length` bytes from `fd`, waiting at most `timeout_ms` in total
/// (poll + read). Returns the bytes read (less on timeout, end of file or Ctrl-C).
long clab_read_exactly(int fd, void *buffer, long length, int timeout_ms);

#endif
