// Faults that end a process, done where the optimizer cannot remove them.
// Used only inside lab children (proclab __lab crash ...), never in the shell.
#define _GNU_SOURCE
#include "clab_crash.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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

static long fault_bus(volatile char *page) {
  say("reading a mapped page of a file just truncated to 0 bytes (mapping at %p)", (void *)page);
  return page[0];
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

/// The signal a fault kind makes the kernel send (0: none).
static int signal_of(int kind) {
  switch (kind) {
  case CLAB_FAULT_SEGV: case CLAB_FAULT_STACK: return SIGSEGV;
  case CLAB_FAULT_ABORT: return SIGABRT;
  case CLAB_FAULT_FPE: return SIGFPE;
  case CLAB_FAULT_ILL: return SIGILL;
  case CLAB_FAULT_BUS: return SIGBUS;
  default: return 0;
  }
}

/// Threads proclab starts block every signal; a fault's signal is unblocked so
/// the kernel delivers it the ordinary way (a blocked one it would force anyway).
static void unblock(int sig) {
  if (sig == 0) return;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, sig);
  pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

long clab_fault(int kind, int code, volatile char *truncated_page, int report_every) {
  unblock(signal_of(kind));
  switch (kind) {
  case CLAB_FAULT_SEGV: fault_segv(); return 0;
  case CLAB_FAULT_ABORT:
    say("calling abort()");
    abort();
  case CLAB_FAULT_FPE: return fault_fpe();
  case CLAB_FAULT_ILL: fault_ill(); return 0;
  case CLAB_FAULT_BUS:
    if (truncated_page == NULL) break;
    return fault_bus(truncated_page);
  case CLAB_FAULT_STACK: return fault_stack(report_every);
  case CLAB_FAULT_EXIT:
    say("calling exit(%d)", code);
    exit(code);
  default: break;
  }
  errno = EINVAL;
  return -1;
}

// ---- a fault the thread survives: a handler that jumps back ----

static __thread sigjmp_buf *escape;

void clab_escape_handler(int sig) {
  if (escape != NULL) siglongjmp(*escape, sig);
  _exit(98); // no jump target: cannot happen, but never return into the fault
}

int clab_fault_escaping(int kind, volatile char *truncated_page) {
  sigjmp_buf here;
  escape = &here;
  int caught = sigsetjmp(here, 1);
  if (caught == 0) {
    clab_fault(kind, 0, truncated_page, 0);
    caught = 0; // no fault happened
  } else {
    say("caught SIG%s in a handler; jumped back with siglongjmp, and this thread goes on", sigabbrev_np(caught));
  }
  escape = NULL;
  return caught;
}

// ---- a task that shares the memory but not the thread group ----

volatile long clab_clone_shared;

struct clone_job {
  int kind;
  long value;
  const char *words; // prepared by the parent: the task calls nothing that formats
  size_t length;
};

static int clone_body(void *arg) {
  struct clone_job *job = arg;
  clab_clone_shared = job->value; // the parent will read this: one address space
  ssize_t w = write(2, job->words, job->length);
  (void)w;
  unblock(signal_of(job->kind));
  switch (job->kind) {
  case CLAB_FAULT_SEGV: *(volatile int *)SEGV_ADDRESS = 42; break;
  case CLAB_FAULT_FPE: {
    volatile int zero = 0;
    volatile int q = 1 / zero;
    (void)q;
    break;
  }
  case CLAB_FAULT_ILL:
#if defined(__x86_64__) || defined(__i386__)
    __asm__ volatile("ud2");
#else
    __builtin_trap();
#endif
    break;
  default: break;
  }
  return 0;
}

pid_t clab_clone_vm_fault(int kind, long value, void *stack, size_t stack_bytes) {
  if (kind != CLAB_FAULT_SEGV && kind != CLAB_FAULT_FPE && kind != CLAB_FAULT_ILL) {
    errno = EINVAL;
    return -1;
  }
  static char words[160];
  static struct clone_job job;
  int n = snprintf(words, sizeof words,
                   "crash [task]: clone(CLONE_VM) task wrote %ld to shared memory; now it faults\n", value);
  job.kind = kind;
  job.value = value;
  job.words = words;
  job.length = n > 0 ? (size_t)n : 0;
  clab_clone_shared = 0;
  // CLONE_VM without CLONE_THREAD (or CLONE_SIGHAND): one address space, its own
  // thread group and signal handlers; SIGCHLD tells the parent when it ends.
  return clone(clone_body, (char *)stack + stack_bytes, CLONE_VM | SIGCHLD, &job);
}

long clab_clone_shared_value(void) { return clab_clone_shared; }
