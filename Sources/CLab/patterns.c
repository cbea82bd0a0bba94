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
