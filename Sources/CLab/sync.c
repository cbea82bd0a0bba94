// The loops of the synchronization experiments: worker threads (or forked
// children) inside real pthread mutexes, semaphores, rwlocks and condition
// variables. Setting the primitives up, starting, joining, reaping and
// reporting is Swift's (OS/SyncPrimitives*.swift).
#define _GNU_SOURCE
#include "clab_sync.h"
#include "clab.h"
#include "clab_threads.h"
#include "clab_hardening.h"
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

// Sleeps like clab_sleep_ns, but in slices of at most 10 ms, and stops early once
// Ctrl-C was pressed: a worker holding the lock for 200 ms must not make every
// queued worker wait out its own hold before the command can return.
static void hold_ns(long ns) {
  uint64_t end = clab_monotonic_ns() + (uint64_t)ns;
  while (!clab_interrupt_requested()) {
    uint64_t now = clab_monotonic_ns();
    if (now >= end) break;
    uint64_t left = end - now;
    clab_sleep_ns(left > 10000000ull ? 10000000L : (long)left);
  }
}

static void thread_switches(long *voluntary, long *involuntary) {
  struct rusage ru;
  getrusage(RUSAGE_THREAD, &ru);
  *voluntary = ru.ru_nvcsw;
  *involuntary = ru.ru_nivcsw;
}

static void atomic_max(int *target, int value) {
  int seen = __atomic_load_n(target, __ATOMIC_RELAXED);
  while (value > seen &&
         !__atomic_compare_exchange_n(target, &seen, value, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {}
}

// ---- taking turns in one primitive ----

static void take(clab_sync_shared *s, clab_sync_worker *w, clab_sync_turn *t) {
  long before, after, inv;
  thread_switches(&before, &inv);
  t->requested_ns = clab_monotonic_ns();
  switch (s->kind) {
  case CLAB_SYNC_MUTEX: pthread_mutex_lock(&s->mutex); break;
  case CLAB_SYNC_TRYLOCK:
    // Never sleeps in the kernel for the lock: refused, it backs off and tries again.
    while (pthread_mutex_trylock(&s->mutex) == EBUSY) {
      t->refusals++;
      clab_sleep_ns(200000);
    }
    break;
  case CLAB_SYNC_SEMAPHORE:
    while (sem_wait(&s->semaphore) != 0 && errno == EINTR) {}
    break;
  case CLAB_SYNC_RWLOCK:
    if (w->writer) pthread_rwlock_wrlock(&s->rwlock);
    else pthread_rwlock_rdlock(&s->rwlock);
    break;
  }
  t->acquired_ns = clab_monotonic_ns();
  thread_switches(&after, &inv);
  t->wait_switches = after - before;
  int inside = __atomic_add_fetch(&s->inside, 1, __ATOMIC_SEQ_CST);
  t->inside = inside;
  atomic_max(&s->max_inside, inside);
  if (s->kind == CLAB_SYNC_RWLOCK) {
    if (w->writer) {
      int writers = __atomic_add_fetch(&s->writers_inside, 1, __ATOMIC_SEQ_CST);
      int readers = __atomic_load_n(&s->readers_inside, __ATOMIC_SEQ_CST);
      if (writers > 1 || readers > 0) __atomic_add_fetch(&s->writer_overlaps, 1, __ATOMIC_SEQ_CST);
    } else {
      int readers = __atomic_add_fetch(&s->readers_inside, 1, __ATOMIC_SEQ_CST);
      atomic_max(&s->max_readers, readers);
      if (__atomic_load_n(&s->writers_inside, __ATOMIC_SEQ_CST) > 0)
        __atomic_add_fetch(&s->writer_overlaps, 1, __ATOMIC_SEQ_CST);
    }
  }
}

static void give_back(clab_sync_shared *s, clab_sync_worker *w, clab_sync_turn *t) {
  if (s->kind == CLAB_SYNC_RWLOCK) {
    if (w->writer) __atomic_sub_fetch(&s->writers_inside, 1, __ATOMIC_SEQ_CST);
    else __atomic_sub_fetch(&s->readers_inside, 1, __ATOMIC_SEQ_CST);
  }
  __atomic_sub_fetch(&s->inside, 1, __ATOMIC_SEQ_CST);
  t->released_ns = clab_monotonic_ns();
  switch (s->kind) {
  case CLAB_SYNC_MUTEX:
  case CLAB_SYNC_TRYLOCK: pthread_mutex_unlock(&s->mutex); break;
  case CLAB_SYNC_SEMAPHORE: sem_post(&s->semaphore); break;
  case CLAB_SYNC_RWLOCK: pthread_rwlock_unlock(&s->rwlock); break;
  }
}

void clab_sync_take_turns(clab_sync_shared *s, int index) {
  clab_sync_worker *w = &s->worker[index];
  w->tid = gettid();
  long v0, i0, v1, i1;
  // Start together: wait at the gate (a flag, so that a failed start can release everyone).
  while (__atomic_load_n(&s->go, __ATOMIC_ACQUIRE) == 0) clab_sleep_ns(50000);
  if (__atomic_load_n(&s->go, __ATOMIC_ACQUIRE) < 0) return;
  thread_switches(&v0, &i0);
  for (int r = 0; r < s->rounds && r < CLAB_SYNC_MAX_TURNS; r++) {
    if (clab_interrupt_requested()) break;
    clab_sync_turn *t = &w->turn[r];
    take(s, w, t);
    hold_ns(s->hold_ns); // hold it: the others must wait (Ctrl-C cuts it short)
    give_back(s, w, t);
    w->turns = r + 1;
    // A short pause outside so that the order of turns varies.
    hold_ns(s->hold_ns / 4 + 1000);
  }
  thread_switches(&v1, &i1);
  w->voluntary = v1 - v0;
  w->involuntary = i1 - i0;
}

pid_t clab_sync_fork_worker(clab_sync_shared *s, int index) {
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid != 0) return pid;
  // Child: no Swift here. Dies with the shell, default SIGINT (the parent handles Ctrl-C
  // and kills us), the work, _exit.
  clab_child_dies_with_parent(parent);
  signal(SIGINT, SIG_DFL);
  clab_sync_take_turns(s, index);
  _exit(0);
}

// ---- bounded buffer ----

static pthread_cond_t *full_cv(clab_buffer *b) { return &b->not_full; }
static pthread_cond_t *empty_cv(clab_buffer *b) {
  return b->condition_variables == 1 ? &b->not_full : &b->not_empty;
}

// Wakes one waiter (pthread_cond_signal) or all of them (pthread_cond_broadcast).
static void wake(clab_buffer *b, pthread_cond_t *cv) {
  if (b->broadcast) pthread_cond_broadcast(cv);
  else pthread_cond_signal(cv);
}

// A worker leaves: counted, and the Swift side that waits for everyone sees it.
static void leave(clab_buffer *b) { __atomic_add_fetch(&b->finished, 1, __ATOMIC_SEQ_CST); }

void clab_buffer_producer(clab_buffer *b, int index) {
  clab_condvar_worker *w = &b->worker[index];
  w->tid = gettid();
  for (;;) {
    pthread_mutex_lock(&b->mutex);
    while (b->count >= b->capacity && b->next_item < b->items) {
      w->waits++;
      b->producer_waits++;
      pthread_cond_wait(full_cv(b), &b->mutex);
      w->wakeups++;
      b->producer_wakeups++;
      if (b->count >= b->capacity && b->next_item < b->items) b->full_wakeups++;
    }
    // Re-checked after every wait: another producer may have made the last item meanwhile.
    if (b->next_item >= b->items) {
      pthread_mutex_unlock(&b->mutex);
      break;
    }
    int item = b->next_item++;
    b->slots[b->tail] = item;
    b->tail = (b->tail + 1) % b->capacity;
    b->count++;
    if (b->count > b->max_count) b->max_count = b->count;
    b->produced++;
    w->handled++;
    wake(b, empty_cv(b));
    // The last item made: producers still waiting for room can leave.
    if (b->next_item >= b->items) pthread_cond_broadcast(full_cv(b));
    pthread_mutex_unlock(&b->mutex);
  }
  leave(b);
}

// One wait on "not empty" (the mutex held), counted before and after:
// every variant of the consumer waits the same way; they differ in when.
static void wait_for_item(clab_buffer *b, clab_condvar_worker *w) {
  w->waits++;
  b->consumer_waits++;
  pthread_cond_wait(empty_cv(b), &b->mutex);
  w->wakeups++;
  b->consumer_wakeups++;
}

void clab_buffer_consumer(clab_buffer *b, int index) {
  clab_condvar_worker *w = &b->worker[index];
  w->tid = gettid();
  w->consumer = 1;
  for (;;) {
    if (b->variant == CLAB_BUFFER_LOST_WAKEUP) {
      // Faulty: looks at the count without the mutex. Between this look and the
      // wait below, a producer can add an item and signal nobody: the signal is lost.
      if (__atomic_load_n(&b->count, __ATOMIC_RELAXED) <= 0 &&
          __atomic_load_n(&b->consumed, __ATOMIC_RELAXED) < b->items) {
        // The thread could be preempted right here at any time; a 20 µs pause
        // stands in for that, so the gap is hit in thousands of items, not millions.
        clab_sleep_ns(20000);
        pthread_mutex_lock(&b->mutex);
        wait_for_item(b, w);
        if (b->count <= 0) {
          w->empty_wakeups++;
          b->empty_wakeups++;
        }
      } else {
        pthread_mutex_lock(&b->mutex);
      }
      if (b->count <= 0 && b->consumed < b->items) {
        pthread_mutex_unlock(&b->mutex);
        continue;
      }
    } else if (b->variant == CLAB_BUFFER_IF) {
      pthread_mutex_lock(&b->mutex);
      // Faulty: checks once. After the wake-up the buffer may be empty again
      // (another consumer took the item first), and it takes anyway.
      if (b->count <= 0 && b->consumed < b->items) {
        wait_for_item(b, w);
        if (b->count <= 0) {
          w->empty_wakeups++;
          b->empty_wakeups++;
        }
      }
    } else {
      pthread_mutex_lock(&b->mutex);
      while (b->count <= 0 && b->consumed < b->items) {
        wait_for_item(b, w);
        if (b->count <= 0 && b->consumed < b->items) {
          w->empty_wakeups++;
          b->empty_wakeups++;
        }
      }
    }
    if (b->consumed >= b->items) {
      pthread_mutex_unlock(&b->mutex);
      break;
    }
    if (b->count <= 0) b->underflows++;
    int item = b->slots[b->head]; // a stale slot when the buffer was empty
    b->head = (b->head + 1) % b->capacity;
    b->count--;
    if (b->count < b->min_count) b->min_count = b->count;
    b->consumed++;
    w->handled++;
    if (item >= 0 && item < b->items) b->taken[item]++;
    if (b->consumed >= b->items) {
      // Everything consumed: let every waiter, of either kind, see it and leave.
      pthread_cond_broadcast(empty_cv(b));
      pthread_cond_broadcast(full_cv(b));
    }
    wake(b, full_cv(b));
    pthread_mutex_unlock(&b->mutex);
  }
  leave(b);
}

// ---- two threads, two locks ----

static void note(clab_deadlock *d, int thread, int lock, int holds, int waits) {
  pthread_mutex_lock(&d->state_lock);
  if (lock >= 0 && holds >= 0) d->state.holds[thread][lock] = holds;
  d->state.waits[thread] = waits;
  d->state.version++;
  d->state.changed_ns = clab_monotonic_ns();
  pthread_mutex_unlock(&d->state_lock);
}

// The lock wrapper: records "waits for" before blocking and "holds" after.
static void take_lock(clab_deadlock *d, int thread, int lock) {
  note(d, thread, -1, -1, lock);
  pthread_mutex_lock(&d->locks[lock]);
  note(d, thread, lock, 1, -1);
}

static void drop_lock(clab_deadlock *d, int thread, int lock) {
  pthread_mutex_unlock(&d->locks[lock]);
  note(d, thread, lock, 0, -1);
}

void clab_deadlock_thread(clab_deadlock *d, int me) {
  pthread_mutex_lock(&d->state_lock);
  d->state.tid[me] = gettid();
  pthread_mutex_unlock(&d->state_lock);
  int first = me == 0 ? 0 : 1, second = me == 0 ? 1 : 0;
  if (d->mode == CLAB_DEADLOCK_ORDERED) {
    first = 0;
    second = 1;
  }
  if (d->mode == CLAB_DEADLOCK_TRYLOCK) {
    for (;;) {
      take_lock(d, me, first);
      clab_sleep_ns(d->pause_ns);
      note(d, me, -1, -1, second);
      if (pthread_mutex_trylock(&d->locks[second]) == 0) {
        note(d, me, second, 1, -1);
        break;
      }
      // Refused: give back what it holds, so the other can finish, and retry later.
      pthread_mutex_lock(&d->state_lock);
      d->state.refusals[me]++;
      pthread_mutex_unlock(&d->state_lock);
      drop_lock(d, me, first);
      clab_sleep_ns(d->pause_ns / 2 + (long)(me + 1) * d->pause_ns); // different back-off per thread
    }
  } else {
    take_lock(d, me, first);
    clab_sleep_ns(d->pause_ns); // the pause that lets the other thread take its first lock
    take_lock(d, me, second);
  }
  clab_sleep_ns(d->pause_ns / 5 + 1000); // the work that needed both
  drop_lock(d, me, second);
  drop_lock(d, me, first);
  pthread_mutex_lock(&d->state_lock);
  d->state.done[me] = 1;
  d->state.version++;
  d->state.changed_ns = clab_monotonic_ns();
  pthread_mutex_unlock(&d->state_lock);
}
