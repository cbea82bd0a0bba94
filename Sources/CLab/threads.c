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
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

int clab_sched_getcpu(void) { return sched_getcpu(); }

int clab_thread_probe(clab_thread_self *out) {
  volatile int local = 42; // lives in this thread's own stack frame
  out->started_ns = clab_monotonic_ns();
  out->tid = gettid();
  out->cpu = sched_getcpu();
  out->local_address = (uint64_t)(uintptr_t)&local;
  pthread_attr_t attr;
  int rc = pthread_getattr_np(pthread_self(), &attr);
  if (rc != 0) return rc;
  void *base = NULL;
  size_t size = 0;
  rc = pthread_attr_getstack(&attr, &base, &size);
  pthread_attr_destroy(&attr);
  if (rc != 0) return rc;
  out->stack_low = (uint64_t)(uintptr_t)base;
  out->stack_high = (uint64_t)(uintptr_t)base + size;
  return local == 42 ? 0 : -1;
}

int clab_set_thread_name(const char *name) {
  char shortened[16];
  strncpy(shortened, name, 15);
  shortened[15] = 0;
  return pthread_setname_np(pthread_self(), shortened);
}

int clab_sigset_size(void) { return (int)sizeof(sigset_t); }

int clab_block_signals(void *old, int old_size) {
  if (old_size < (int)sizeof(sigset_t)) return EINVAL;
  sigset_t all;
  sigfillset(&all);
  return pthread_sigmask(SIG_BLOCK, &all, (sigset_t *)old);
}

int clab_restore_signals(const void *old) { return pthread_sigmask(SIG_SETMASK, (const sigset_t *)old, NULL); }

long clab_atomic_add(long *counter, long delta) {
  return atomic_fetch_add((_Atomic long *)counter, delta) + delta;
}
long clab_atomic_load(long *counter) { return atomic_load((_Atomic long *)counter); }

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

uint64_t clab_work_unit(uint64_t unit, int steps) {
  uint64_t x = unit * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull;
  for (int s = 0; s < steps; s++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
  }
  return x;
}

void clab_work_range(uint64_t begin, uint64_t end, int steps, int units_per_slice, pthread_mutex_t *gil,
                     clab_slice *slices, int capacity, clab_work_result *out) {
  uint64_t cpu0 = clab_thread_cpu_ns();
  out->start_ns = clab_monotonic_ns();
  out->tid = gettid();
  uint64_t sum = 0;
  int count = 0;
  uint64_t u = begin;
  if (units_per_slice < 1) units_per_slice = 1;
  while (u < end) {
    if (clab_interrupt_requested()) break;
    uint64_t stop = u + (uint64_t)units_per_slice < end ? u + (uint64_t)units_per_slice : end;
    if (gil) pthread_mutex_lock(gil);
    uint64_t t0 = clab_monotonic_ns();
    for (; u < stop; u++) sum += clab_work_unit(u, steps);
    uint64_t t1 = clab_monotonic_ns();
    int cpu = sched_getcpu();
    if (gil) pthread_mutex_unlock(gil);
    count = add_slice(slices, count, capacity, t0, t1, cpu);
  }
  out->units_done = (int64_t)(u - begin);
  out->checksum = sum;
  out->end_ns = clab_monotonic_ns();
  out->cpu_ns = clab_thread_cpu_ns() - cpu0;
  out->slices = count;
}

static int write_all(int fd, const void *data, size_t length) {
  const char *p = data;
  while (length > 0) {
    ssize_t n = write(fd, p, length);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    p += n;
    length -= (size_t)n;
  }
  return 0;
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
  pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER; // this process's own "global" lock
  clab_work_range(begin, end, steps, units_per_slice, own_gil ? &lock : NULL, slices, capacity, &result);
  if (write_all(fd, &result, sizeof result) != 0) _exit(3);
  if (result.slices > 0 && write_all(fd, slices, sizeof(clab_slice) * (size_t)result.slices) != 0) _exit(3);
  _exit(0);
}

long clab_read_exactly(int fd, void *buffer, long length, int timeout_ms) {
  char *p = buffer;
  long got = 0;
  uint64_t deadline = clab_monotonic_ns() + (uint64_t)timeout_ms * 1000000ull;
  while (got < length) {
    uint64_t now = clab_monotonic_ns();
    if (now >= deadline || clab_interrupt_requested()) break;
    long left_ms = (long)((deadline - now) / 1000000ull);
    struct pollfd pfd = {fd, POLLIN, 0};
    int n = poll(&pfd, 1, (int)(left_ms < 50 ? (left_ms < 1 ? 1 : left_ms) : 50));
    if (n < 0 && errno != EINTR) break;
    if (n <= 0) continue;
    ssize_t r = read(fd, p + got, (size_t)(length - got));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += r;
  }
  return got;
}
