// Locks built from scratch and counters at scale. The acquire and release
// code below is what the lessons show; compile it and read it with objdump -d.
#define _GNU_SOURCE
#include "clab_locks.h"
#include "clab.h"
#include "clab_threads.h"
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __asm__ volatile("pause");
#elif defined(__aarch64__)
  __asm__ volatile("yield");
#endif
}

// Spinning threads must still notice the end of the run (and Ctrl-C).
static inline int should_stop(clab_lock_bench *b, unsigned *spins) {
  if ((++*spins & 255) != 0) return 0;
  return __atomic_load_n(&b->stop, __ATOMIC_RELAXED) || clab_interrupt_requested();
}

static uint64_t busy(int64_t rounds, uint64_t x) {
  for (int64_t i = 0; i < rounds; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
  }
  return x;
}

// Lockstep: every thread waits here until all have arrived for this round,
// so that they race into the lock's entry code at the same moment (the way
// memory-reordering tests line threads up). Returns 0 when the run ended.
static int meet(clab_lock_bench *b, int64_t round) {
  int32_t target = (int32_t)((round + 1) * b->threads);
  __atomic_add_fetch(&b->arrived, 1, __ATOMIC_SEQ_CST);
  unsigned spins = 0;
  while (__atomic_load_n(&b->arrived, __ATOMIC_ACQUIRE) < target) {
    cpu_relax();
    if (should_stop(b, &spins)) return 0;
  }
  return 1;
}

// Returns 1 with the lock held, 0 when the run ended while waiting.
static int acquire(clab_lock_bench *b, int me, uint32_t *ticket) {
  unsigned spins = 0;
  switch (b->impl) {
  case CLAB_LOCK_TAS:
    // xchg: every try writes the cache line, so spinners fight over it.
    while (__atomic_exchange_n(&b->flag, 1, __ATOMIC_ACQUIRE) != 0)
      if (should_stop(b, &spins)) return 0;
    return 1;
  case CLAB_LOCK_YIELD:
    while (__atomic_exchange_n(&b->flag, 1, __ATOMIC_ACQUIRE) != 0) {
      sched_yield(); // refused: give the CPU to someone else (maybe the holder)
      if (should_stop(b, &spins)) return 0;
    }
    return 1;
  case CLAB_LOCK_TTAS:
    for (;;) {
      // Spin on a plain read: the line stays shared in every spinner's cache until the holder writes it.
      while (__atomic_load_n(&b->flag, __ATOMIC_RELAXED) != 0) {
        cpu_relax();
        if (should_stop(b, &spins)) return 0;
      }
      if (__atomic_exchange_n(&b->flag, 1, __ATOMIC_ACQUIRE) == 0) return 1;
    }
  case CLAB_LOCK_TICKET:
    *ticket = __atomic_fetch_add(&b->next_ticket, 1, __ATOMIC_RELAXED);
    while (__atomic_load_n(&b->now_serving, __ATOMIC_ACQUIRE) != *ticket) {
      cpu_relax();
      if (should_stop(b, &spins)) return 0;
    }
    return 1;
  case CLAB_LOCK_PETERSON: {
    volatile int32_t *mine = &b->peterson[32 * me];
    volatile int32_t *theirs = &b->peterson[32 * (1 - me)];
    volatile int32_t *turn = &b->peterson[64];
    int other = 1 - me;
    *mine = 1; // a plain store: it may sit in this CPU's store buffer…
    *turn = other;
    if (b->fence) __atomic_thread_fence(__ATOMIC_SEQ_CST); // a full fence (lock or / mfence on x86): drain the store buffer first
    // …while this plain load reads the other's flag from memory: without the
    // fence both threads can read 0 here and both enter.
    while (*theirs && *turn == other) {
      cpu_relax();
      if (should_stop(b, &spins)) {
        *mine = 0;
        return 0;
      }
    }
    return 1;
  }
  default:
    pthread_mutex_lock(&b->mutex);
    return 1;
  }
}

static void release(clab_lock_bench *b, int me, uint32_t ticket) {
  switch (b->impl) {
  case CLAB_LOCK_TAS:
  case CLAB_LOCK_TTAS:
  case CLAB_LOCK_YIELD: __atomic_store_n(&b->flag, 0, __ATOMIC_RELEASE); break;
  case CLAB_LOCK_TICKET: __atomic_store_n(&b->now_serving, ticket + 1, __ATOMIC_RELEASE); break;
  case CLAB_LOCK_PETERSON: *(volatile int32_t *)&b->peterson[32 * me] = 0; break;
  default: pthread_mutex_unlock(&b->mutex); break;
  }
}

void clab_lock_worker_run(clab_lock_bench *b, int me) {
  clab_lock_worker *w = &b->worker[me];
  w->tid = gettid();
  while (__atomic_load_n(&b->go, __ATOMIC_ACQUIRE) == 0) sched_yield();
  if (__atomic_load_n(&b->go, __ATOMIC_ACQUIRE) < 0) return;
  struct rusage r0, r1;
  getrusage(RUSAGE_THREAD, &r0);
  uint64_t cpu0 = clab_thread_cpu_ns(), wall0 = clab_monotonic_ns();
  uint64_t x = (uint64_t)me * 0x9E3779B97F4A7C15ull + 1;
  volatile int64_t *counter = &b->counter;
  volatile int32_t *owner = &b->owner;
  int64_t round = 0;
  while (!__atomic_load_n(&b->stop, __ATOMIC_RELAXED) && !clab_interrupt_requested()) {
    uint32_t ticket = 0;
    // In lockstep the wait is timed from just before the meeting: nothing may
    // stand between the meeting and the entry code, or the threads drift apart.
    uint64_t asked = clab_monotonic_ns();
    if (b->lockstep) {
      if (!meet(b, round++)) break;
      // Random jitter of up to ~100 ns: the last to arrive at the meeting leaves
      // it first, and without jitter it would nearly always enter first too.
      x = busy((int64_t)(x & 255), x);
    }
    if (!acquire(b, me, &ticket)) break;
    int64_t waited = (int64_t)(clab_monotonic_ns() - asked);
    // ---- critical section ----
    if (b->taken >= b->budget || (int64_t)clab_monotonic_ns() > b->deadline_ns) {
      __atomic_store_n(&b->stop, 1, __ATOMIC_RELAXED);
      release(b, me, ticket);
      break;
    }
    b->taken++;
    *owner = me + 1;                // I am inside
    int64_t v = *counter;           // a plain load…
    x = busy(b->inside_work, x);
    *counter = v + 1;               // …and a plain store: lost if someone else was inside
    if (*owner != me + 1) __atomic_add_fetch(&b->violations, 1, __ATOMIC_RELAXED);
    // ---- end ----
    release(b, me, ticket);
    w->turns++;
    w->total_wait_ns += waited;
    if (waited > w->longest_wait_ns) w->longest_wait_ns = waited;
    x = busy(b->outside_work, x);
  }
  w->cpu_ns = (int64_t)(clab_thread_cpu_ns() - cpu0);
  w->wall_ns = (int64_t)(clab_monotonic_ns() - wall0);
  getrusage(RUSAGE_THREAD, &r1);
  w->voluntary = r1.ru_nvcsw - r0.ru_nvcsw;
  w->involuntary = r1.ru_nivcsw - r0.ru_nivcsw;
  if (x == 42) w->pad = 1; // keep the busy work
}

// ---- counters ----

void clab_counter_worker_run(clab_counter_bench *c, int me) {
  while (__atomic_load_n(&c->go, __ATOMIC_ACQUIRE) == 0) sched_yield();
  // Start together, every thread on a CPU: false sharing needs them counting at the same time.
  clab_spin_barrier(&c->arrived, c->threads);
  uint64_t t0 = clab_monotonic_ns();
  c->started_ns[me] = (int64_t)t0;
  volatile int64_t *mine = c->padded ? &c->spread[me].value : &c->packed[me];
  int64_t n = c->increments;
  switch (c->mode) {
  case CLAB_COUNTER_EXACT:
    for (int64_t i = 0; i < n; i++) {
      pthread_mutex_lock(&c->lock);
      c->global++;
      pthread_mutex_unlock(&c->lock);
    }
    break;
  case CLAB_COUNTER_SLOPPY:
    for (int64_t i = 0; i < n; i++) {
      *mine = *mine + 1; // only this thread writes it: no lock
      if (*mine >= c->threshold) {
        pthread_mutex_lock(&c->lock);
        c->global += *mine;
        pthread_mutex_unlock(&c->lock);
        *mine = 0;
      }
    }
    break;
  default:
    for (int64_t i = 0; i < n; i++) *mine = *mine + 1; // a load and a store on this thread's own counter
    break;
  }
  c->elapsed_ns[me] = (int64_t)(clab_monotonic_ns() - t0);
  // A reader of the global counter at this moment sees only what was transferred.
  if (__atomic_add_fetch(&c->finished, 1, __ATOMIC_SEQ_CST) == c->threads) {
    pthread_mutex_lock(&c->lock);
    c->global_before_flush = c->global;
    pthread_mutex_unlock(&c->lock);
    __atomic_store_n(&c->go, 2, __ATOMIC_RELEASE);
  }
  if (c->mode == CLAB_COUNTER_SLOPPY) {
    while (__atomic_load_n(&c->go, __ATOMIC_ACQUIRE) != 2) sched_yield();
    pthread_mutex_lock(&c->lock);
    c->global += *mine;
    pthread_mutex_unlock(&c->lock);
    *mine = 0;
  }
}
