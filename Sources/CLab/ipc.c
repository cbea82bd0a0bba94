// The children of the IPC and signal experiments (see clab_ipc.h). Between
// fork() and _exit() only async-signal-safe calls run (read, write, open,
// close, dup2, sigaction, sigprocmask, mq_send, sem_post, mmap, _exit), with
// one exception said where it is: the thread experiment's child creates threads.
#define _GNU_SOURCE
#include "clab_ipc.h"
#include "clab.h"
#include "clab_hardening.h"
#include "clab_threads.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

// ---------------------------------------------------------------- forking

pid_t clab_ipc_fork(clab_child_body body, const void *args, const int *close_fds, int close_count) {
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid != 0) return pid;
  clab_child_default_signals();
  clab_child_dies_with_parent(parent);
  for (int i = 0; i < close_count; i++)
    if (close_fds[i] >= 0) close(close_fds[i]);
  body(args);
  _exit(127);
}

mqd_t clab_mq_open(const char *name, int oflag, unsigned mode, long maxmsg, long msgsize) {
  struct mq_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.mq_maxmsg = maxmsg;
  attr.mq_msgsize = msgsize;
  return mq_open(name, oflag, (mode_t)mode, (oflag & O_CREAT) ? &attr : NULL);
}

static char wait_command(int fd) {
  char c = 0;
  return clab_read_exact(fd, &c, 1) == 1 ? c : 0;
}

// ---------------------------------------------------------------- transfers

static unsigned char buffer[CLAB_SHM_SLOT_BYTES];

/// The checksum of IPCChecksum.swift: little-endian 64-bit words times odd
/// weights, over a stream cut at any places.
typedef struct {
  unsigned long long sum, index, partial;
  int have;
} checksum;

static void checksum_byte(checksum *c, unsigned char b) {
  c->partial |= (unsigned long long)b << (8 * c->have++);
  if (c->have == 8) {
    c->sum += c->partial * (2 * c->index + 1);
    c->index++;
    c->partial = 0;
    c->have = 0;
  }
}

static void checksum_add(checksum *c, const unsigned char *p, long long n) {
  while (n > 0 && c->have > 0) checksum_byte(c, *p++), n--;
  for (; n >= 8; p += 8, n -= 8) {
    unsigned long long w;
    memcpy(&w, p, 8);
    c->sum += w * (2 * c->index + 1);
    c->index++;
  }
  while (n > 0) checksum_byte(c, *p++), n--;
}

static unsigned long long checksum_value(const checksum *c) {
  unsigned long long s = c->sum;
  if (c->have > 0) s += c->partial * (2 * c->index + 1);
  return s ^ (c->index * 8 + (unsigned long long)c->have);
}

static unsigned char *slot_data(const clab_transfer_args *t, clab_shm_slot *s) {
  return (unsigned char *)t->shared + s->data_offset;
}

static int channel_send(const clab_transfer_args *t, const void *p, long long n) {
  switch (t->kind) {
  case CLAB_CHANNEL_QUEUES:
    while (mq_send((mqd_t)t->send_fd, p, (size_t)n, 0) != 0)
      if (errno != EINTR) return -1;
    return 0;
  case CLAB_CHANNEL_SHARED: {
    clab_shm_slot *s = &t->shared->to_parent;
    while (sem_wait(&s->empty) != 0) {
    }
    memcpy(slot_data(t, s), p, (size_t)n);
    s->length = n;
    sem_post(&s->full);
    return 0;
  }
  default:
    return clab_write_all(t->send_fd, p, (size_t)n);
  }
}

/// Bytes received (up to max; a queue or slot gives one whole message), 0 at end of file, -1 error.
static long long channel_receive(const clab_transfer_args *t, unsigned char *p, long long max) {
  switch (t->kind) {
  case CLAB_CHANNEL_QUEUES:
    for (;;) {
      ssize_t r = mq_receive((mqd_t)t->receive_fd, (char *)p, sizeof buffer, NULL);
      if (r >= 0 || errno != EINTR) return r;
    }
  case CLAB_CHANNEL_SHARED: {
    clab_shm_slot *s = &t->shared->to_child;
    while (sem_wait(&s->full) != 0) {
    }
    long long n = s->length < max ? s->length : max;
    memcpy(p, slot_data(t, s), (size_t)n);
    sem_post(&s->empty);
    return n;
  }
  default:
    for (;;) {
      ssize_t r = read(t->receive_fd, p, (size_t)max);
      if (r >= 0 || errno != EINTR) return r;
    }
  }
}

void clab_child_transfer(const void *args) {
  clab_transfer_args t = *(const clab_transfer_args *)args;
  if (t.send_path) {
    // FIFOs are met by name: the shell holds the answer FIFO open for reading already.
    t.send_fd = open(t.send_path, O_WRONLY);
    t.receive_fd = open(t.receive_path, O_RDONLY);
    if (t.send_fd < 0 || t.receive_fd < 0) _exit(6);
  }
  int whole = t.kind != CLAB_CHANNEL_DESCRIPTORS;
  for (long long r = 0; r < t.rounds; r++) {
    long long got = 0;
    while (got < t.message) {
      long long n = channel_receive(&t, buffer + got, whole ? (long long)sizeof buffer - got : t.message - got);
      if (n <= 0) _exit(2);
      got += n;
    }
    if (channel_send(&t, buffer, t.message) != 0) _exit(3);
  }
  clab_transfer_answer a = {0, 0, 0};
  checksum ck = {0, 0, 0, 0};
  while (a.received < t.bytes) {
    long long n = channel_receive(&t, buffer, sizeof buffer);
    if (n <= 0) _exit(4);
    checksum_add(&ck, buffer, n);
    a.received += n;
    a.reads++;
  }
  a.checksum = checksum_value(&ck);
  if (channel_send(&t, &a, sizeof a) != 0) _exit(5);
  _exit(0);
}

void clab_child_boundaries(const void *args) {
  const clab_boundaries_args *b = args;
  if (wait_command(b->go_fd) == 0) _exit(2);
  int answer[17];
  int got = 0, reads = 0;
  while (got < b->total && reads < 16) {
    ssize_t n = recv(b->socket_fd, buffer, sizeof buffer, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) _exit(3);
    answer[1 + reads++] = (int)n;
    got += (int)n;
  }
  answer[0] = reads;
  // The other direction: the answer goes back over the same socket.
  if (send(b->socket_fd, answer, sizeof(int) * (size_t)(1 + reads), MSG_NOSIGNAL) < 0) _exit(4);
  _exit(0);
}

void clab_child_pipe_reader(const void *args) {
  const clab_pipe_reader_args *a = args;
  if (wait_command(a->go_fd) == 0) _exit(2);
  clab_sleep_ns(a->delay_ns);
  long long report[3] = {0, 0, 0};
  for (;;) {
    ssize_t n = read(a->read_fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) _exit(3);
    if (n == 0) break;  // end of file: every write end is closed
    report[0] += n;
    report[1]++;
  }
  report[2] = 1;
  if (clab_write_all(a->report_fd, report, sizeof report) != 0) _exit(4);
  _exit(0);
}

/// dup2 onto 0 and 1 as a shell does before exec, and close the originals.
static void pipeline_plumb(const clab_pipeline_args *a) {
  if (a->stdin_fd >= 0 && (dup2(a->stdin_fd, 0) < 0 || close(a->stdin_fd) != 0)) _exit(10);
  if (a->stdout_fd >= 0 && (dup2(a->stdout_fd, 1) < 0 || close(a->stdout_fd) != 0)) _exit(11);
}

void clab_child_pipeline_writer(const void *args) {
  const clab_pipeline_args *a = args;
  pipeline_plumb(a);
  if (wait_command(a->go_fd) == 0) _exit(2);
  for (long long i = 1; i <= a->lines; i++) {
    // "line N\n" without stdio (not async-signal-safe).
    char text[32] = "line ";
    int k = 5;
    char digits[20];
    int d = 0;
    for (long long v = i; v > 0; v /= 10) digits[d++] = (char)('0' + v % 10);
    while (d > 0) text[k++] = digits[--d];
    text[k++] = '\n';
    if (clab_write_all(1, text, (size_t)k) != 0) _exit(3);
  }
  _exit(0);
}

void clab_child_pipeline_reader(const void *args) {
  const clab_pipeline_args *a = args;
  pipeline_plumb(a);
  long long report[3] = {0, 0, 1};
  for (;;) {
    ssize_t n = read(0, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) _exit(3);
    if (n == 0) break;
    for (ssize_t i = 0; i < n; i++) report[0] += buffer[i] == '\n';
    report[1] += n;
  }
  if (clab_write_all(1, report, sizeof report) != 0) _exit(4);
  _exit(0);
}

void clab_child_record_writer(const void *args) {
  const clab_record_writer_args *a = args;
  size_t size = (size_t)a->record;
  unsigned char *record = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (record == MAP_FAILED) _exit(5);
  memset(record, a->letter, size);
  if (wait_command(a->go_fd) == 0) _exit(2);
  for (long long i = 0; i < a->records; i++) {
    // One write() per record; a blocking pipe write returns short only if interrupted.
    if (clab_write_all(a->fd, record, size) != 0) _exit(3);
  }
  _exit(0);
}

void clab_child_mq_sender(const void *args) {
  const clab_mq_sender_args *m = args;
  for (int i = 0; i < m->count && i < 8; i++) {
    char text[32] = "message ";
    int k = 8;
    int pr = m->priorities[i];
    text[k++] = (char)('1' + i);
    memcpy(text + k, ", priority ", 11);
    k += 11;
    if (pr >= 10) text[k++] = (char)('0' + pr / 10 % 10);
    text[k++] = (char)('0' + pr % 10);
    text[k++] = 0;
    if (mq_send(m->queue, text, (size_t)k, (unsigned)pr) != 0) _exit(2);
  }
  _exit(0);
}

// ---------------------------------------------------------------- shared memory

static int spin_until(volatile int *flag, long long timeout_ns, long long *waited) {
  int64_t t0 = (int64_t)clab_monotonic_ns();
  for (;;) {
    if (*flag) {
      __sync_synchronize();
      *waited = (int64_t)clab_monotonic_ns() - t0;
      return 1;
    }
    if ((*waited = (int64_t)clab_monotonic_ns() - t0) >= timeout_ns) return 0;
  }
}

int clab_shm_count(clab_shm_region *region, int mode, long long iterations, int side) {
  // Meet the other side, so that both count at the same time.
  __sync_fetch_and_add(&region->arrived, 1);
  while (region->arrived < 2) {
    if (side == 0 && clab_interrupt_requested()) return -2;
  }
  region->started[side] = (int64_t)clab_monotonic_ns();
  volatile unsigned long long *c = &region->counter;
  for (long long i = 0; i < iterations; i++) {
    if (side == 0 && (i & 0xFFFF) == 0 && clab_interrupt_requested()) return -2;
    if (mode == CLAB_COUNT_SEMAPHORE) {
      // The shell waits at most 50 ms at a time: the child may die holding the semaphore.
      while (sem_trywait(&region->lock) != 0) {
        if (side != 0) {
          if (sem_wait(&region->lock) == 0) break;
          continue;
        }
        if (clab_interrupt_requested()) return -2;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 50000000L;
        if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
        if (sem_timedwait(&region->lock, &ts) == 0) break;
      }
    }
    // A separate load, add and store: the other process can store between them.
    unsigned long long v = *c;
    v = v + 1;
    *c = v;
    if (mode == CLAB_COUNT_SEMAPHORE) sem_post(&region->lock);
  }
  region->ended[side] = (int64_t)clab_monotonic_ns();
  return 0;
}

void clab_child_shm(const void *args) {
  const clab_shm_args *a = args;
  int flags = a->private_mapping ? MAP_PRIVATE : MAP_SHARED;
  // fork copied the shell's mapping too; this child finds the object by its name instead.
  munmap(a->inherited, sizeof(clab_shm_region));
  // open() on /dev/shm is what shm_open does, and open is async-signal-safe.
  int fd = open(a->path, O_RDWR | O_CLOEXEC);
  if (fd < 0) _exit(2);
  clab_shm_region *mine = mmap(NULL, sizeof *mine, PROT_READ | PROT_WRITE, flags, fd, 0);
  clab_shm_region *again = mmap(NULL, sizeof *again, PROT_READ | PROT_WRITE, flags, fd, 0);
  close(fd);
  if (mine == MAP_FAILED || again == MAP_FAILED) _exit(3);
  clab_shm_report report;
  memset(&report, 0, sizeof report);
  report.address = (unsigned long)mine;
  report.second_address = (unsigned long)again;
  if (clab_write_all(a->report_fd, &report, sizeof report) != 0) _exit(4);
  // 1: the shell wrote its message (or says it did): look for it for up to 200 ms.
  if (wait_command(a->control_fd) == 0) _exit(5);
  long long waited = 0;
  report.seen = spin_until(&mine->parent_wrote, 200000000LL, &waited);
  report.waited_ns = waited;
  memcpy(report.text, mine->parent_message, sizeof report.text);
  report.text[63] = 0;
  report.second_saw = memcmp(again->parent_message, mine->parent_message, sizeof report.text) == 0 &&
                      mine->parent_message[0] != 0;
  // 2: the child's own write, which the shell looks for.
  const char reply[] = "hello from the child";
  memcpy(mine->child_message, reply, sizeof reply);
  __sync_synchronize();
  mine->child_wrote = 1;
  if (clab_write_all(a->report_fd, &report, sizeof report) != 0) _exit(6);
  // 3: the counter, counted together with the shell.
  if (wait_command(a->control_fd) == 'c') {
    clab_shm_count(mine, a->counter_mode, a->iterations, 1);
    if (clab_write_all(a->report_fd, "d", 1) != 0) _exit(8);
  }
  _exit(0);
}

// ---------------------------------------------------------------- signals

static int report_fd = -1;

static void report_handler(int sig) {
  unsigned char m[2] = {'H', (unsigned char)sig};
  int saved = errno;
  if (write(report_fd, m, 2) < 0) {
  }
  errno = saved;
}

void clab_child_signal(const void *args) {
  const clab_signal_args *s = args;
  struct rlimit none = {0, 0};
  setrlimit(RLIMIT_CORE, &none);
  report_fd = s->report_fd;
  int result[2] = {0, 0};
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, s->signal);
  if (s->disposition == 1 || s->disposition == 2) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = s->disposition == 1 ? report_handler : SIG_IGN;
    sigemptyset(&sa.sa_mask);  // no SA_RESTART: the handler interrupts the read below
    result[0] = sigaction(s->signal, &sa, NULL);
  } else if (s->disposition == 3) {
    result[0] = sigprocmask(SIG_BLOCK, &set, NULL);
  }
  result[1] = result[0] == 0 ? 0 : errno;
  if (clab_write_all(s->report_fd, result, sizeof result) != 0) _exit(2);
  for (;;) {
    char c = wait_command(s->control_fd);
    if (c == 'u') {
      sigprocmask(SIG_UNBLOCK, &set, NULL);
      // Still here: the pending signal did not end this process.
      if (clab_write_all(s->report_fd, "U\0", 2) != 0) _exit(4);
    } else if (c == 'q') {
      if (clab_write_all(s->report_fd, "A\0", 2) != 0) _exit(4);
      _exit(0);
    } else if (c == 0) {
      _exit(3);
    }
  }
}

void clab_child_sigchld(const void *args) {
  const clab_sigchld_args *a = args;
  // Blocked, SIGCHLD waits as pending for sigtimedwait.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  sigprocmask(SIG_BLOCK, &set, NULL);
  int64_t t0 = (int64_t)clab_monotonic_ns();
  pid_t g = fork();
  if (g < 0) _exit(2);
  if (g == 0) {
    clab_sleep_ns(5000000);
    _exit(7);
  }
  siginfo_t info;
  memset(&info, 0, sizeof info);
  struct timespec limit = {3, 0};
  int got;
  do got = sigtimedwait(&set, &info, &limit);
  while (got < 0 && errno == EINTR);
  long long waited = (int64_t)clab_monotonic_ns() - t0;
  int st = 0;
  while (waitpid(g, &st, 0) < 0 && errno == EINTR) {
  }
  long long report[6] = {g, got == SIGCHLD, info.si_pid, info.si_code, info.si_status, waited};
  if (clab_write_all(a->report_fd, report, sizeof report) != 0) _exit(3);
  _exit(0);
}

static clab_merge_report merged;
static int merge_standard, merge_realtime;

static void merge_handler(int sig, siginfo_t *info, void *context) {
  (void)context;
  if (sig == merge_standard) merged.standard_delivered++;
  if (sig == merge_realtime) {
    if (merged.realtime_delivered < 64) merged.realtime_values[merged.realtime_delivered] = info->si_value.sival_int;
    merged.realtime_delivered++;
  }
}

void clab_child_signal_merge(const void *args) {
  const clab_merge_args *m = args;
  merge_standard = m->standard;
  merge_realtime = m->realtime;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = merge_handler;
  sa.sa_flags = SA_SIGINFO;
  sigfillset(&sa.sa_mask);  // one handler at a time: the counts are plain ints
  if (sigaction(m->standard, &sa, NULL) != 0 || sigaction(m->realtime, &sa, NULL) != 0) _exit(2);
  sigset_t both;
  sigemptyset(&both);
  sigaddset(&both, m->standard);
  sigaddset(&both, m->realtime);
  sigprocmask(SIG_BLOCK, &both, NULL);
  if (clab_write_all(m->report_fd, "R", 1) != 0) _exit(3);
  if (wait_command(m->control_fd) != 'u') _exit(4);
  // Every pending signal is delivered before sigprocmask returns.
  sigprocmask(SIG_UNBLOCK, &both, NULL);
  sigprocmask(SIG_BLOCK, &both, NULL);
  if (clab_write_all(m->report_fd, &merged, sizeof merged) != 0) _exit(5);
  wait_command(m->control_fd);
  _exit(0);
}

static volatile int thread_tids[3];
static int threads_signal;

static void tid_handler(int sig) {
  (void)sig;
  int tid = gettid();
  int saved = errno;
  if (write(report_fd, &tid, sizeof tid) < 0) {
  }
  errno = saved;
}

static void *signal_worker(void *arg) {
  long index = (long)arg;
  thread_tids[index] = gettid();
  if (index == 2) {
    // The dedicated thread: takes the (blocked) signal synchronously, no handler runs.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, threads_signal);
    for (;;) {
      int sig = 0;
      if (sigwait(&set, &sig) == 0) {
        int tid = gettid();
        if (clab_write_all(report_fd, &tid, sizeof tid) != 0) _exit(6);
      }
    }
  }
  for (;;) pause();
  return NULL;
}

void clab_child_signal_threads(const void *args) {
  // The one child that creates threads after fork: the shell is single-threaded
  // when it forks, and glibc resets its locks in the child.
  const clab_signal_threads_args *a = args;
  report_fd = a->report_fd;
  threads_signal = a->signal;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = tid_handler;
  sigemptyset(&sa.sa_mask);
  if (sigaction(a->signal, &sa, NULL) != 0) _exit(2);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, a->signal);
  // New threads start with their creator's mask.
  if (a->mode == 2) pthread_sigmask(SIG_BLOCK, &set, NULL);
  thread_tids[0] = gettid();
  pthread_t t;
  for (long i = 1; i <= 2; i++)
    if (pthread_create(&t, NULL, signal_worker, (void *)i) != 0) _exit(3);
  while (thread_tids[1] == 0 || thread_tids[2] == 0) sched_yield();
  if (a->mode == 1) pthread_sigmask(SIG_BLOCK, &set, NULL);
  int tids[3] = {thread_tids[0], thread_tids[1], thread_tids[2]};
  if (clab_write_all(a->report_fd, tids, sizeof tids) != 0) _exit(4);
  // The main thread waits in read(): a handler may run here too.
  while (wait_command(a->control_fd) != 'q') {
  }
  _exit(0);
}

void clab_child_sigpipe(const void *args) {
  const clab_sigpipe_args *a = args;
  if (a->ignore) signal(SIGPIPE, SIG_IGN);
  if (wait_command(a->control_fd) == 0) _exit(2);
  int result[2];
  result[0] = (int)write(a->write_fd, "x", 1);
  result[1] = result[0] < 0 ? errno : 0;
  if (clab_write_all(a->report_fd, result, sizeof result) != 0) _exit(3);
  _exit(0);
}

void clab_child_autoreap(const void *args) {
  const clab_autoreap_args *a = args;
  if (a->ignore) signal(SIGCHLD, SIG_IGN);
  int pids[16];
  int n = a->children < 16 ? a->children : 16;
  for (int i = 0; i < n; i++) {
    pids[i] = fork();
    if (pids[i] < 0) _exit(2);
    if (pids[i] == 0) _exit(0);
  }
  if (clab_write_all(a->report_fd, pids, sizeof(int) * (size_t)n) != 0) _exit(3);
  if (wait_command(a->control_fd) != 'w') _exit(4);
  int result[2] = {0, 0};
  for (;;) {
    int st;
    pid_t r = waitpid(-1, &st, 0);
    if (r > 0) {
      result[0]++;
      continue;
    }
    if (errno == EINTR) continue;
    result[1] = errno;
    break;
  }
  if (clab_write_all(a->report_fd, result, sizeof result) != 0) _exit(5);
  wait_command(a->control_fd);
  _exit(0);
}
