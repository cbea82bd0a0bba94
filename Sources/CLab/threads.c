// Threads, races and CPU-bound work: the parts that must be C.
// The racy increment is a separate volatile load, add and store, so the
// optimizer cannot fold a million increments into one add (and the race is real).
// An empty asm that takes the loaded value in a register also stops clang -O2
// from fusing the three steps into one `inc [mem]` instruction, which a time
// slice could not split: the load and the store stay two instructions apart on
// every optimisation level, as the lesson says.
#define _GNU_SOURCE
#include "clab_threads.h"
#include "clab.h"
#include "clab_hardening.h"
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <poll.h>
#include "clab_gnu.h" // after glibc's own declarations: a mismatch fails here
#include <time.h>
#include <unistd.h>

// ---- clocks for the C loops ----

uint64_t clab_monotonic_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t clab_thread_cpu_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

// ---- timeline slices ----

// Keeps at most `capacity` slices: when full, neighbours are merged in pairs.
static int add_slice(clab_slice *slices, int count, int capacity, uint64_t start, uint64_t end, int cpu) {
  if (slices == NULL || capacity <= 0) return 0;
  if (count == capacity) {
    int j = 0;
    for (int i = 0; i + 1 < count; i += 2) {
      slices[j].start_ns = slices[i].start_ns;
      slices[j].end_ns = slices[i + 1].end_ns;
      slices[j].cpu = slices[i + 1].cpu;
      j++;
    }
    if (count % 2 == 1) slices[j++] = slices[count - 1];
    count = j;
  }
  slices[count].start_ns = start;
  slices[count].end_ns = end;
  slices[count].cpu = cpu;
  slices[count].pad = 0;
  return count + 1;
}

// ---- race ----

void clab_spin_barrier(long *arrived, long count) {
  atomic_fetch_add((_Atomic long *)arrived, 1);
  long spins = 0;
  while (atomic_load((_Atomic long *)arrived) < count) {
    // Let a thread that shares this CPU run and arrive.
    if (++spins % 1024 == 0) sched_yield();
    if (clab_interrupt_requested()) return;
  }
}

int clab_race_loop(long *counter, long iterations, int mode, pthread_mutex_t *mutex, clab_slice *slices,
                   int capacity, long *done) {
  volatile long *shared = counter;
  long chunk = capacity > 0 ? iterations / capacity : iterations;
  if (chunk < 4096) chunk = 4096;
  long i = 0;
  int count = 0;
  while (i < iterations) {
    if (clab_interrupt_requested()) {
      *done = i;
      return -1;
    }
    long stop = i + chunk < iterations ? i + chunk : iterations;
    uint64_t t0 = clab_monotonic_ns();
    switch (mode) {
    case CLAB_RACE_UNSAFE:
      for (; i < stop; i++) {
        long v = *shared;               // load
        __asm__ volatile("" : "+r"(v)); // keep v in a register: no single `inc [mem]` folding
        v = v + 1;                      // add
        *shared = v;                    // store: another thread's store in between is overwritten
      }
      break;
    case CLAB_RACE_MUTEX:
      for (; i < stop; i++) {
        pthread_mutex_lock(mutex);
        long v = *shared;
        v = v + 1;
        *shared = v;
        pthread_mutex_unlock(mutex);
      }
      break;
    default:
      for (; i < stop; i++) atomic_fetch_add((_Atomic long *)counter, 1);
      break;
    }
    count = add_slice(slices, count, capacity, t0, clab_monotonic_ns(), sched_getcpu());
  }
  *done = i;
  return count;
}

// ---- race --schedule ----

void clab_schedule_thread(clab_schedule *s, int me) {
  volatile long *shared = &s->counter;
  long reg = 0; // this thread's register: private until it stores
  int tid = gettid();
  for (int k = 0; k < s->count; k++) {
    if (s->steps[k].thread != me) continue;
    // Wait for the handoff: every earlier step, of either thread, has run.
    while (__atomic_load_n(&s->next, __ATOMIC_ACQUIRE) != k) {
      if (__atomic_load_n(&s->stop, __ATOMIC_RELAXED) || clab_interrupt_requested()) return;
      sched_yield();
    }
    switch (s->steps[k].step) {
    case CLAB_STEP_LOAD: reg = *shared; break;
    case CLAB_STEP_ADD: reg = reg + 1; break;
    default: *shared = reg; break;
    }
    s->steps[k].reg = reg;
    s->steps[k].counter = *shared;
    s->steps[k].tid = tid;
    s->steps[k].cpu = sched_getcpu();
    s->steps[k].at_ns = clab_monotonic_ns();
    __atomic_store_n(&s->next, k + 1, __ATOMIC_RELEASE);
  }
}

// ---- parallel ----

uint64_t clab_work_unit(uint64_t unit, int steps) {
  uint64_t x = unit * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull;
  for (int s = 0; s < steps; s++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
  }
  return x;
}

static void gil_take(clab_gil *gil, int tid) {
  __atomic_add_fetch(&gil->waiting, 1, __ATOMIC_SEQ_CST);
  pthread_mutex_lock(&gil->mutex);
  __atomic_sub_fetch(&gil->waiting, 1, __ATOMIC_SEQ_CST);
  __atomic_store_n(&gil->holder, tid, __ATOMIC_SEQ_CST);
}

// The forced switch: let go, and do not ask again until another thread has the lock
// (otherwise the holder, already on a CPU, would usually win the lock right back).
static void gil_hand_over(clab_gil *gil, int tid) {
  __atomic_store_n(&gil->holder, 0, __ATOMIC_SEQ_CST);
  pthread_mutex_unlock(&gil->mutex);
  __atomic_add_fetch(&gil->switches, 1, __ATOMIC_RELAXED);
  while (__atomic_load_n(&gil->holder, __ATOMIC_SEQ_CST) == 0 && __atomic_load_n(&gil->waiting, __ATOMIC_SEQ_CST) > 0 &&
         !clab_interrupt_requested())
    sched_yield();
  (void)tid;
}

void clab_work_range(uint64_t begin, uint64_t end, int steps, int units_per_slice, clab_gil *gil,
                     clab_slice *slices, int capacity, clab_work_result *out) {
  uint64_t cpu0 = clab_thread_cpu_ns();
  out->start_ns = clab_monotonic_ns();
  out->tid = gettid();
  uint64_t sum = 0;
  int count = 0;
  uint64_t u = begin;
  int holding = 0;
  if (units_per_slice < 1) units_per_slice = 1;
  while (u < end) {
    if (clab_interrupt_requested()) break;
    uint64_t stop = u + (uint64_t)units_per_slice < end ? u + (uint64_t)units_per_slice : end;
    if (gil && !holding) {
      gil_take(gil, out->tid);
      holding = 1;
    }
    uint64_t t0 = clab_monotonic_ns();
    for (; u < stop; u++) sum += clab_work_unit(u, steps);
    uint64_t t1 = clab_monotonic_ns();
    count = add_slice(slices, count, capacity, t0, t1, sched_getcpu());
    // One switch interval is over: keep the lock unless someone waits for it.
    if (gil && __atomic_load_n(&gil->waiting, __ATOMIC_SEQ_CST) > 0 && u < end) {
      gil_hand_over(gil, out->tid);
      holding = 0;
      out->handoffs++;
    }
  }
  if (gil && holding) {
    __atomic_store_n(&gil->holder, 0, __ATOMIC_SEQ_CST);
    pthread_mutex_unlock(&gil->mutex);
  }
  out->units_done = (int64_t)(u - begin);
  out->checksum = sum;
  out->end_ns = clab_monotonic_ns();
  out->cpu_ns = clab_thread_cpu_ns() - cpu0;
  out->slices = count;
}

pid_t clab_fork_worker(uint64_t begin, uint64_t end, int steps, int units_per_slice, int own_gil, int fd,
                       int capacity) {
  if (capacity > 256) capacity = 256;
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid != 0) return pid;
  // The child: only C, no allocation, then _exit. It dies with the shell.
  clab_child_dies_with_parent(parent);
  clab_slice slices[256];
  clab_work_result result;
  memset(&result, 0, sizeof result);
  clab_gil gil; // this process's own "global" lock
  memset(&gil, 0, sizeof gil);
  pthread_mutex_init(&gil.mutex, NULL);
  clab_work_range(begin, end, steps, units_per_slice, own_gil ? &gil : NULL, slices, capacity, &result);
  if (clab_write_all(fd, &result, sizeof result) != 0) _exit(3);
  if (result.slices > 0 && clab_write_all(fd, slices, sizeof(clab_slice) * (size_t)result.slices) != 0) _exit(3);
  _exit(0);
}
