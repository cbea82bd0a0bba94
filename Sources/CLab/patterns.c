// Concurrency patterns and bugs: the code a learner reads in the lesson.
// Swift (Experiments/Synchronization, Experiments/Threads) sets up, starts,
// joins and reports.
#define _GNU_SOURCE
#include "clab_patterns.h"
#include "clab.h"
#include "clab_threads.h"
#include "clab_hardening.h"
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

// ---- fork from a process with threads ----

void clab_fork_holder(clab_fork_lock *l) {
  pthread_mutex_lock(&l->mutex);
  l->holder_tid = gettid();
  __atomic_store_n(&l->holder_ready, 1, __ATOMIC_SEQ_CST);
  uint64_t end = clab_monotonic_ns() + (uint64_t)l->hold_ns;
  while (clab_monotonic_ns() < end && !__atomic_load_n(&l->release, __ATOMIC_SEQ_CST) &&
         !clab_interrupt_requested())
    clab_sleep_ns(1000000);
  pthread_mutex_unlock(&l->mutex);
}

static clab_fork_lock *atfork_lock;
static void atfork_prepare(void) { pthread_mutex_lock(&atfork_lock->mutex); }
static void atfork_parent(void) { pthread_mutex_unlock(&atfork_lock->mutex); }
static void atfork_child(void) { pthread_mutex_unlock(&atfork_lock->mutex); }

int clab_fork_register_atfork(clab_fork_lock *l) {
  atfork_lock = l;
  return pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

pid_t clab_fork_child_locks(clab_fork_lock *l, int fd) {
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid != 0) return pid;
  // The child: one thread (the one that called fork), a copy of the memory —
  // including the mutex, in whatever state it was at the instant of fork.
  clab_child_dies_with_parent(parent);
  signal(SIGINT, SIG_DFL);
  char f = 'f';
  if (write(fd, &f, 1) != 1) _exit(3);
  pthread_mutex_lock(&l->mutex); // its owner is not in this process: nobody will unlock it
  char k = 'l';
  if (write(fd, &k, 1) != 1) _exit(3);
  pthread_mutex_unlock(&l->mutex);
  _exit(0);
}

// ---- readers and a writer ----

static void rw_read_lock(clab_rw_room *r) {
  if (r->kind != CLAB_RW_TURNSTILE) {
    pthread_rwlock_rdlock(&r->rwlock);
    return;
  }
  // Pass through the turnstile: if a writer is waiting, it holds it shut and new readers queue behind it.
  while (sem_wait(&r->turnstile) != 0) {}
  sem_post(&r->turnstile);
  pthread_mutex_lock(&r->readers_lock); // the light switch: the first reader in locks the room
  if (++r->readers == 1)
    while (sem_wait(&r->room_empty) != 0) {}
  pthread_mutex_unlock(&r->readers_lock);
}

static void rw_read_unlock(clab_rw_room *r) {
  if (r->kind != CLAB_RW_TURNSTILE) {
    pthread_rwlock_unlock(&r->rwlock);
    return;
  }
  pthread_mutex_lock(&r->readers_lock); // the last reader out unlocks the room
  if (--r->readers == 0) sem_post(&r->room_empty);
  pthread_mutex_unlock(&r->readers_lock);
}

static void hold_for(int64_t ns, int32_t *stop) {
  uint64_t end = clab_monotonic_ns() + (uint64_t)ns;
  while (clab_monotonic_ns() < end && !clab_interrupt_requested()) {
    (void)stop;
    clab_sleep_ns(200000);
  }
}

void clab_rw_reader(clab_rw_room *r) {
  while (!__atomic_load_n(&r->stop, __ATOMIC_SEQ_CST) && !clab_interrupt_requested()) {
    rw_read_lock(r);
    int inside = __atomic_add_fetch(&r->readers_inside, 1, __ATOMIC_SEQ_CST);
    if (inside > r->max_readers_inside) r->max_readers_inside = inside;
    __atomic_add_fetch(&r->reader_turns, 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&r->writer_requested_ns, __ATOMIC_SEQ_CST) != 0 &&
        __atomic_load_n(&r->writer_acquired_ns, __ATOMIC_SEQ_CST) == 0)
      __atomic_add_fetch(&r->reader_turns_while_writer_waited, 1, __ATOMIC_SEQ_CST);
    hold_for(r->hold_ns, &r->stop);
    __atomic_sub_fetch(&r->readers_inside, 1, __ATOMIC_SEQ_CST);
    rw_read_unlock(r);
  }
}

void clab_rw_writer(clab_rw_room *r) {
  r->writer_tid = gettid();
  r->readers_inside_when_writer_asked = __atomic_load_n(&r->readers_inside, __ATOMIC_SEQ_CST);
  __atomic_store_n(&r->writer_requested_ns, (int64_t)clab_monotonic_ns(), __ATOMIC_SEQ_CST);
  if (r->kind != CLAB_RW_TURNSTILE) {
    pthread_rwlock_wrlock(&r->rwlock);
  } else {
    while (sem_wait(&r->turnstile) != 0) {}  // shut the turnstile: no new reader gets past it
    while (sem_wait(&r->room_empty) != 0) {} // wait for the readers inside to leave
  }
  __atomic_store_n(&r->writer_acquired_ns, (int64_t)clab_monotonic_ns(), __ATOMIC_SEQ_CST);
  clab_sleep_ns(1000000); // the write
  r->writer_released_ns = (int64_t)clab_monotonic_ns();
  if (r->kind != CLAB_RW_TURNSTILE) {
    pthread_rwlock_unlock(&r->rwlock);
  } else {
    sem_post(&r->turnstile);
    sem_post(&r->room_empty);
  }
}

// ---- meeting points ----

static void sem_down(sem_t *s) {
  while (sem_wait(s) != 0 && errno == EINTR) {}
}

// The reusable barrier (The Little Book of Semaphores, 3.7): the last to arrive
// opens the first turnstile for everyone; the last to leave the first phase
// opens the second, so nobody laps the others into the next round.
static void barrier_wait(clab_meeting *m) {
  pthread_mutex_lock(&m->mutex);
  if (++m->count == m->threads)
    for (int i = 0; i < m->threads; i++) sem_post(&m->first);
  pthread_mutex_unlock(&m->mutex);
  sem_down(&m->first);
  pthread_mutex_lock(&m->mutex);
  if (--m->count == 0)
    for (int i = 0; i < m->threads; i++) sem_post(&m->second);
  pthread_mutex_unlock(&m->mutex);
  sem_down(&m->second);
}

void clab_meeting_thread(clab_meeting *m, int me) {
  m->tids[me] = gettid();
  int rounds = m->kind == CLAB_MEETING_JOIN ? 1 : m->rounds;
  for (int r = 0; r < rounds && r < CLAB_MEETING_MAX_ROUNDS; r++) {
    // Different work for each thread and round, so they arrive at different times.
    clab_sleep_ns((long)(((me + r) % m->threads) + 1) * (long)m->work_ns);
    m->arrived_ns[me * CLAB_MEETING_MAX_ROUNDS + r] = (int64_t)clab_monotonic_ns();
    switch (m->kind) {
    case CLAB_MEETING_BARRIER: barrier_wait(m); break;
    case CLAB_MEETING_PTHREAD: pthread_barrier_wait(&m->barrier); break;
    case CLAB_MEETING_RENDEZVOUS:
      // I have arrived (post mine), now wait for the other's arrival.
      if (me == 0) {
        sem_post(&m->first);
        sem_down(&m->second);
      } else {
        sem_post(&m->second);
        sem_down(&m->first);
      }
      break;
    default: sem_post(&m->first); break; // join: "I am done"
    }
    m->left_ns[me * CLAB_MEETING_MAX_ROUNDS + r] = (int64_t)clab_monotonic_ns();
  }
}

void clab_meeting_join(clab_meeting *m) {
  for (int i = 0; i < m->threads; i++) sem_down(&m->first);
  m->joined_ns = (int64_t)clab_monotonic_ns();
}

// ---- concurrency bugs ----

// Work done between the check and the use (formatting a message, say): it
// widens the window to what real code has.
static int64_t format_message(const clab_bug_record *r, int64_t seed) {
  int64_t x = seed;
  for (int i = 0; i < 64; i++) x = x * 31 + i;
  return x + (r != NULL);
}

void clab_bug_check_then_use(clab_bug *b) {
  b->user_tid = gettid();
  int64_t sum = 0;
  for (int64_t i = 0; i < b->budget && !__atomic_load_n(&b->stop, __ATOMIC_RELAXED); i++) {
    if (b->fixed) pthread_mutex_lock(&b->mutex);
    if (b->shared != NULL) {                     // check…
      sum += format_message(NULL, i);
      sum += b->shared->value;                   // …then use: `shared` is read again, and may be NULL now
    }
    if (b->fixed) pthread_mutex_unlock(&b->mutex);
    __atomic_store_n(&b->checks, i + 1, __ATOMIC_RELAXED);
  }
  __atomic_store_n(&b->stop, 1, __ATOMIC_RELAXED);
  b->used_value = sum;
}

void clab_bug_clear_and_set(clab_bug *b) {
  b->other_tid = gettid();
  int64_t n = 0;
  while (!__atomic_load_n(&b->stop, __ATOMIC_RELAXED) && !clab_interrupt_requested()) {
    if (b->fixed) pthread_mutex_lock(&b->mutex);
    b->shared = NULL;                            // e.g. the record is being replaced
    if (b->fixed) pthread_mutex_unlock(&b->mutex);
    if (b->fixed) pthread_mutex_lock(&b->mutex);
    b->shared = &b->record;
    if (b->fixed) pthread_mutex_unlock(&b->mutex);
    __atomic_store_n(&b->toggles, ++n, __ATOMIC_RELAXED);
  }
}

void clab_bug_use_at_start(clab_bug *b) {
  b->user_tid = gettid();
  if (b->fixed) {
    pthread_mutex_lock(&b->mutex);
    while (!b->ready) pthread_cond_wait(&b->ready_cv, &b->mutex);
    pthread_mutex_unlock(&b->mutex);
  }
  b->used_value = b->shared->value; // unfixed: `shared` may not be set yet
}

void clab_bug_initialise(clab_bug *b) {
  clab_sleep_ns((long)b->setup_ns); // the rest of the creating thread's setup
  if (b->fixed) pthread_mutex_lock(&b->mutex);
  b->shared = &b->record;
  if (b->fixed) {
    b->ready = 1;
    pthread_cond_signal(&b->ready_cv);
    pthread_mutex_unlock(&b->mutex);
  }
}
