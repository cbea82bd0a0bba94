// Faults that end a process, done where the optimizer cannot remove them.
// Used only inside lab children (proclab __lab crash ...), never in the shell.
#define _GNU_SOURCE
#include "clab_crash.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

// Far below the lowest address a process may map (vm.mmap_min_addr), so
// nothing can ever be there.
#define SEGV_ADDRESS ((uintptr_t)0x10)

unsigned long clab_fault_segv_address(void) { return (unsigned long)SEGV_ADDRESS; }

/// The child's last words: one line on standard error, written with write(2)
/// so it is out of the process before the fault.
static void say(const char *format, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *format, ...) {
  char line[256];
  int n = snprintf(line, sizeof line, "crash [tid %d]: ", (int)gettid());
  va_list args;
  va_start(args, format);
  n += vsnprintf(line + n, sizeof line - (size_t)n - 1, format, args);
  va_end(args);
  if (n > (int)sizeof line - 2) n = (int)sizeof line - 2;
  line[n++] = '\n';
  ssize_t w = write(2, line, (size_t)n);
  (void)w;
}

static void fault_segv(void) {
  say("writing 42 to address 0x%lx, where nothing is mapped", (unsigned long)SEGV_ADDRESS);
  *(volatile int *)SEGV_ADDRESS = 42;
}

static long fault_fpe(void) {
  volatile int dividend = 1;
  volatile int divisor = 0;
  say("dividing the integer %d by %d", dividend, divisor);
  volatile int quotient = dividend / divisor;
  return quotient;
}

static void fault_ill(void) {
#if defined(__x86_64__) || defined(__i386__)
  say("executing ud2, an instruction defined to be illegal");
  __asm__ volatile("ud2");
#elif defined(__aarch64__)
  say("executing udf #0, an instruction defined to be illegal");
  __asm__ volatile(".inst 0x00000000");
#else
  say("executing a trap instruction");
  __builtin_trap();
#endif
}

static long fault_bus(const char *directory) {
  char path[4096];
  snprintf(path, sizeof path, "%s/proclab-bus-XXXXXX", directory && *directory ? directory : "/tmp");
  int fd = mkstemp(path);
  if (fd < 0) return -1;
  unlink(path); // nothing is left behind, whatever happens next
  long page = sysconf(_SC_PAGESIZE);
  if (ftruncate(fd, page) != 0) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  volatile char *p = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  p[0] = 1; // the file has a page behind the mapping: this works
  if (ftruncate(fd, 0) != 0) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  say("reading a mapped page of a file just truncated to 0 bytes (mapping at %p)", (void *)p);
  return p[0];
}

// Unbounded recursion. The volatile frame and the use of frame[0] after the
// call keep each call a real call with a real frame (no tail call, no folding).
static __thread char *stack_base;
static __thread long report_step;
static __thread long next_report;

#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Winfinite-recursion"
__attribute__((noinline)) static long recurse(long depth) {
  volatile char frame[240];
  frame[0] = (char)depth;
  long used = (long)(stack_base - (char *)frame);
  if (report_step > 0 && used >= next_report) {
    next_report += report_step;
    say("recursion depth %ld, %ld KiB of stack used", depth, used / 1024);
  }
  return recurse(depth + 1) + frame[0];
}
#pragma clang diagnostic pop

static long fault_stack(long step) {
  volatile char here = 0;
  stack_base = (char *)&here;
  report_step = step;
  next_report = step;
  say("recursing without end, %d+ bytes of stack per call", 240);
  return recurse(0);
}

long clab_fault(int kind, int code, const char *directory, int report_every) {
  switch (kind) {
  case CLAB_FAULT_SEGV: fault_segv(); return 0;
  case CLAB_FAULT_ABORT:
    say("calling abort()");
    abort();
  case CLAB_FAULT_FPE: return fault_fpe();
  case CLAB_FAULT_ILL: fault_ill(); return 0;
  case CLAB_FAULT_BUS: return fault_bus(directory);
  case CLAB_FAULT_STACK: return fault_stack(report_every);
  case CLAB_FAULT_EXIT:
    say("calling exit(%d)", code);
    exit(code);
  default: errno = EINVAL; return -1;
  }
}

// ---- allocation ----

// Volatile so the optimizer cannot pair up malloc and free and remove both.
static void *volatile chain;

long clab_exhaust_memory(size_t block, long max_blocks, int *error) {
  long count = 0;
  *error = 0;
  chain = NULL;
  while (count < max_blocks) {
    void *p = malloc(block);
    if (p == NULL) {
      *error = errno;
      break;
    }
    *(void **)p = chain; // touches one page of the block, no more
    chain = p;
    count++;
  }
  while (chain != NULL) {
    void *next = *(void **)chain;
    free(chain);
    chain = next;
  }
  return count;
}

// ---- the go signal ----

int clab_block_signal(int sig) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, sig);
  return pthread_sigmask(SIG_BLOCK, &set, NULL) == 0 ? 0 : -1;
}

int clab_wait_signal(int sig, int timeout_ms) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, sig);
  struct timespec end;
  clock_gettime(CLOCK_MONOTONIC, &end);
  end.tv_sec += timeout_ms / 1000;
  end.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
  if (end.tv_nsec >= 1000000000L) {
    end.tv_sec += 1;
    end.tv_nsec -= 1000000000L;
  }
  for (;;) {
    struct timespec now, left;
    clock_gettime(CLOCK_MONOTONIC, &now);
    left.tv_sec = end.tv_sec - now.tv_sec;
    left.tv_nsec = end.tv_nsec - now.tv_nsec;
    if (left.tv_nsec < 0) {
      left.tv_sec -= 1;
      left.tv_nsec += 1000000000L;
    }
    if (left.tv_sec < 0) {
      errno = EAGAIN;
      return -1;
    }
    int got = sigtimedwait(&set, NULL, &left);
    if (got == sig) return 0;
    if (got < 0 && errno != EINTR) return -1;
  }
}

int clab_tgkill(pid_t pid, pid_t tid, int sig) { return (int)syscall(SYS_tgkill, pid, tid, sig); }

// ---- threads sharing one fate ----

#define FATE_MAX 64

static pthread_mutex_t fate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t fate_changed = PTHREAD_COND_INITIALIZER;
static int fate_started;
static pid_t fate_tids[FATE_MAX];
static int fate_order = -1; // the index of the worker that must fault
static int fate_kind, fate_code, fate_report_every;
static const char *fate_directory;
static pthread_t fate_threads[FATE_MAX];

static void *fate_worker(void *arg) {
  int index = (int)(intptr_t)arg;
  pthread_mutex_lock(&fate_lock);
  fate_tids[index] = gettid();
  fate_started++;
  pthread_cond_broadcast(&fate_changed);
  while (fate_order != index) pthread_cond_wait(&fate_changed, &fate_lock);
  int kind = fate_kind, code = fate_code, every = fate_report_every;
  const char *directory = fate_directory;
  pthread_mutex_unlock(&fate_lock);
  // Chosen: fault on this thread. The others stay blocked in the wait above.
  long r = clab_fault(kind, code, directory, every);
  return (void *)(intptr_t)r;
}

int clab_fate_start(int count, size_t stack_bytes, pid_t *tids) {
  if (count < 0) count = 0;
  if (count > FATE_MAX) count = FATE_MAX;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  if (stack_bytes > 0) pthread_attr_setstacksize(&attr, stack_bytes);
  int started = 0;
  for (int i = 0; i < count; i++) {
    if (pthread_create(&fate_threads[i], &attr, fate_worker, (void *)(intptr_t)i) != 0) break;
    started++;
  }
  pthread_attr_destroy(&attr);
  pthread_mutex_lock(&fate_lock);
  while (fate_started < started) pthread_cond_wait(&fate_changed, &fate_lock);
  for (int i = 0; i < started; i++) tids[i] = fate_tids[i];
  pthread_mutex_unlock(&fate_lock);
  return started;
}

long clab_fate_crash(int index, int kind, int code, const char *directory, int report_every) {
  pthread_mutex_lock(&fate_lock);
  fate_kind = kind;
  fate_code = code;
  fate_directory = directory;
  fate_report_every = report_every;
  fate_order = index;
  pthread_cond_broadcast(&fate_changed);
  pthread_mutex_unlock(&fate_lock);
  void *result = NULL;
  pthread_join(fate_threads[index], &result);
  return (long)(intptr_t)result;
}

// ---- resource limits ----

int clab_get_limit(int resource, unsigned long long *soft, unsigned long long *hard) {
  struct rlimit current;
  if (getrlimit(resource, &current) != 0) return -1;
  *soft = current.rlim_cur == RLIM_INFINITY ? ~0ULL : (unsigned long long)current.rlim_cur;
  *hard = current.rlim_max == RLIM_INFINITY ? ~0ULL : (unsigned long long)current.rlim_max;
  return 0;
}

int clab_set_limit(int resource, unsigned long long soft, unsigned long long hard) {
  struct rlimit next;
  next.rlim_cur = soft == ~0ULL ? RLIM_INFINITY : (rlim_t)soft;
  next.rlim_max = hard == ~0ULL ? RLIM_INFINITY : (rlim_t)hard;
  return setrlimit(resource, &next);
}
