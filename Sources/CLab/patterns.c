// Concurrency patterns and bugs: the code a learner reads in the lesson.
// Swift (Experiments/Synchronization, Experiments/Threads) sets up, starts,
// joins and reports.
#define _GNU_SOURCE
#include "clab_patterns.h"
#include "clab.h"
#include "clab_threads.h"
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

static void nap_ns(long ns) {
  struct timespec ts = {ns / 1000000000L, ns % 1000000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

// ---- fork from a process with threads ----

void clab_fork_holder(clab_fork_lock *l) {
  pthread_mutex_lock(&l->mutex);
  l->holder_tid = gettid();
  __atomic_store_n(&l->holder_ready, 1, __ATOMIC_SEQ_CST);
  uint64_t end = clab_monotonic_ns() + (uint64_t)l->hold_ns;
  while (clab_monotonic_ns() < end && !__atomic_load_n(&l->release, __ATOMIC_SEQ_CST) &&
         !clab_interrupt_requested())
    nap_ns(1000000);
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
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(2);
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
    nap_ns(200000);
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
  nap_ns(1000000); // the write
  r->writer_released_ns = (int64_t)clab_monotonic_ns();
  if (r->kind != CLAB_RW_TURNSTILE) {
    pthread_rwlock_unlock(&r->rwlock);
  } else {
    sem_post(&r->turnstile);
    sem_post(&r->room_empty);
  }
}
