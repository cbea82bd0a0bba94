#define _GNU_SOURCE
#include "clab_sync.h"
#include "clab.h"
#include "clab_hardening.h"
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void sleep_ns(long ns) {
  struct timespec ts = { ns / 1000000000L, ns % 1000000000L };
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

// Sleeps like sleep_ns, but in slices of at most 10 ms, and stops early once
// Ctrl-C was pressed: a worker holding the lock for 200 ms must not make every
// queued worker wait out its own hold before the command can return.
static void hold_ns(long ns) {
  uint64_t end = now_ns() + (uint64_t)ns;
  while (!clab_interrupt_requested()) {
    uint64_t now = now_ns();
    if (now >= end) break;
    uint64_t left = end - now;
    sleep_ns(left > 10000000ull ? 10000000L : (long)left);
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
  while (value > seen && !__atomic_compare_exchange_n(target, &seen, value, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {}
}

// Everything the workers share. In process mode it lives in a MAP_SHARED
// anonymous mapping, so the mutex, semaphore and rwlock are PTHREAD_PROCESS_SHARED.
typedef struct {
  pthread_mutex_t mutex;
  sem_t semaphore;
  pthread_rwlock_t rwlock;
  int go;           // 1: start together; -1: a worker could not be started, stop
  int inside, readers_inside, writers_inside;
  clab_sync_run run;
} sync_shared;

typedef struct {
  sync_shared *shared;
  int index;
} sync_worker_arg;

static void take(sync_shared *s, clab_sync_worker *w, clab_sync_turn *t) {
  long before, after, inv;
  thread_switches(&before, &inv);
  t->requested_ns = now_ns();
  switch (s->run.kind) {
  case CLAB_SYNC_MUTEX: pthread_mutex_lock(&s->mutex); break;
  case CLAB_SYNC_TRYLOCK:
    // Never sleeps in the kernel for the lock: refused, it backs off and tries again.
    while (pthread_mutex_trylock(&s->mutex) == EBUSY) {
      t->refusals++;
      sleep_ns(200000);
    }
    break;
  case CLAB_SYNC_SEMAPHORE:
    while (sem_wait(&s->semaphore) != 0 && errno == EINTR) {}
    break;
  case CLAB_SYNC_RWLOCK:
    if (w->writer) pthread_rwlock_wrlock(&s->rwlock); else pthread_rwlock_rdlock(&s->rwlock);
    break;
  }
  t->acquired_ns = now_ns();
  thread_switches(&after, &inv);
  t->wait_switches = after - before;
  int inside = __atomic_add_fetch(&s->inside, 1, __ATOMIC_SEQ_CST);
  t->inside = inside;
  atomic_max(&s->run.max_inside, inside);
  if (s->run.kind == CLAB_SYNC_RWLOCK) {
    if (w->writer) {
      int writers = __atomic_add_fetch(&s->writers_inside, 1, __ATOMIC_SEQ_CST);
      int readers = __atomic_load_n(&s->readers_inside, __ATOMIC_SEQ_CST);
      if (writers > 1 || readers > 0) __atomic_add_fetch(&s->run.writer_overlaps, 1, __ATOMIC_SEQ_CST);
    } else {
      int readers = __atomic_add_fetch(&s->readers_inside, 1, __ATOMIC_SEQ_CST);
      atomic_max(&s->run.max_readers, readers);
      if (__atomic_load_n(&s->writers_inside, __ATOMIC_SEQ_CST) > 0)
        __atomic_add_fetch(&s->run.writer_overlaps, 1, __ATOMIC_SEQ_CST);
    }
  }
}

static void give_back(sync_shared *s, clab_sync_worker *w, clab_sync_turn *t) {
  if (s->run.kind == CLAB_SYNC_RWLOCK) {
    if (w->writer) __atomic_sub_fetch(&s->writers_inside, 1, __ATOMIC_SEQ_CST);
    else __atomic_sub_fetch(&s->readers_inside, 1, __ATOMIC_SEQ_CST);
  }
  __atomic_sub_fetch(&s->inside, 1, __ATOMIC_SEQ_CST);
  t->released_ns = now_ns();
  switch (s->run.kind) {
  case CLAB_SYNC_MUTEX:
  case CLAB_SYNC_TRYLOCK: pthread_mutex_unlock(&s->mutex); break;
  case CLAB_SYNC_SEMAPHORE: sem_post(&s->semaphore); break;
  case CLAB_SYNC_RWLOCK: pthread_rwlock_unlock(&s->rwlock); break;
  }
}

static void work_turns(sync_shared *s, int index) {
  clab_sync_worker *w = &s->run.worker[index];
  w->tid = gettid();
  long v0, i0, v1, i1;
  // Start together: wait at the gate (a flag, so that a failed start can release everyone).
  while (__atomic_load_n(&s->go, __ATOMIC_ACQUIRE) == 0) sleep_ns(50000);
  if (__atomic_load_n(&s->go, __ATOMIC_ACQUIRE) < 0) return;
  thread_switches(&v0, &i0);
  for (int r = 0; r < s->run.rounds && r < CLAB_SYNC_MAX_TURNS; r++) {
    if (clab_interrupt_requested()) break;
    clab_sync_turn *t = &w->turn[r];
    take(s, w, t);
    hold_ns(s->run.hold_ns); // hold it: the others must wait (Ctrl-C cuts it short)
    give_back(s, w, t);
    w->turns = r + 1;
    // A short pause outside so that the order of turns varies.
    hold_ns(s->run.hold_ns / 4 + 1000);
  }
  thread_switches(&v1, &i1);
  w->voluntary = v1 - v0;
  w->involuntary = i1 - i0;
}

static void *worker_thread(void *p) {
  sync_worker_arg *a = p;
  work_turns(a->shared, a->index);
  return NULL;
}

static int init_primitives(sync_shared *s, int pshared) {
  int r;
  pthread_mutexattr_t ma;
  pthread_mutexattr_init(&ma);
  if (pshared) pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
  r = pthread_mutex_init(&s->mutex, &ma);
  pthread_mutexattr_destroy(&ma);
  if (r) return r;
  if (sem_init(&s->semaphore, pshared, (unsigned)(s->run.permits > 0 ? s->run.permits : 1)) != 0) return errno;
  pthread_rwlockattr_t ra;
  pthread_rwlockattr_init(&ra);
  if (pshared) pthread_rwlockattr_setpshared(&ra, PTHREAD_PROCESS_SHARED);
  r = pthread_rwlock_init(&s->rwlock, &ra);
  pthread_rwlockattr_destroy(&ra);
  return r;
}

static void destroy_primitives(sync_shared *s) {
  pthread_rwlock_destroy(&s->rwlock);
  sem_destroy(&s->semaphore);
  pthread_mutex_destroy(&s->mutex);
}

static int run_threads(sync_shared *s) {
  int n = s->run.workers;
  pthread_t threads[CLAB_SYNC_MAX_WORKERS];
  sync_worker_arg args[CLAB_SYNC_MAX_WORKERS];
  int started = 0;
  for (int i = 0; i < n; i++) {
    args[i].shared = s;
    args[i].index = i;
    int r = pthread_create(&threads[i], NULL, worker_thread, &args[i]);
    if (r) {
      // The gate below tells the started workers to stop without a turn.
      s->run.failed_errno = r;
      break;
    }
    started++;
  }
  __atomic_store_n(&s->go, started < n ? -1 : 1, __ATOMIC_RELEASE);
  for (int i = 0; i < started; i++) pthread_join(threads[i], NULL);
  return started < n ? -1 : 0;
}

static int run_processes(sync_shared *s) {
  int n = s->run.workers;
  pid_t pids[CLAB_SYNC_MAX_WORKERS];
  int started = 0;
  pid_t parent = getpid();
  for (int i = 0; i < n; i++) {
    pid_t pid = fork();
    if (pid < 0) { s->run.failed_errno = errno; break; }
    if (pid == 0) {
      // Child: no Swift here. Dies with the shell, default signals, the work, then _exit.
      clab_child_dies_with_parent(parent);
      signal(SIGINT, SIG_DFL);
      work_turns(s, i);
      _exit(0);
    }
    pids[i] = pid;
    started++;
  }
  __atomic_store_n(&s->go, started < n ? -1 : 1, __ATOMIC_RELEASE);
  uint64_t deadline = now_ns() + (uint64_t)s->run.timeout_ms * 1000000ull;
  int killed = started < n;
  int left = started;
  int reaped[CLAB_SYNC_MAX_WORKERS] = {0};
  while (left > 0) {
    if (!killed && (clab_interrupt_requested() || now_ns() > deadline)) {
      if (clab_interrupt_requested()) s->run.interrupted = 1; else s->run.timed_out = 1;
      killed = 1;
    }
    if (killed)
      for (int i = 0; i < started; i++) if (!reaped[i]) kill(pids[i], SIGKILL);
    for (int i = 0; i < started; i++) {
      if (reaped[i]) continue;
      int status;
      pid_t r = waitpid(pids[i], &status, killed ? 0 : WNOHANG);
      if (r == pids[i] || (r < 0 && errno == ECHILD)) {
        reaped[i] = 1;
        left--;
        s->run.children_reaped++;
      }
    }
    if (left > 0 && !killed) sleep_ns(2000000);
  }
  return started < n ? -1 : 0;
}

int clab_sync_run_turns(clab_sync_run *run) {
  if (run->workers < 1 || run->workers > CLAB_SYNC_MAX_WORKERS) { run->failed_errno = EINVAL; return -1; }
  sync_shared *s;
  size_t size = sizeof(sync_shared);
  if (run->processes) {
    s = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (s == MAP_FAILED) { run->failed_errno = errno; return -1; }
  } else {
    s = calloc(1, size);
    if (!s) { run->failed_errno = ENOMEM; return -1; }
  }
  memset(s, 0, size);
  s->run = *run;
  for (int i = 0; i < run->workers; i++) s->run.worker[i].writer = (run->kind == CLAB_SYNC_RWLOCK && i >= run->workers - run->writers);
  int r = init_primitives(s, run->processes);
  int result = -1;
  if (r) {
    s->run.failed_errno = r;
  } else {
    s->run.start_ns = now_ns();
    result = run->processes ? run_processes(s) : run_threads(s);
    s->run.end_ns = now_ns();
    if (clab_interrupt_requested()) s->run.interrupted = 1;
    destroy_primitives(s);
  }
  s->run.shared_addr = (unsigned long)s;
  s->run.shared_bytes = size;
  *run = s->run;
  if (run->processes) munmap(s, size); else free(s);
  return result;
}

// ---------------------------------------------------------------------------
// Bounded buffer: one mutex, "not full" and "not empty" condition variables.

typedef struct {
  clab_condvar_run *run;
  pthread_mutex_t mutex;
  pthread_cond_t not_full, not_empty;
  int *buffer;
  int head, tail, count;
  int next_item;     // the next item a producer makes
  int *taken;        // how many times each item was consumed
  int finished;      // workers done (under mutex)
  pthread_cond_t all_done;
} buffer_shared;

typedef struct {
  buffer_shared *b;
  int index;
} buffer_arg;

/// A producer or consumer leaves: counted under the mutex, and the waiting
/// coordinator is woken to see whether everyone has.
static void worker_finished(buffer_shared *b, clab_condvar_run *run) {
  pthread_mutex_lock(&b->mutex);
  b->finished++;
  run->finished_workers++;
  pthread_cond_signal(&b->all_done);
  pthread_mutex_unlock(&b->mutex);
}

static void *producer(void *p) {
  buffer_arg *a = p;
  buffer_shared *b = a->b;
  clab_condvar_run *run = b->run;
  clab_condvar_worker *w = &run->worker[a->index];
  w->tid = gettid();
  for (;;) {
    pthread_mutex_lock(&b->mutex);
    while (b->count >= run->capacity && b->next_item < run->items) {
      w->waits++;
      run->producer_waits++;
      pthread_cond_wait(&b->not_full, &b->mutex);
      w->wakeups++;
      run->producer_wakeups++;
    }
    // Re-checked after every wait: another producer may have made the last item meanwhile.
    if (b->next_item >= run->items) { pthread_mutex_unlock(&b->mutex); break; }
    int item = b->next_item++;
    b->buffer[b->tail] = item;
    b->tail = (b->tail + 1) % run->capacity;
    b->count++;
    if (b->count > run->max_count) run->max_count = b->count;
    run->produced++;
    w->handled++;
    pthread_cond_signal(&b->not_empty);
    pthread_mutex_unlock(&b->mutex);
  }
  worker_finished(b, run);
  return NULL;
}

/// One wait on "not empty" (the mutex held), counted before and after:
/// every variant of the consumer waits the same way; they differ in when.
static void wait_for_item(buffer_shared *b, clab_condvar_run *run, clab_condvar_worker *w) {
  w->waits++;
  run->consumer_waits++;
  pthread_cond_wait(&b->not_empty, &b->mutex);
  w->wakeups++;
  run->consumer_wakeups++;
}

static void *consumer(void *p) {
  buffer_arg *a = p;
  buffer_shared *b = a->b;
  clab_condvar_run *run = b->run;
  clab_condvar_worker *w = &run->worker[a->index];
  w->tid = gettid();
  w->consumer = 1;
  for (;;) {
    if (run->variant == 2) {
      // Faulty: looks at the count without the mutex. Between this look and the
      // wait below, a producer can add an item and signal nobody: the signal is lost.
      if (__atomic_load_n(&b->count, __ATOMIC_RELAXED) <= 0 && __atomic_load_n(&run->consumed, __ATOMIC_RELAXED) < run->items) {
        // The thread could be preempted right here at any time; a 20 µs pause
        // stands in for that, so the gap is hit in thousands of items, not millions.
        sleep_ns(20000);
        pthread_mutex_lock(&b->mutex);
        wait_for_item(b, run, w);
        if (b->count <= 0) { w->empty_wakeups++; run->empty_wakeups++; }
      } else {
        pthread_mutex_lock(&b->mutex);
      }
      if (b->count <= 0 && run->consumed < run->items) { pthread_mutex_unlock(&b->mutex); continue; }
    } else if (run->variant == 1) {
      pthread_mutex_lock(&b->mutex);
      // Faulty: checks once. After the wake-up the buffer may be empty again
      // (another consumer took the item first), and it takes anyway.
      if (b->count <= 0 && run->consumed < run->items) {
        wait_for_item(b, run, w);
        if (b->count <= 0) { w->empty_wakeups++; run->empty_wakeups++; }
      }
    } else {
      pthread_mutex_lock(&b->mutex);
      while (b->count <= 0 && run->consumed < run->items) {
        wait_for_item(b, run, w);
        if (b->count <= 0 && run->consumed < run->items) { w->empty_wakeups++; run->empty_wakeups++; }
      }
    }
    if (run->consumed >= run->items) {
      pthread_mutex_unlock(&b->mutex);
      break;
    }
    if (b->count <= 0) run->underflows++;
    int item = b->buffer[b->head]; // a stale slot when the buffer was empty
    b->head = (b->head + 1) % run->capacity;
    b->count--;
    if (b->count < run->min_count) run->min_count = b->count;
    run->consumed++;
    w->handled++;
    if (item >= 0 && item < run->items) b->taken[item]++;
    if (run->consumed >= run->items) pthread_cond_broadcast(&b->not_empty); // let the others leave
    pthread_cond_signal(&b->not_full);
    pthread_mutex_unlock(&b->mutex);
  }
  worker_finished(b, run);
  return NULL;
}

int clab_condvar_run_buffer(clab_condvar_run *caller) {
  int total = caller->producers + caller->consumers;
  if (total > 2 * CLAB_CONDVAR_MAX_THREADS || caller->capacity < 1 || caller->items < 1) return -1;
  // The workers write into a private copy: if some are still blocked (or
  // running) at the timeout, the caller's memory must not be theirs.
  clab_condvar_run *run = malloc(sizeof(clab_condvar_run));
  buffer_shared *b = calloc(1, sizeof(buffer_shared));
  if (!b || !run) { free(b); free(run); return -1; }
  *run = *caller;
  b->run = run;
  b->buffer = malloc(sizeof(int) * (size_t)run->capacity);
  b->taken = calloc((size_t)run->items, sizeof(int));
  for (int i = 0; i < run->capacity; i++) b->buffer[i] = -1;
  pthread_mutex_init(&b->mutex, NULL);
  pthread_cond_init(&b->not_full, NULL);
  pthread_cond_init(&b->not_empty, NULL);
  pthread_cond_init(&b->all_done, NULL);
  run->min_count = 0;
  pthread_t threads[2 * CLAB_CONDVAR_MAX_THREADS];
  buffer_arg *args = calloc((size_t)total, sizeof(buffer_arg));
  run->start_ns = now_ns();
  int started = 0;
  for (int i = 0; i < total; i++) {
    args[i].b = b;
    args[i].index = i;
    if (pthread_create(&threads[i], NULL, i < run->producers ? producer : consumer, &args[i]) != 0) break;
    started++;
  }
  // Wait for every worker, but not forever: a faulty variant may hang.
  struct timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += run->timeout_ms / 1000;
  deadline.tv_nsec += (run->timeout_ms % 1000) * 1000000L;
  if (deadline.tv_nsec >= 1000000000L) { deadline.tv_sec++; deadline.tv_nsec -= 1000000000L; }
  pthread_mutex_lock(&b->mutex);
  while (b->finished < started) {
    if (pthread_cond_timedwait(&b->all_done, &b->mutex, &deadline) == ETIMEDOUT) break;
  }
  int hung = b->finished < started;
  run->end_ns = now_ns();
  run->hung = hung;
  for (int i = 0; i < run->items; i++) {
    if (b->taken[i] == 0) run->missing++;
    else if (b->taken[i] > 1) run->duplicates += b->taken[i] - 1;
  }
  *caller = *run;
  pthread_mutex_unlock(&b->mutex);
  if (hung) return 1; // threads stay blocked; the lab child exits and takes them along
  for (int i = 0; i < started; i++) pthread_join(threads[i], NULL);
  pthread_cond_destroy(&b->all_done);
  pthread_cond_destroy(&b->not_empty);
  pthread_cond_destroy(&b->not_full);
  pthread_mutex_destroy(&b->mutex);
  free(args);
  free(b->taken);
  free(b->buffer);
  free(b);
  free(run);
  return started < total ? -1 : 0;
}

// ---------------------------------------------------------------------------
// Two threads, locks A and B.

struct clab_deadlock {
  int mode;
  long pause_ns;
  pthread_t threads[2];
  pthread_mutex_t locks[2];
  pthread_mutex_t state_lock;
  clab_deadlock_state state;
};

typedef struct {
  clab_deadlock *d;
  int index;
} deadlock_arg;

static deadlock_arg deadlock_args[2];

static void note(clab_deadlock *d, int thread, int lock, int holds, int waits) {
  pthread_mutex_lock(&d->state_lock);
  if (lock >= 0 && holds >= 0) d->state.holds[thread][lock] = holds;
  d->state.waits[thread] = waits;
  d->state.version++;
  d->state.changed_ns = now_ns();
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

static void *deadlock_thread(void *p) {
  deadlock_arg *a = p;
  clab_deadlock *d = a->d;
  int me = a->index;
  pthread_mutex_lock(&d->state_lock);
  d->state.tid[me] = gettid();
  pthread_mutex_unlock(&d->state_lock);
  int first = me == 0 ? 0 : 1, second = me == 0 ? 1 : 0;
  if (d->mode == CLAB_DEADLOCK_ORDERED) { first = 0; second = 1; }
  if (d->mode == CLAB_DEADLOCK_TRYLOCK) {
    for (;;) {
      take_lock(d, me, first);
      sleep_ns(d->pause_ns);
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
      sleep_ns(d->pause_ns / 2 + (long)(me + 1) * d->pause_ns); // different back-off per thread
    }
  } else {
    take_lock(d, me, first);
    sleep_ns(d->pause_ns); // the pause that lets the other thread take its first lock
    take_lock(d, me, second);
  }
  sleep_ns(d->pause_ns / 5 + 1000); // the work that needed both
  drop_lock(d, me, second);
  drop_lock(d, me, first);
  pthread_mutex_lock(&d->state_lock);
  d->state.done[me] = 1;
  d->state.version++;
  d->state.changed_ns = now_ns();
  pthread_mutex_unlock(&d->state_lock);
  return NULL;
}

clab_deadlock *clab_deadlock_start(int mode, long pause_ns) {
  clab_deadlock *d = calloc(1, sizeof(clab_deadlock));
  if (!d) return NULL;
  d->mode = mode;
  d->pause_ns = pause_ns;
  pthread_mutex_init(&d->locks[0], NULL);
  pthread_mutex_init(&d->locks[1], NULL);
  pthread_mutex_init(&d->state_lock, NULL);
  d->state.waits[0] = d->state.waits[1] = -1;
  for (int i = 0; i < 2; i++) {
    deadlock_args[i].d = d;
    deadlock_args[i].index = i;
    int r = pthread_create(&d->threads[i], NULL, deadlock_thread, &deadlock_args[i]);
    if (r) { errno = r; return NULL; } // lab child only: it exits
  }
  return d;
}

void clab_deadlock_snapshot(clab_deadlock *d, clab_deadlock_state *out) {
  pthread_mutex_lock(&d->state_lock);
  *out = d->state;
  pthread_mutex_unlock(&d->state_lock);
}

void clab_deadlock_finish(clab_deadlock *d) {
  pthread_join(d->threads[0], NULL);
  pthread_join(d->threads[1], NULL);
  pthread_mutex_destroy(&d->locks[0]);
  pthread_mutex_destroy(&d->locks[1]);
  pthread_mutex_destroy(&d->state_lock);
  free(d);
}
