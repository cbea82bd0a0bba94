// The timed loops of `cost` and `switch` (see clab_measure.h).
#define _GNU_SOURCE
#include "clab_measure.h"
#include "clab.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clab_ipc.h"
#include "clab_threads.h"

extern char **environ;

static inline int64_t now_ns(void) { return (int64_t)clab_monotonic_ns(); }

static int reap(pid_t pid, int *status) {
  for (;;) {
    if (waitpid(pid, status, 0) == pid) return 0;
    if (errno != EINTR) return -errno;
  }
}

// The new thread notes the CPU it ran on (sched_getcpu: one rdpid/rdtscp in the vDSO, a few
// nanoseconds against the tens of microseconds timed) so `cost` can say where the kernel put it.
static void *empty_thread(void *arg) {
  *(volatile int *)arg = sched_getcpu();
  return NULL;
}

int clab_cost_loop(int kind, const char *path, int count, int64_t *out, int32_t *children) {
  char *argv[] = {(char *)path, NULL};
  for (int i = 0; i < count; i++) {
    if (clab_interrupt_requested()) return -EINTR; // between samples: Ctrl-C never waits for a batch
    pid_t pid = 0;
    int status = 0, rc;
    int ran_on = -1, creator = kind == CLAB_COST_THREAD ? sched_getcpu() : -1;
    int64_t start = now_ns();
    if (kind == CLAB_COST_THREAD) {
      pthread_t t;
      rc = pthread_create(&t, NULL, empty_thread, &ran_on);
      if (rc != 0) return -rc;
      pthread_join(t, NULL);
    } else if (kind == CLAB_COST_FORK) {
      pid = fork();
      if (pid < 0) return -errno;
      if (pid == 0) _exit(0);
      if ((rc = reap(pid, &status)) < 0) return rc;
    } else {
      rc = posix_spawn(&pid, path, NULL, NULL, argv, environ);
      if (rc != 0) return -rc;
      if ((rc = reap(pid, &status)) < 0) return rc;
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return -ENOEXEC;
    }
    out[i] = now_ns() - start;
    if (children) children[i] = kind == CLAB_COST_THREAD ? ran_on != creator : pid;
  }
  return count;
}

/// One load per cache line of the working set; the sum keeps the loads.
static long long touch(const volatile unsigned char *p, long long n) {
  long long sum = 0;
  for (long long i = 0; i < n; i += 64) sum += p[i];
  return sum;
}

static unsigned char *working_set(long long n) {
  if (n <= 0) return NULL;
  void *p = mmap(NULL, (size_t)n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return NULL;
  memset(p, 1, (size_t)n);  // resident, private to this side
  return p;
}

static int read_byte(int fd, char *c) {
  for (;;) {
    ssize_t n = read(fd, c, 1);
    if (n == 1) return 1;
    if (n < 0 && errno == EINTR) continue;
    return n < 0 ? -errno : 0;
  }
}

static int write_byte(int fd, char c) {
  for (;;) {
    ssize_t n = write(fd, &c, 1);
    if (n == 1) return 1;
    if (n < 0 && errno == EINTR) continue;
    return n < 0 ? -errno : -EIO;
  }
}

static volatile long long sink;

void clab_switch_answer(int in, int out, long long ws, long *voluntary, long *involuntary) {
  unsigned char *data = working_set(ws);
  char c;
  while (read_byte(in, &c) == 1 && c != 'q') {
    if (data) sink += touch(data, ws);
    if (write_byte(out, c) != 1) break;
  }
  if (data) munmap(data, (size_t)ws);
  struct rusage u;
  getrusage(RUSAGE_THREAD, &u);
  *voluntary = u.ru_nvcsw;
  *involuntary = u.ru_nivcsw;
}

void clab_child_switch_partner(const void *args) {
  const clab_switch_partner_args *a = args;
  long v, i;
  clab_switch_answer(a->in, a->out, a->working_set, &v, &i);
  _exit(0);
}

int64_t clab_switch_batch(int out, int in, int round_trips, long long ws, long *voluntary, long *involuntary) {
  static unsigned char *data;
  static long long data_size;
  if (ws != data_size) {
    if (data) munmap(data, (size_t)data_size);
    data = working_set(ws);
    data_size = data ? ws : 0;
  }
  struct rusage before, after;
  getrusage(RUSAGE_THREAD, &before);
  char c = 'x';
  int64_t start = now_ns();
  for (int i = 0; i < round_trips; i++) {
    int rc = write_byte(out, c);
    if (rc != 1) return rc;
    if (data) sink += touch(data, ws);
    rc = read_byte(in, &c);
    if (rc != 1) return rc < 0 ? rc : -EPIPE;
  }
  int64_t elapsed = now_ns() - start;
  getrusage(RUSAGE_THREAD, &after);
  *voluntary = after.ru_nvcsw - before.ru_nvcsw;
  *involuntary = after.ru_nivcsw - before.ru_nivcsw;
  return elapsed;
}
