#define _GNU_SOURCE
#include "clab_ipc.h"
#include "clab.h"
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

// ---------------------------------------------------------------- helpers

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void nap_ns(long long ns) {
  struct timespec ts = {ns / 1000000000LL, ns % 1000000000LL};
  while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
  }
}

/// First thing in every forked child: die with the shell, so a killed shell leaves no experiment behind.
/// The Swift runtime's crash handlers and the shell's Ctrl-C flag are not the child's: defaults again.
static void child_begin(pid_t parent) {
  struct sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  int reset[] = {SIGINT, SIGQUIT, SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP};
  for (unsigned i = 0; i < sizeof reset / sizeof reset[0]; i++) sigaction(reset[i], &dfl, NULL);
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(1);
}

static void close_fd(int *fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

/// Kills (if still running) and reaps a child; returns its wait status.
static int kill_and_reap(pid_t pid, int *status) {
  if (pid <= 0) return 0;
  int st = 0;
  pid_t r;
  do { r = waitpid(pid, &st, WNOHANG); } while (r == -1 && errno == EINTR);
  if (r == 0) {
    kill(pid, SIGKILL);
    do { r = waitpid(pid, &st, 0); } while (r == -1 && errno == EINTR);
  }
  if (status && r == pid) *status = st;
  return st;
}

/// Waits up to `timeout_ns` for a child to end; 1 if reaped.
static int reap_within(pid_t pid, long long timeout_ns, int *status) {
  long long end = now_ns() + timeout_ns;
  for (;;) {
    int st = 0;
    pid_t r = waitpid(pid, &st, WNOHANG);
    if (r == pid) {
      if (status) *status = st;
      return 1;
    }
    if (r == -1 && errno != EINTR) return 0;
    if (now_ns() >= end) return 0;
    nap_ns(200000);
  }
}

/// Whether a child has ended (without reaping it).
static int child_ended(pid_t pid) {
  siginfo_t info;
  memset(&info, 0, sizeof info);
  if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) == -1) return errno == ECHILD;
  return info.si_pid == pid;
}

static int write_all(int fd, const void *buf, size_t n, int interruptible) {
  const unsigned char *p = buf;
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) {
        if (interruptible && clab_interrupt_requested()) return -2;
        continue;
      }
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/// Reads exactly n bytes (or returns 0 at EOF, -1 error, -2 Ctrl-C).
static int read_exact(int fd, void *buf, size_t n, int interruptible) {
  unsigned char *p = buf;
  size_t got = 0;
  while (got < n) {
    ssize_t r = read(fd, p + got, n - got);
    if (r < 0) {
      if (errno == EINTR) {
        if (interruptible && clab_interrupt_requested()) return -2;
        continue;
      }
      return -1;
    }
    if (r == 0) return 0;
    got += (size_t)r;
  }
  return 1;
}

/// An order-sensitive checksum over a byte stream cut at any places: the sum of
/// little-endian 64-bit words times odd weights. Fast enough not to be what is measured.
typedef struct {
  unsigned long long sum, index, partial;
  int have;
} checksum;

static void checksum_add(checksum *c, const unsigned char *p, long long n) {
  while (n > 0 && c->have > 0) {
    c->partial |= (unsigned long long)(*p++) << (8 * c->have++);
    n--;
    if (c->have == 8) {
      c->sum += c->partial * (2 * c->index + 1);
      c->index++;
      c->partial = 0;
      c->have = 0;
    }
  }
  while (n >= 8) {
    unsigned long long w;
    memcpy(&w, p, 8);
    c->sum += w * (2 * c->index + 1);
    c->index++;
    p += 8;
    n -= 8;
  }
  while (n > 0) {
    c->partial |= (unsigned long long)(*p++) << (8 * c->have++);
    n--;
  }
}

static unsigned long long checksum_value(const checksum *c) {
  unsigned long long s = c->sum;
  if (c->have > 0) s += c->partial * (2 * c->index + 1);
  return s ^ (c->index * 8 + (unsigned long long)c->have);
}

#define FAIL(obj, call) \
  do { \
    (obj)->failed_call = (call); \
    (obj)->failed_errno = errno; \
    rc = clab_interrupt_requested() ? -2 : -1; \
    goto done; \
  } while (0)


// ---------------------------------------------------------------- call log (parent side only)

#include <stdarg.h>

#define CALL_LOG_MAX 64
static int call_log_on = 0;
static int call_log_count = 0;
static clab_ipc_call call_log[CALL_LOG_MAX];

void clab_ipc_trace_enable(int on) {
  call_log_on = on;
  call_log_count = 0;
}

int clab_ipc_take_calls(clab_ipc_call *out, int max) {
  int n = call_log_count < max ? call_log_count : max;
  memcpy(out, call_log, sizeof(clab_ipc_call) * (size_t)n);
  call_log_count = 0;
  return n;
}

static void note_call(const char *name, long long t0, long long result, int err, const char *fmt, ...) {
  if (!call_log_on || call_log_count >= CALL_LOG_MAX) return;
  clab_ipc_call *c = &call_log[call_log_count++];
  snprintf(c->name, sizeof c->name, "%s", name);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(c->args, sizeof c->args, fmt, ap);
  va_end(ap);
  c->result = result;
  c->err = result < 0 ? err : 0;
  c->ns = now_ns() - t0;
}

/// Logs a call made just now: NOTE("pipe2", t0, rc, "O_CLOEXEC").
#define NOTE(name, t0, result, ...) note_call(name, t0, (long long)(result), errno, __VA_ARGS__)

// ---------------------------------------------------------------- channels

#define SHM_SLOT (64 * 1024)

typedef struct {
  sem_t full[2], empty[2];
  long long len[2];
  unsigned char data[2][SHM_SLOT];
} shm_channel;

typedef struct {
  int kind;
  int send_fd, recv_fd;   // pipe, socket, fifo
  mqd_t send_q, recv_q;   // message queues
  shm_channel *shm;       // shared memory: direction 0 parent->child, 1 child->parent
  int send_dir, recv_dir;
  pid_t peer;             // parent: the child to watch; child: 0 (its parent kills it)
  long msgsize;
} channel;

/// Whether a timed wait should give up: Ctrl-C in the parent, or the peer died.
/// Returns 0 to keep waiting, -2 on Ctrl-C, -1 when the peer is gone.
static int keep_waiting(channel *c) {
  if (c->peer > 0) {
    if (clab_interrupt_requested()) return -2;
    if (child_ended(c->peer)) {
      errno = EPIPE;
      return -1;
    }
  }
  return 0;
}

static struct timespec soon(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_nsec += 100000000L;
  if (ts.tv_nsec >= 1000000000L) {
    ts.tv_sec++;
    ts.tv_nsec -= 1000000000L;
  }
  return ts;
}

static int sem_wait_watched(channel *c, sem_t *s) {
  for (;;) {
    if (sem_trywait(s) == 0) return 0;
    struct timespec ts = soon();
    if (sem_timedwait(s, &ts) == 0) return 0;
    if (errno != ETIMEDOUT && errno != EINTR) return -1;
    int k = keep_waiting(c);
    if (k) return k;
  }
}

/// Sends one message (one write, datagram, queue message or slot).
static int chan_send(channel *c, const unsigned char *buf, long long n) {
  switch (c->kind) {
  case CLAB_IPC_DGRAM:
    for (;;) {
      ssize_t w = send(c->send_fd, buf, (size_t)n, MSG_NOSIGNAL);
      if (w >= 0) return 0;
      if (errno != EINTR) return -1;
      int k = keep_waiting(c);
      if (k) return k;
    }
  case CLAB_IPC_MQ:
    for (;;) {
      struct timespec ts = soon();
      if (mq_timedsend(c->send_q, (const char *)buf, (size_t)n, 0, &ts) == 0) return 0;
      if (errno != ETIMEDOUT && errno != EINTR) return -1;
      int k = keep_waiting(c);
      if (k) return k;
    }
  case CLAB_IPC_SHM: {
    int d = c->send_dir;
    int k = sem_wait_watched(c, &c->shm->empty[d]);
    if (k) return k;
    memcpy(c->shm->data[d], buf, (size_t)n);
    c->shm->len[d] = n;
    sem_post(&c->shm->full[d]);
    return 0;
  }
  default:
    return write_all(c->send_fd, buf, (size_t)n, c->peer > 0);
  }
}

/// Receives what is there (up to max): >0 bytes, 0 end of file, -1 error, -2 Ctrl-C.
static long long chan_recv(channel *c, unsigned char *buf, long long max) {
  switch (c->kind) {
  case CLAB_IPC_MQ:
    for (;;) {
      struct timespec ts = soon();
      ssize_t r = mq_timedreceive(c->recv_q, (char *)buf, (size_t)c->msgsize, NULL, &ts);
      if (r >= 0) return r;
      if (errno != ETIMEDOUT && errno != EINTR) return -1;
      int k = keep_waiting(c);
      if (k) return k;
    }
  case CLAB_IPC_SHM: {
    int d = c->recv_dir;
    int k = sem_wait_watched(c, &c->shm->full[d]);
    if (k) return k;
    long long n = c->shm->len[d];
    if (n > max) n = max;
    memcpy(buf, c->shm->data[d], (size_t)n);
    sem_post(&c->shm->empty[d]);
    return n;
  }
  default:
    for (;;) {
      ssize_t r = read(c->recv_fd, buf, (size_t)max);
      if (r >= 0) return r;
      if (errno != EINTR) return -1;
      if (c->peer > 0 && clab_interrupt_requested()) return -2;
    }
  }
}

typedef struct {
  long long received, reads;
  unsigned long long sum;
} transfer_answer;

/// The child's whole life: echo `rounds` messages, then count and checksum the bulk, then answer.
static void transfer_child(channel *c, clab_ipc_transfer *t, unsigned char *buf, long long bufsize) {
  for (int r = 0; r < t->rounds; r++) {
    long long got = 0;
    while (got < t->message) {
      long long n = chan_recv(c, buf + got, (c->kind == CLAB_IPC_MQ || c->kind == CLAB_IPC_SHM) ? bufsize - got : t->message - got);
      if (n <= 0) _exit(2);
      got += n;
    }
    if (chan_send(c, buf, t->message) != 0) _exit(3);
  }
  transfer_answer a = {0, 0, 0};
  checksum ck = {0, 0, 0, 0};
  while (a.received < t->bytes) {
    long long n = chan_recv(c, buf, bufsize);
    if (n <= 0) _exit(4);
    checksum_add(&ck, buf, n);
    a.received += n;
    a.reads++;
  }
  a.sum = checksum_value(&ck);
  if (chan_send(c, (unsigned char *)&a, sizeof a) != 0) _exit(5);
  _exit(0);
}

static int names_present(clab_ipc_transfer *t, const char *fifo_req, const char *fifo_ans, const char *q1, const char *q2) {
  int n = 0;
  if (t->kind == CLAB_IPC_FIFO) n += (access(fifo_req, F_OK) == 0) + (access(fifo_ans, F_OK) == 0);
  if (t->kind == CLAB_IPC_MQ) {
    mqd_t q = mq_open(q1, O_RDONLY);
    if (q != (mqd_t)-1) { n++; mq_close(q); }
    q = mq_open(q2, O_RDONLY);
    if (q != (mqd_t)-1) { n++; mq_close(q); }
  }
  if (t->kind == CLAB_IPC_SHM) {
    int fd = shm_open(t->name, O_RDONLY, 0);
    if (fd >= 0) { n++; close(fd); }
  }
  return n;
}

int clab_ipc_transfer_run(clab_ipc_transfer *t) {
  int rc = 0;
  int a[2] = {-1, -1}, b[2] = {-1, -1};   // pipes or socket pairs
  char fifo_req[512] = "", fifo_ans[512] = "", q1[256] = "", q2[256] = "";
  mqd_t qa = (mqd_t)-1, qb = (mqd_t)-1;
  shm_channel *shm = MAP_FAILED;
  int shm_created = 0, fifo_created = 0, mq_created = 0;
  unsigned char *pattern = NULL, *buf = NULL;
  const long long pattern_size = 1 << 20;
  channel c;
  memset(&c, 0, sizeof c);
  c.kind = t->kind;
  c.send_fd = c.recv_fd = -1;
  t->child = 0;
  t->parent_send_fd = t->parent_recv_fd = t->child_recv_fd = t->child_send_fd = -1;
  t->sent = t->child_received = t->child_reads = 0;
  t->echo_mismatches = 0;
  t->rtt_total_ns = t->rtt_max_ns = 0;
  t->rtt_min_ns = -1;
  t->failed_call = NULL;
  t->failed_errno = 0;
  t->status = 0;
  t->chunk = (t->kind == CLAB_IPC_MQ) ? 8192 : 64 * 1024;

  switch (t->kind) {
  case CLAB_IPC_PIPE: {
    long long t0 = now_ns();
    int r1 = pipe2(a, O_CLOEXEC);
    NOTE("pipe2", t0, r1, "O_CLOEXEC -> [%d, %d] request", a[0], a[1]);
    if (r1 != 0) FAIL(t, "pipe2");
    t0 = now_ns();
    r1 = pipe2(b, O_CLOEXEC);
    NOTE("pipe2", t0, r1, "O_CLOEXEC -> [%d, %d] answer", b[0], b[1]);
    if (r1 != 0) FAIL(t, "pipe2");
    t->parent_send_fd = a[1];
    t->child_recv_fd = a[0];
    t->child_send_fd = b[1];
    t->parent_recv_fd = b[0];
    break;
  }
  case CLAB_IPC_STREAM:
  case CLAB_IPC_DGRAM: {
    long long t0 = now_ns();
    int r1 = socketpair(AF_UNIX, (t->kind == CLAB_IPC_STREAM ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0, a);
    NOTE("socketpair", t0, r1, "AF_UNIX, %s|SOCK_CLOEXEC -> [%d, %d]", t->kind == CLAB_IPC_STREAM ? "SOCK_STREAM" : "SOCK_DGRAM", a[0], a[1]);
    if (r1 != 0) FAIL(t, "socketpair");
    t->parent_send_fd = t->parent_recv_fd = a[0];
    t->child_recv_fd = t->child_send_fd = a[1];
    break;
  }
  case CLAB_IPC_FIFO: {
    long long t0 = now_ns();
    snprintf(fifo_req, sizeof fifo_req, "%s/request", t->name);
    snprintf(fifo_ans, sizeof fifo_ans, "%s/answer", t->name);
    int r1 = mkfifo(fifo_req, 0600);
    NOTE("mkfifo", t0, r1, "%s, 0600", fifo_req);
    if (r1 != 0) FAIL(t, "mkfifo");
    fifo_created = 1;
    t0 = now_ns();
    r1 = mkfifo(fifo_ans, 0600);
    NOTE("mkfifo", t0, r1, "%s, 0600", fifo_ans);
    if (r1 != 0) FAIL(t, "mkfifo");
    fifo_created = 2;
    break;
  }
  case CLAB_IPC_MQ: {
    snprintf(q1, sizeof q1, "%s.to-child", t->name);
    snprintf(q2, sizeof q2, "%s.to-parent", t->name);
    struct mq_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.mq_maxmsg = 10;
    attr.mq_msgsize = t->chunk;
    long long t0 = now_ns();
    qa = mq_open(q1, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600, &attr);
    NOTE("mq_open", t0, qa, "%s, O_CREAT|O_EXCL|O_RDWR, maxmsg 10, msgsize %d", q1, t->chunk);
    if (qa == (mqd_t)-1) FAIL(t, "mq_open");
    mq_created = 1;
    t0 = now_ns();
    qb = mq_open(q2, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600, &attr);
    NOTE("mq_open", t0, qb, "%s, O_CREAT|O_EXCL|O_RDWR, maxmsg 10, msgsize %d", q2, t->chunk);
    if (qb == (mqd_t)-1) FAIL(t, "mq_open");
    mq_created = 2;
    c.msgsize = t->chunk;
    t->parent_send_fd = t->child_recv_fd = (int)qa;
    t->parent_recv_fd = t->child_send_fd = (int)qb;
    break;
  }
  case CLAB_IPC_SHM: {
    long long t0 = now_ns();
    int fd = shm_open(t->name, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
    NOTE("shm_open", t0, fd, "%s, O_CREAT|O_EXCL|O_RDWR, 0600", t->name);
    if (fd < 0) FAIL(t, "shm_open");
    shm_created = 1;
    t0 = now_ns();
    int r1 = ftruncate(fd, sizeof(shm_channel));
    NOTE("ftruncate", t0, r1, "%d, %zu", fd, sizeof(shm_channel));
    if (r1 != 0) {
      close(fd);
      FAIL(t, "ftruncate");
    }
    t0 = now_ns();
    shm = mmap(NULL, sizeof(shm_channel), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    NOTE("mmap", t0, shm == MAP_FAILED ? -1 : 0, "NULL, %zu, PROT_READ|PROT_WRITE, MAP_SHARED, %d -> %p", sizeof(shm_channel), fd, (void *)shm);
    close(fd);
    if (shm == MAP_FAILED) FAIL(t, "mmap");
    // The mapping is all both processes need (fork keeps MAP_SHARED mappings shared): the name can go now.
    t0 = now_ns();
    r1 = shm_unlink(t->name);
    NOTE("shm_unlink", t0, r1, "%s (mapped; the memory stays until munmap)", t->name);
    shm_created = 0;
    for (int d = 0; d < 2; d++) {
      if (sem_init(&shm->full[d], 1, 0) != 0) FAIL(t, "sem_init");
      if (sem_init(&shm->empty[d], 1, 1) != 0) FAIL(t, "sem_init");
    }
    NOTE("sem_init", now_ns(), 0, "4 semaphores in the shared page, pshared=1 (full 0, empty 1, each direction)");
    c.shm = shm;
    break;
  }
  default:
    errno = EINVAL;
    FAIL(t, "transfer");
  }

  long long bufsize = t->chunk > t->message ? t->chunk : t->message;
  if (bufsize < (long long)sizeof(transfer_answer)) bufsize = sizeof(transfer_answer);
  buf = malloc((size_t)bufsize);
  pattern = malloc((size_t)(pattern_size + t->chunk));
  if (!buf || !pattern) FAIL(t, "malloc");
  unsigned long long x = 0x9E3779B97F4A7C15ULL;
  for (long long i = 0; i < pattern_size + t->chunk; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    pattern[i] = (unsigned char)x;
  }

  long long tf = now_ns();
  pid_t parent_pid = getpid();
  pid_t pid = fork();
  NOTE("fork", tf, pid, "child echoes %d messages, then counts %lld bytes", t->rounds, t->bytes);
  if (pid < 0) FAIL(t, "fork");
  if (pid == 0) {
    child_begin(parent_pid);
    // Child: async-signal-safe calls only.
    channel cc = c;
    cc.peer = 0;
    switch (t->kind) {
    case CLAB_IPC_PIPE:
      close(a[1]);
      close(b[0]);
      cc.recv_fd = a[0];
      cc.send_fd = b[1];
      break;
    case CLAB_IPC_STREAM:
    case CLAB_IPC_DGRAM:
      close(a[0]);
      cc.recv_fd = cc.send_fd = a[1];
      break;
    case CLAB_IPC_FIFO:
      // Opened by name: the child inherited no descriptor of these FIFOs.
      cc.send_fd = open(fifo_ans, O_WRONLY);
      if (cc.send_fd < 0) _exit(6);
      cc.recv_fd = open(fifo_req, O_RDONLY);
      if (cc.recv_fd < 0) _exit(6);
      break;
    case CLAB_IPC_MQ:
      cc.recv_q = qa;
      cc.send_q = qb;
      break;
    case CLAB_IPC_SHM:
      cc.recv_dir = 0;
      cc.send_dir = 1;
      break;
    }
    transfer_child(&cc, t, buf, bufsize);
    _exit(1);
  }
  t->child = pid;
  c.peer = pid;
  switch (t->kind) {
  case CLAB_IPC_PIPE:
    close_fd(&a[0]);
    close_fd(&b[1]);
    c.send_fd = a[1];
    c.recv_fd = b[0];
    break;
  case CLAB_IPC_STREAM:
  case CLAB_IPC_DGRAM:
    close_fd(&a[1]);
    c.send_fd = c.recv_fd = a[0];
    break;
  case CLAB_IPC_FIFO: {
    // The answer FIFO first, without blocking: a reader exists, so the child's open for writing succeeds.
    long long t0 = now_ns();
    b[0] = open(fifo_ans, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    NOTE("open", t0, b[0], "%s, O_RDONLY|O_NONBLOCK", fifo_ans);
    if (b[0] < 0) FAIL(t, "open");
    t0 = now_ns();
    int tries = 0;
    // The request FIFO: ENXIO until the child has it open for reading (it opens the answer FIFO before).
    for (;;) {
      a[1] = open(fifo_req, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
      tries++;
      if (a[1] >= 0) break;
      if (errno != ENXIO && errno != EINTR) FAIL(t, "open");
      if (clab_interrupt_requested()) { rc = -2; goto done; }
      if (child_ended(pid)) { errno = EPIPE; FAIL(t, "open"); }
      nap_ns(100000);
    }
    NOTE("open", t0, a[1], "%s, O_WRONLY|O_NONBLOCK (%d tries: ENXIO until the child opened it)", fifo_req, tries);
    fcntl(a[1], F_SETFL, fcntl(a[1], F_GETFL) & ~O_NONBLOCK);
    fcntl(b[0], F_SETFL, fcntl(b[0], F_GETFL) & ~O_NONBLOCK);
    c.send_fd = a[1];
    c.recv_fd = b[0];
    t->parent_send_fd = a[1];
    t->parent_recv_fd = b[0];
    break;
  }
  case CLAB_IPC_MQ:
    c.send_q = qa;
    c.recv_q = qb;
    break;
  case CLAB_IPC_SHM:
    c.send_dir = 0;
    c.recv_dir = 1;
    break;
  }

  // Round trips.
  for (int r = 0; r < t->rounds; r++) {
    if (clab_interrupt_requested()) { rc = -2; goto done; }
    const unsigned char *msg = pattern + (r * 131) % pattern_size;
    long long t0 = now_ns();
    int s = chan_send(&c, msg, t->message);
    if (s == -2) { rc = -2; goto done; }
    if (s != 0) FAIL(t, "send");
    long long got = 0;
    while (got < t->message) {
      long long n = chan_recv(&c, buf + got, (t->kind == CLAB_IPC_MQ || t->kind == CLAB_IPC_SHM) ? bufsize - got : t->message - got);
      if (n == -2) { rc = -2; goto done; }
      if (n <= 0) { if (n == 0) errno = EPIPE; FAIL(t, "receive"); }
      got += n;
    }
    long long dt = now_ns() - t0;
    if (memcmp(buf, msg, (size_t)t->message) != 0) t->echo_mismatches++;
    t->rtt_total_ns += dt;
    if (t->rtt_min_ns < 0 || dt < t->rtt_min_ns) t->rtt_min_ns = dt;
    if (dt > t->rtt_max_ns) t->rtt_max_ns = dt;
  }

  {
    static const char *sends[] = {"write", "write", "send", "write", "sem_post", "mq_timedsend"};
    static const char *recvs[] = {"read", "read", "read", "read", "sem_timedwait", "mq_timedreceive"};
    char what[24];
    snprintf(what, sizeof what, "%s+%s", sends[t->kind], recvs[t->kind]);
    note_call(what, now_ns() - t->rtt_total_ns, t->rounds, 0, "%d round trips of %d bytes to child %d and back", t->rounds, t->message, pid);
  }
  // Bulk: the child counts and checksums, then answers.
  checksum ck = {0, 0, 0, 0};
  long long t0 = now_ns();
  long long k = 0;
  while (t->sent < t->bytes) {
    if (clab_interrupt_requested()) { rc = -2; goto done; }
    long long n = t->bytes - t->sent;
    if (n > t->chunk) n = t->chunk;
    const unsigned char *p = pattern + (k * 4099) % pattern_size;
    int s = chan_send(&c, p, n);
    if (s == -2) { rc = -2; goto done; }
    if (s != 0) FAIL(t, "send");
    t->sent += n;
    k++;
  }
  transfer_answer ans;
  {
    long long got = 0;
    unsigned char *ap = (unsigned char *)&ans;
    while (got < (long long)sizeof ans) {
      long long n = chan_recv(&c, buf, bufsize);
      if (n == -2) { rc = -2; goto done; }
      if (n <= 0) { if (n == 0) errno = EPIPE; FAIL(t, "receive"); }
      if (n > (long long)sizeof ans - got) n = (long long)sizeof ans - got;
      memcpy(ap + got, buf, (size_t)n);
      got += n;
    }
  }
  t->bulk_ns = now_ns() - t0;
  {
    static const char *sends[] = {"write", "write", "send", "write", "sem_wait+memcpy+sem_post", "mq_timedsend"};
    note_call(sends[t->kind], t0, t->sent, 0, "%lld calls of up to %d bytes (fd/queue %d), then the child's %zu-byte answer", k, t->chunk, t->parent_send_fd, sizeof ans);
  }
  t->child_received = ans.received;
  t->child_reads = ans.reads;
  t->child_checksum = ans.sum;
  // The parent's own checksum of what it sent, outside the timed part.
  long long left = t->sent;
  for (long long i = 0; left > 0; i++) {
    long long n = left > t->chunk ? t->chunk : left;
    checksum_add(&ck, pattern + (i * 4099) % pattern_size, n);
    left -= n;
  }
  t->sent_checksum = checksum_value(&ck);
  tf = now_ns();
  if (!reap_within(pid, 2000000000LL, &t->status)) kill_and_reap(pid, &t->status);
  NOTE("waitpid", tf, pid, "%d", pid);
  t->child = -pid;  // reaped

done:
  if (t->child > 0) kill_and_reap(t->child, &t->status);
  if (t->child < 0) t->child = -t->child;
  close_fd(&a[0]);
  close_fd(&a[1]);
  close_fd(&b[0]);
  close_fd(&b[1]);
  if (qa != (mqd_t)-1) mq_close(qa);
  if (qb != (mqd_t)-1) mq_close(qb);
  if (mq_created >= 1) NOTE("mq_unlink", now_ns(), mq_unlink(q1), "%s", q1);
  if (mq_created >= 2) NOTE("mq_unlink", now_ns(), mq_unlink(q2), "%s", q2);
  if (fifo_created >= 1) NOTE("unlink", now_ns(), unlink(fifo_req), "%s", fifo_req);
  if (fifo_created >= 2) NOTE("unlink", now_ns(), unlink(fifo_ans), "%s", fifo_ans);
  if (shm != MAP_FAILED) {
    for (int d = 0; d < 2; d++) {
      sem_destroy(&shm->full[d]);
      sem_destroy(&shm->empty[d]);
    }
    munmap(shm, sizeof(shm_channel));
  }
  if (shm_created) shm_unlink(t->name);
  t->names_left = names_present(t, fifo_req, fifo_ans, q1, q2);
  free(buf);
  free(pattern);
  return rc;
}

// ---------------------------------------------------------------- message boundaries

int clab_ipc_boundaries_run(clab_ipc_boundaries *b) {
  int rc = 0;
  int sv[2] = {-1, -1}, go[2] = {-1, -1};
  b->child = 0;
  b->reads = 0;
  b->answer_bytes = 0;
  b->failed_call = NULL;
  b->status = 0;
  int total = b->sizes[0] + b->sizes[1] + b->sizes[2];
  long long t0 = now_ns();
  int r0 = socketpair(AF_UNIX, (b->datagram ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0, sv);
  NOTE("socketpair", t0, r0, "AF_UNIX, %s|SOCK_CLOEXEC -> [%d, %d]", b->datagram ? "SOCK_DGRAM" : "SOCK_STREAM", sv[0], sv[1]);
  if (r0 != 0) FAIL(b, "socketpair");
  if (pipe2(go, O_CLOEXEC) != 0) FAIL(b, "pipe2");
  b->parent_fd = sv[0];
  b->child_fd = sv[1];
  t0 = now_ns();
  pid_t parent_pid = getpid();
  pid_t pid = fork();
  NOTE("fork", t0, pid, "the child reads fd %d once told to", sv[1]);
  if (pid < 0) FAIL(b, "fork");
  if (pid == 0) {
    child_begin(parent_pid);
    close(sv[0]);
    close(go[1]);
    char g;
    // Read only once all three messages were sent.
    if (read_exact(go[0], &g, 1, 0) != 1) _exit(2);
    int sizes[17];
    int got = 0, reads = 0;
    unsigned char buf[4096];
    while (got < total && reads < 16) {
      ssize_t n = recv(sv[1], buf, sizeof buf, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) _exit(3);
      sizes[1 + reads++] = (int)n;
      got += (int)n;
    }
    sizes[0] = reads;
    // The other direction: the answer goes back over the same socket.
    if (send(sv[1], sizes, sizeof(int) * (size_t)(1 + reads), MSG_NOSIGNAL) < 0) _exit(4);
    _exit(0);
  }
  b->child = pid;
  close_fd(&sv[1]);
  close_fd(&go[0]);
  unsigned char msg[3][1024];
  for (int i = 0; i < 3; i++) {
    memset(msg[i], 'a' + i, sizeof msg[i]);
    ssize_t w;
    t0 = now_ns();
    do { w = send(sv[0], msg[i], (size_t)b->sizes[i], MSG_NOSIGNAL); } while (w < 0 && errno == EINTR);
    NOTE("send", t0, w, "%d, %d bytes, MSG_NOSIGNAL", sv[0], b->sizes[i]);
    if (w < 0) FAIL(b, "send");
  }
  if (write_all(go[1], "g", 1, 1) != 0) FAIL(b, "write");
  int answer[17];
  ssize_t n;
  for (;;) {
    n = recv(sv[0], answer, sizeof answer, 0);
    if (n >= 0) break;
    if (errno != EINTR) FAIL(b, "recv");
    if (clab_interrupt_requested()) { rc = -2; goto done; }
  }
  NOTE("recv", now_ns(), n, "%d: the child's answer", sv[0]);
  b->answer_bytes = (int)n;
  if (n >= (ssize_t)sizeof(int)) {
    b->reads = answer[0];
    for (int i = 0; i < b->reads && i < 16 && (ssize_t)(sizeof(int) * (size_t)(i + 2)) <= n; i++)
      b->read_sizes[i] = answer[1 + i];
  }
  if (!reap_within(pid, 2000000000LL, &b->status)) kill_and_reap(pid, &b->status);
  b->child = -pid;
done:
  if (b->child > 0) kill_and_reap(b->child, &b->status);
  if (b->child < 0) b->child = -b->child;
  close_fd(&sv[0]);
  close_fd(&sv[1]);
  close_fd(&go[0]);
  close_fd(&go[1]);
  return rc;
}

// ---------------------------------------------------------------- pipe fill

int clab_ipc_default_pipe_size(void) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) return -1;
  int size = fcntl(p[0], F_GETPIPE_SZ);
  close(p[0]);
  close(p[1]);
  return size;
}

int clab_ipc_pipe_fill_run(clab_ipc_pipe_fill *f) {
  int rc = 0;
  int p[2] = {-1, -1}, go[2] = {-1, -1}, rep[2] = {-1, -1};
  f->child = 0;
  f->filled = 0;
  f->write_calls = 0;
  f->eagain_errno = 0;
  f->blocked_ns = 0;
  f->blocked_bytes = 0;
  f->child_total = 0;
  f->child_reads = 0;
  f->child_eof = 0;
  f->failed_call = NULL;
  f->status = 0;
  if (pipe2(p, O_CLOEXEC) != 0) FAIL(f, "pipe2");
  if (pipe2(go, O_CLOEXEC) != 0) FAIL(f, "pipe2");
  if (pipe2(rep, O_CLOEXEC) != 0) FAIL(f, "pipe2");
  f->read_fd = p[0];
  f->write_fd = p[1];
  NOTE("pipe2", now_ns(), 0, "O_CLOEXEC -> [%d, %d]", p[0], p[1]);
  long long t0 = now_ns();
  f->capacity_fcntl = fcntl(p[1], F_GETPIPE_SZ);
  NOTE("fcntl", t0, f->capacity_fcntl, "%d, F_GETPIPE_SZ", p[1]);
  t0 = now_ns();
  pid_t parent_pid = getpid();
  pid_t pid = fork();
  NOTE("fork", t0, pid, "the reader waits for a go, sleeps %lld ms, reads to EOF", f->delay_ns / 1000000);
  if (pid < 0) FAIL(f, "fork");
  if (pid == 0) {
    child_begin(parent_pid);
    close(p[1]);
    close(go[1]);
    close(rep[0]);
    char g;
    if (read_exact(go[0], &g, 1, 0) != 1) _exit(2);
    nap_ns(f->delay_ns);
    long long report[3] = {0, 0, 0};
    unsigned char buf[65536];
    for (;;) {
      ssize_t n = read(p[0], buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) _exit(3);
      if (n == 0) {
        report[2] = 1;  // end of file: every writer closed its end
        break;
      }
      report[0] += n;
      report[1]++;
    }
    if (write_all(rep[1], report, sizeof report, 0) != 0) _exit(4);
    _exit(0);
  }
  f->child = pid;
  close_fd(&p[0]);
  close_fd(&go[0]);
  close_fd(&rep[1]);
  // Nobody reads yet: write without blocking until the kernel says EAGAIN.
  int flags = fcntl(p[1], F_GETFL);
  t0 = now_ns();
  NOTE("fcntl", t0, fcntl(p[1], F_SETFL, flags | O_NONBLOCK), "%d, F_SETFL, O_NONBLOCK", p[1]);
  t0 = now_ns();
  static unsigned char chunk[4096];
  memset(chunk, 'x', sizeof chunk);
  size_t size = sizeof chunk;
  for (;;) {
    ssize_t w = write(p[1], chunk, size);
    f->write_calls++;
    if (w > 0) {
      f->filled += w;
      continue;
    }
    if (w < 0 && errno == EAGAIN) {
      // Full for 4096 bytes: try single bytes to find the last free byte, then stop.
      if (size > 1) {
        size = 1;
        continue;
      }
      f->eagain_errno = errno;
      break;
    }
    if (w < 0 && errno == EINTR) {
      if (clab_interrupt_requested()) { rc = -2; goto done; }
      continue;
    }
    FAIL(f, "write");
  }
  NOTE("write", t0, f->filled, "%d, 4096 then 1-byte writes: %d calls until -1 EAGAIN", p[1], f->write_calls);
  // A blocking writer now stalls until the reader (started now, after its delay) makes room.
  NOTE("fcntl", now_ns(), fcntl(p[1], F_SETFL, flags & ~O_NONBLOCK), "%d, F_SETFL, blocking again", p[1]);
  if (write_all(go[1], "g", 1, 1) != 0) FAIL(f, "write");
  t0 = now_ns();
  int w = write_all(p[1], chunk, sizeof chunk, 1);
  if (w == -2) { rc = -2; goto done; }
  if (w != 0) FAIL(f, "write");
  f->blocked_ns = now_ns() - t0;
  f->blocked_bytes = sizeof chunk;
  NOTE("write", t0, (long long)sizeof chunk, "%d, %zu bytes into a full pipe: blocked until the reader made room", p[1], sizeof chunk);
  // Closing the only write end: the reader sees end of file once it has read everything.
  NOTE("close", now_ns(), 0, "%d (the only write end)", p[1]);
  close_fd(&p[1]);
  long long report[3];
  int r = read_exact(rep[0], report, sizeof report, 1);
  if (r == -2) { rc = -2; goto done; }
  if (r != 1) { if (r == 0) errno = EPIPE; FAIL(f, "read"); }
  f->child_total = report[0];
  f->child_reads = (int)report[1];
  f->child_eof = (int)report[2];
  if (!reap_within(pid, 2000000000LL, &f->status)) kill_and_reap(pid, &f->status);
  f->child = -pid;
done:
  if (f->child > 0) kill_and_reap(f->child, &f->status);
  if (f->child < 0) f->child = -f->child;
  close_fd(&p[0]);
  close_fd(&p[1]);
  close_fd(&go[0]);
  close_fd(&go[1]);
  close_fd(&rep[0]);
  close_fd(&rep[1]);
  return rc;
}

// ---------------------------------------------------------------- shared memory

typedef struct {
  volatile unsigned long long counter;
  volatile int go;
  volatile int parent_wrote, child_wrote;
  volatile int child_ready;
  sem_t lock;
  char parent_message[64];
  char child_message[64];
} shm_region;

static int spin_until(volatile int *flag, long long timeout_ns, long long *waited) {
  long long t0 = now_ns();
  for (;;) {
    if (*flag) {
      __sync_synchronize();
      *waited = now_ns() - t0;
      return 1;
    }
    long long t = now_ns() - t0;
    if (t >= timeout_ns) {
      *waited = t;
      return 0;
    }
  }
}

/// Unsynchronised increments: a separate volatile load, add and store, so a
/// process can overwrite the other's update between its load and its store.
static int count_racy(volatile unsigned long long *c, long long n, int parent) {
  for (long long i = 0; i < n; i++) {
    if (parent && (i & 0xFFFF) == 0 && clab_interrupt_requested()) return -2;
    unsigned long long v = *c;
    v = v + 1;
    *c = v;
  }
  return 0;
}

static int count_locked(volatile unsigned long long *c, sem_t *s, long long n, int parent) {
  for (long long i = 0; i < n; i++) {
    if (parent && (i & 0xFFFF) == 0 && clab_interrupt_requested()) return -2;
    if (parent) {
      // Ctrl-C reaches the child too (same process group) and may kill it while it holds
      // the semaphore: the parent must not wait for it forever, so it waits in 50 ms steps.
      while (sem_trywait(s) != 0) {
        if (clab_interrupt_requested()) return -2;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 50000000L;
        if (ts.tv_nsec >= 1000000000L) { ts.tv_sec++; ts.tv_nsec -= 1000000000L; }
        if (sem_timedwait(s, &ts) == 0) break;
      }
    } else {
      while (sem_wait(s) != 0) {
      }
    }
    unsigned long long v = *c;
    *c = v + 1;
    sem_post(s);
  }
  return 0;
}

int clab_ipc_shm_run(clab_ipc_shm *s) {
  int rc = 0;
  int fd = -1, ctl[2] = {-1, -1}, rep[2] = {-1, -1};
  int created = 0, sem_ready = 0;
  shm_region *region = MAP_FAILED;
  char path[300];
  snprintf(path, sizeof path, "/dev/shm%s", s->name);
  s->child = 0;
  s->failed_call = NULL;
  s->status = 0;
  s->child_saw_parent = s->parent_saw_child = 0;
  s->child_saw_ns = s->parent_saw_ns = 0;
  s->counter = 0;
  s->counter_ns = 0;
  memset(s->child_read, 0, sizeof s->child_read);
  int map_flags = s->private_mapping ? MAP_PRIVATE : MAP_SHARED;

  long long t0 = now_ns();
  fd = shm_open(s->name, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
  NOTE("shm_open", t0, fd, "%s, O_CREAT|O_EXCL|O_RDWR, 0600", s->name);
  if (fd < 0) FAIL(s, "shm_open");
  created = 1;
  if (ftruncate(fd, sizeof(shm_region)) != 0) FAIL(s, "ftruncate");
  t0 = now_ns();
  region = mmap(NULL, sizeof(shm_region), PROT_READ | PROT_WRITE, map_flags, fd, 0);
  NOTE("mmap", t0, region == MAP_FAILED ? -1 : 0, "NULL, %zu, PROT_READ|PROT_WRITE, %s, %d -> %p", sizeof(shm_region), s->private_mapping ? "MAP_PRIVATE" : "MAP_SHARED", fd, (void *)region);
  if (region == MAP_FAILED) FAIL(s, "mmap");
  close_fd(&fd);
  s->parent_address = (unsigned long)region;
  s->listed_before_unlink = access(path, F_OK) == 0;
  if (s->counter_mode == 2) {
    if (sem_init(&region->lock, 1, 1) != 0) FAIL(s, "sem_init");
    sem_ready = 1;
  }
  if (pipe2(ctl, O_CLOEXEC) != 0) FAIL(s, "pipe2");
  if (pipe2(rep, O_CLOEXEC) != 0) FAIL(s, "pipe2");

  t0 = now_ns();
  pid_t parent_pid = getpid();
  pid_t pid = fork();
  NOTE("fork", t0, pid, "the child opens %s by name and maps it", path);
  if (pid < 0) FAIL(s, "fork");
  if (pid == 0) {
    child_begin(parent_pid);
    close(ctl[1]);
    close(rep[0]);
    // Inherited mappings are dropped so the child maps the object by its name itself
    // (open on /dev/shm is what shm_open does, and open is async-signal-safe).
    munmap(region, sizeof(shm_region));
    int cfd = open(path, O_RDWR | O_CLOEXEC);
    if (cfd < 0) _exit(2);
    shm_region *mine = mmap(NULL, sizeof(shm_region), PROT_READ | PROT_WRITE, map_flags, cfd, 0);
    close(cfd);
    if (mine == MAP_FAILED) _exit(3);
    unsigned long addr = (unsigned long)mine;
    if (write_all(rep[1], &addr, sizeof addr, 0) != 0) _exit(4);
    // 1: the parent wrote its message (or says it did): look for it for up to 200 ms.
    char g;
    if (read_exact(ctl[0], &g, 1, 0) != 1) _exit(5);
    long long waited = 0;
    long long seen = spin_until(&mine->parent_wrote, 200000000LL, &waited);
    struct {
      long long seen, waited;
      char text[64];
    } saw;
    saw.seen = seen;
    saw.waited = waited;
    memcpy(saw.text, (const char *)mine->parent_message, sizeof saw.text);
    saw.text[63] = 0;
    // 2: the child's own write, which the parent looks for.
    const char reply[] = "hello from the child";
    memcpy(mine->child_message, reply, sizeof reply);
    __sync_synchronize();
    mine->child_wrote = 1;
    if (write_all(rep[1], &saw, sizeof saw, 0) != 0) _exit(6);
    // 3: the counter race, started together on the shared `go` flag.
    if (read_exact(ctl[0], &g, 1, 0) != 1) _exit(7);
    if (g == 'c') {
      // Already running when the parent starts, so both count at the same time.
      mine->child_ready = 1;
      while (!mine->go) {
      }
      if (s->counter_mode == 2) count_locked(&mine->counter, &mine->lock, s->iterations, 0);
      else count_racy(&mine->counter, s->iterations, 0);
      if (write_all(rep[1], "d", 1, 0) != 0) _exit(8);
    }
    _exit(0);
  }
  s->child = pid;
  close_fd(&ctl[0]);
  close_fd(&rep[1]);
  unsigned long addr = 0;
  int r = read_exact(rep[0], &addr, sizeof addr, 1);
  if (r == -2) { rc = -2; goto done; }
  if (r != 1) { errno = EPIPE; FAIL(s, "read"); }
  s->child_address = addr;
  // Both processes have it mapped: the name is no longer needed, and unlinking
  // now means nothing is left behind even if either side is killed later.
  t0 = now_ns();
  r = shm_unlink(s->name);
  NOTE("shm_unlink", t0, r, "%s (both mapped it: the memory stays until the last munmap)", s->name);
  if (r != 0) FAIL(s, "shm_unlink");
  created = 0;
  s->listed_after_unlink = access(path, F_OK) == 0;

  const char message[] = "hello from the parent";
  memcpy(region->parent_message, message, sizeof message);
  __sync_synchronize();
  region->parent_wrote = 1;
  if (write_all(ctl[1], "1", 1, 1) != 0) FAIL(s, "write");
  struct {
    long long seen, waited;
    char text[64];
  } saw;
  r = read_exact(rep[0], &saw, sizeof saw, 1);
  if (r == -2) { rc = -2; goto done; }
  if (r != 1) { errno = EPIPE; FAIL(s, "read"); }
  s->child_saw_parent = (int)saw.seen;
  s->child_saw_ns = saw.waited;
  memcpy(s->child_read, saw.text, sizeof s->child_read);
  long long waited = 0;
  s->parent_saw_child = spin_until(&region->child_wrote, 200000000LL, &waited);
  s->parent_saw_ns = waited;

  if (s->counter_mode != 0) {
    if (write_all(ctl[1], "c", 1, 1) != 0) FAIL(s, "write");
    region->counter = 0;
    __sync_synchronize();
    long long waited_ready = 0;
    if (!spin_until(&region->child_ready, 2000000000LL, &waited_ready)) {
      errno = ETIMEDOUT;
      FAIL(s, "child start");
    }
    long long t0 = now_ns();
    region->go = 1;
    int counted = s->counter_mode == 2 ? count_locked(&region->counter, &region->lock, s->iterations, 1)
                                       : count_racy(&region->counter, s->iterations, 1);
    if (counted == -2) { rc = -2; goto done; }
    char d;
    r = read_exact(rep[0], &d, 1, 1);
    if (r == -2) { rc = -2; goto done; }
    if (r != 1) { errno = EPIPE; FAIL(s, "read"); }
    s->counter_ns = now_ns() - t0;
    s->counter = region->counter;
  } else {
    if (write_all(ctl[1], "q", 1, 1) != 0) FAIL(s, "write");
  }
  if (!reap_within(pid, 2000000000LL, &s->status)) kill_and_reap(pid, &s->status);
  s->child = -pid;
done:
  if (s->child > 0) kill_and_reap(s->child, &s->status);
  if (s->child < 0) s->child = -s->child;
  close_fd(&fd);
  close_fd(&ctl[0]);
  close_fd(&ctl[1]);
  close_fd(&rep[0]);
  close_fd(&rep[1]);
  if (region != MAP_FAILED) {
    if (sem_ready) sem_destroy(&region->lock);
    munmap(region, sizeof(shm_region));
  }
  if (created) shm_unlink(s->name);
  s->names_left = access(path, F_OK) == 0;
  return rc;
}

// ---------------------------------------------------------------- signals

static int signal_report_fd = -1;

static void report_signal(int sig) {
  unsigned char m[2] = {'H', (unsigned char)sig};
  int saved = errno;
  ssize_t w = write(signal_report_fd, m, 2);
  (void)w;
  errno = saved;
}

static unsigned long long status_mask(pid_t pid, const char *field) {
  char path[64], buf[4096];
  snprintf(path, sizeof path, "/proc/%d/status", pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = 0;
  char *line = strstr(buf, field);
  if (!line) return 0;
  return strtoull(line + strlen(field) + 1, NULL, 16);
}

/// Reads a report from the child within a time limit; 1 read, 0 nothing yet, -2 Ctrl-C.
static int read_within(int fd, void *buf, size_t n, long long timeout_ns) {
  long long end = now_ns() + timeout_ns;
  for (;;) {
    struct timespec ts = {0, 1000000};
    fd_set set;
    FD_ZERO(&set);
    FD_SET(fd, &set);
    struct timeval tv = {0, 2000};
    int k = select(fd + 1, &set, NULL, NULL, &tv);
    (void)ts;
    if (k > 0) {
      int r = read_exact(fd, buf, n, 1);
      return r == 1 ? 1 : (r == -2 ? -2 : 0);
    }
    if (clab_interrupt_requested()) return -2;
    if (now_ns() >= end) return 0;
  }
}

/// Watches a child for up to `timeout_ns`: 1 ended (reaped, status set), 2 stopped, 0 still running.
static int watch_child(pid_t pid, long long timeout_ns, int *status) {
  long long end = now_ns() + timeout_ns;
  for (;;) {
    int st = 0;
    pid_t r = waitpid(pid, &st, WNOHANG | WUNTRACED);
    if (r == pid) {
      *status = st;
      return WIFSTOPPED(st) ? 2 : 1;
    }
    if (now_ns() >= end) return 0;
    nap_ns(500000);
  }
}

int clab_ipc_signal_run(clab_ipc_signal *s) {
  int rc = 0;
  int ctl[2] = {-1, -1}, rep[2] = {-1, -1};
  s->child = 0;
  s->failed_call = NULL;
  s->status = 0;
  s->handler_ran = 0;
  s->after_send = 0;
  s->status_after_send = 0;
  s->sigpnd = s->shdpnd = 0;
  s->after_unblock = -1;
  s->answered = 0;
  s->continued = 0;
  int reaped = 0;
  if (pipe2(ctl, O_CLOEXEC) != 0) FAIL(s, "pipe2");
  if (pipe2(rep, O_CLOEXEC) != 0) FAIL(s, "pipe2");
  long long tf = now_ns();
  pid_t parent_pid = getpid();
  pid_t pid = fork();
  NOTE("fork", tf, pid, "the child sets its disposition for SIG%s and reports", sigabbrev_np(s->signal) ? sigabbrev_np(s->signal) : "?");
  if (pid < 0) FAIL(s, "fork");
  if (pid == 0) {
    child_begin(parent_pid);
    close(ctl[1]);
    close(rep[0]);
    struct rlimit none = {0, 0};
    setrlimit(RLIMIT_CORE, &none);
    signal_report_fd = rep[1];
    // The shell's own handlers are not this child's business: defaults first.
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    // Every handler the shell's process had (the Swift runtime's crash handlers included) goes.
    for (int sig = 1; sig < NSIG; sig++) sigaction(sig, &dfl, NULL);
    sigset_t none_blocked;
    sigemptyset(&none_blocked);
    sigprocmask(SIG_SETMASK, &none_blocked, NULL);
    int result[2] = {0, 0};
    if (s->disposition == 1 || s->disposition == 2) {
      struct sigaction sa;
      memset(&sa, 0, sizeof sa);
      sa.sa_handler = s->disposition == 1 ? report_signal : SIG_IGN;
      sigemptyset(&sa.sa_mask);
      sa.sa_flags = 0;  // no SA_RESTART: the handler interrupts the read below
      result[0] = sigaction(s->signal, &sa, NULL);
      result[1] = result[0] == 0 ? 0 : errno;
    } else if (s->disposition == 3) {
      sigset_t set;
      sigemptyset(&set);
      sigaddset(&set, s->signal);
      result[0] = sigprocmask(SIG_BLOCK, &set, NULL);
      result[1] = result[0] == 0 ? 0 : errno;
    }
    if (write_all(rep[1], result, sizeof result, 0) != 0) _exit(2);
    for (;;) {
      char c;
      ssize_t n = read(ctl[0], &c, 1);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) _exit(3);
      if (c == 'u') {
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, s->signal);
        sigprocmask(SIG_UNBLOCK, &set, NULL);
        // Still here: the pending signal did not end this process.
        if (write_all(rep[1], "U\0", 2, 0) != 0) _exit(4);
      } else if (c == 'q') {
        if (write_all(rep[1], "A\0", 2, 0) != 0) _exit(4);
        _exit(0);
      }
    }
  }
  s->child = pid;
  close_fd(&ctl[0]);
  close_fd(&rep[1]);
  int setup[2];
  int r = read_within(rep[0], setup, sizeof setup, 5000000000LL);
  if (r == -2) { rc = -2; goto done; }
  if (r != 1) { errno = EPIPE; FAIL(s, "read"); }
  s->sigaction_rc = setup[0];
  s->sigaction_errno = setup[1];
  s->blocked_mask = status_mask(pid, "SigBlk:");
  long long t0 = now_ns();
  int k0 = kill(pid, s->signal);
  NOTE("kill", t0, k0, "%d, SIG%s", pid, sigabbrev_np(s->signal) ? sigabbrev_np(s->signal) : "?");
  if (k0 != 0) FAIL(s, "kill");

  unsigned char m[2];
  if (s->disposition == 1 && s->sigaction_rc == 0) {
    r = read_within(rep[0], m, 2, 2000000000LL);
    if (r == -2) { rc = -2; goto done; }
    if (r == 1 && m[0] == 'H') s->handler_ran = m[1];
  }
  int w = watch_child(pid, 150000000LL, &s->status_after_send);
  s->after_send = w;
  if (w == 1) {
    reaped = 1;
    s->status = s->status_after_send;
  }
  if (w == 0 && s->disposition == 3) {
    s->sigpnd = status_mask(pid, "SigPnd:");
    s->shdpnd = status_mask(pid, "ShdPnd:");
    NOTE("read", now_ns(), 0, "/proc/%d/status: SigPnd %016llx ShdPnd %016llx", pid, s->sigpnd, s->shdpnd);
    if (write_all(ctl[1], "u", 1, 1) != 0) FAIL(s, "write");
    r = read_within(rep[0], m, 2, 300000000LL);
    if (r == -2) { rc = -2; goto done; }
    if (r == 1 && m[0] == 'U') s->after_unblock = 0;
    else {
      int st = 0;
      if (watch_child(pid, 1000000000LL, &st) == 1) {
        s->after_unblock = 1;
        s->status = st;
        reaped = 1;
      }
    }
  }
  if (w == 2) {
    int k1 = kill(pid, SIGCONT);
    NOTE("kill", now_ns(), k1, "%d, SIGCONT", pid);
    if (k1 != 0) FAIL(s, "kill");
    s->continued = 1;
  }
  if (!reaped) {
    if (write_all(ctl[1], "q", 1, 1) != 0) FAIL(s, "write");
    r = read_within(rep[0], m, 2, 2000000000LL);
    if (r == -2) { rc = -2; goto done; }
    if (r == 1 && m[0] == 'A') s->answered = 1;
    if (!reap_within(pid, 2000000000LL, &s->status)) kill_and_reap(pid, &s->status);
  }
  s->child = -pid;
done:
  if (s->child > 0) kill_and_reap(s->child, &s->status);
  if (s->child < 0) s->child = -s->child;
  close_fd(&ctl[0]);
  close_fd(&ctl[1]);
  close_fd(&rep[0]);
  close_fd(&rep[1]);
  return rc;
}

int clab_ipc_sigchld_run(clab_ipc_sigchld *c) {
  int rc = 0;
  int rep[2] = {-1, -1};
  c->middle = 0;
  c->received = 0;
  c->failed_call = NULL;
  c->status = 0;
  if (pipe2(rep, O_CLOEXEC) != 0) FAIL(c, "pipe2");
  pid_t parent_pid = getpid();
  pid_t pid = fork();
  if (pid < 0) FAIL(c, "fork");
  if (pid == 0) {
    child_begin(parent_pid);
    close(rep[0]);
    // A single-threaded parent of its own: block SIGCHLD, so it waits as pending for sigtimedwait.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigprocmask(SIG_BLOCK, &set, NULL);
    long long t0 = now_ns();
    pid_t g = fork();
    if (g < 0) _exit(2);
    if (g == 0) {
      nap_ns(5000000);
      _exit(7);
    }
    siginfo_t info;
    memset(&info, 0, sizeof info);
    struct timespec limit = {3, 0};
    int got;
    do { got = sigtimedwait(&set, &info, &limit); } while (got < 0 && errno == EINTR);
    long long waited = now_ns() - t0;
    int st = 0;
    while (waitpid(g, &st, 0) < 0 && errno == EINTR) {
    }
    long long report[6] = {g, got == SIGCHLD, info.si_pid, info.si_code, info.si_status, waited};
    if (write_all(rep[1], report, sizeof report, 0) != 0) _exit(3);
    _exit(0);
  }
  c->middle = pid;
  close_fd(&rep[1]);
  long long report[6];
  int r = read_within(rep[0], report, sizeof report, 5000000000LL);
  if (r == -2) { rc = -2; goto done; }
  if (r != 1) { errno = EPIPE; FAIL(c, "read"); }
  c->grandchild = (pid_t)report[0];
  c->received = (int)report[1];
  c->sender_pid = (int)report[2];
  c->code = (int)report[3];
  c->exit_status = (int)report[4];
  c->wait_ns = report[5];
  if (!reap_within(pid, 2000000000LL, &c->status)) kill_and_reap(pid, &c->status);
  c->middle = -pid;
done:
  if (c->middle > 0) kill_and_reap(c->middle, &c->status);
  if (c->middle < 0) c->middle = -c->middle;
  close_fd(&rep[0]);
  close_fd(&rep[1]);
  return rc;
}

// ---------------------------------------------------------------- message queue priorities

int clab_ipc_mq_run(clab_ipc_mq *m) {
  int rc = 0;
  mqd_t q = (mqd_t)-1;
  int created = 0;
  m->child = 0;
  m->received = 0;
  m->queued = 0;
  m->failed_call = NULL;
  m->status = 0;
  struct mq_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.mq_maxmsg = 8;
  attr.mq_msgsize = 32;
  if (m->count > 8) m->count = 8;
  long long t0 = now_ns();
  q = mq_open(m->name, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600, &attr);
  NOTE("mq_open", t0, q, "%s, O_CREAT|O_EXCL|O_RDWR, 0600, maxmsg 8, msgsize 32", m->name);
  if (q == (mqd_t)-1) FAIL(m, "mq_open");
  created = 1;
  t0 = now_ns();
  pid_t parent_pid = getpid();
  pid_t pid = fork();
  NOTE("fork", t0, pid, "the child mq_sends %d messages and exits", m->count);
  if (pid < 0) FAIL(m, "fork");
  if (pid == 0) {
    child_begin(parent_pid);
    for (int i = 0; i < m->count; i++) {
      char text[32];
      // "message N, priority P" without snprintf (not async-signal-safe).
      const char *a = "message ";
      int k = 0;
      for (const char *p = a; *p; p++) text[k++] = *p;
      text[k++] = (char)('1' + i);
      const char *b = ", priority ";
      for (const char *p = b; *p; p++) text[k++] = *p;
      int pr = m->priorities[i];
      if (pr >= 10) text[k++] = (char)('0' + pr / 10);
      text[k++] = (char)('0' + pr % 10);
      text[k++] = 0;
      if (mq_send(q, text, (size_t)k, (unsigned)pr) != 0) _exit(2);
    }
    _exit(0);
  }
  m->child = pid;
  // The child sends everything and ends before the parent receives anything.
  for (;;) {
    int w = reap_within(pid, 100000000LL, &m->status);
    if (w) break;
    if (clab_interrupt_requested()) { rc = -2; goto done; }
  }
  m->child = -pid;
  struct mq_attr now;
  if (mq_getattr(q, &now) == 0) m->queued = now.mq_curmsgs;
  for (int i = 0; i < m->queued && i < 8; i++) {
    char text[64];
    unsigned prio = 0;
    t0 = now_ns();
    ssize_t n = mq_receive(q, text, sizeof text, &prio);
    NOTE("mq_receive", t0, n, "%d -> priority %u", (int)q, prio);
    if (n < 0) FAIL(m, "mq_receive");
    text[n < 32 ? n : 31] = 0;
    memcpy(m->received_text[i], text, 32);
    m->received_priorities[i] = (int)prio;
    m->received++;
  }
done:
  if (m->child > 0) kill_and_reap(m->child, &m->status);
  if (m->child < 0) m->child = -m->child;
  if (q != (mqd_t)-1) mq_close(q);
  if (created) NOTE("mq_unlink", now_ns(), mq_unlink(m->name), "%s", m->name);
  m->names_left = 0;
  if (created) {
    mqd_t again = mq_open(m->name, O_RDONLY);
    if (again != (mqd_t)-1) {
      m->names_left = 1;
      mq_close(again);
    }
  }
  return rc;
}

int clab_ipc_queue_exists(const char *name) {
  mqd_t q = mq_open(name, O_RDONLY | O_CLOEXEC);
  if (q == (mqd_t)-1) return 0;
  mq_close(q);
  return 1;
}
