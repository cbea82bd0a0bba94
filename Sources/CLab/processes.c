#define _GNU_SOURCE
#include "clab_processes.h"
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

// The cell has a page of its own: initialised (so it lives in .data, mapped from
// the proclab file), page-aligned and page-sized, so no other variable shares its
// page and only a write to the cell itself can trigger the copy-on-write.
static volatile union {
  long value;
  char page[4096];
} cell_page __attribute__((aligned(4096))) = { .value = 1 };
#define clab_memory_cell (cell_page.value)
unsigned long clab_memory_cell_address(void) { return (unsigned long)&clab_memory_cell; }
long clab_memory_cell_read(void) { return clab_memory_cell; }
void clab_memory_cell_write(long value) { clab_memory_cell = value; }

static volatile sig_atomic_t caught = 0;
static void count_signal(int sig) { (void)sig; caught++; }

int clab_catch_counting(int sig) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = count_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;
  return sigaction(sig, &sa, NULL);
}

long clab_caught_count(void) { return caught; }

void clab_sleep_ns(long long ns) {
  if (ns <= 0) return;
  struct timespec want = { (time_t)(ns / 1000000000LL), (long)(ns % 1000000000LL) };
  struct timespec left;
  while (nanosleep(&want, &left) != 0 && errno == EINTR) want = left;
}

/// In a fork child: the shell's handlers (SIGINT flag, SIGTERM/SIGHUP flags) and
/// ignored SIGPIPE must not carry over, and no signal stays blocked. Like lab
/// children, no core files: `kill PID SEGV` must not litter the current directory.
static void child_default_signals(void) {
  struct rlimit no_core = { 0, 0 };
  setrlimit(RLIMIT_CORE, &no_core);
  // Every handler: the Swift runtime's crash handlers (SIGSEGV, SIGABRT…) too,
  // which must never run in a forked child.
  for (int s = 1; s < NSIG; s++) {
    if (s != SIGKILL && s != SIGSTOP) signal(s, SIG_DFL);
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
}

pid_t clab_fork_sleeper(long long hold_ns) {
  pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    child_default_signals();
    clab_catch_counting(SIGUSR1);
    clab_sleep_ns(hold_ns);
    _exit(0);
  }
  if (pid > 0) setpgid(pid, pid); // both sides, so the group exists whoever runs first
  return pid;
}

int clab_waitid_nowait(pid_t pid, int nohang, int *code, int *status) {
  siginfo_t info;
  memset(&info, 0, sizeof info);
  int options = WEXITED | WNOWAIT | (nohang ? WNOHANG : 0);
  if (waitid(P_PID, (id_t)pid, &info, options) != 0) return -1;
  if (info.si_pid == 0) return 0;
  *code = info.si_code;
  *status = info.si_status;
  return 1;
}

int clab_any_children(void) {
  siginfo_t info;
  memset(&info, 0, sizeof info);
  return waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT);
}

int clab_cld_exited(void) { return CLD_EXITED; }
int clab_cld_killed(void) { return CLD_KILLED; }
int clab_cld_dumped(void) { return CLD_DUMPED; }

static void write_all(int fd, const void *data, size_t size) {
  const char *p = data;
  while (size > 0) {
    ssize_t n = write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    p += n;
    size -= (size_t)n;
  }
}

pid_t clab_memory_fork(long new_value, int report_fd, int hold_fd, int close_a, int close_b) {
  pid_t pid = fork();
  if (pid != 0) return pid;
  child_default_signals();
  if (close_a >= 0) close(close_a);
  if (close_b >= 0) close(close_b);
  struct clab_memory_view view;
  view.pid = getpid();
  view.parent = getppid();
  view.tid = (pid_t)syscall(SYS_gettid);
  view.address = (unsigned long)&clab_memory_cell;
  view.before = clab_memory_cell;
  view.after = view.before;
  // First report: what the child sees before writing (the page is still shared).
  write_all(report_fd, &view, sizeof view);
  char c;
  for (;;) {
    ssize_t n = read(hold_fd, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n == 1 && c == 'W') {
      clab_memory_cell = new_value; // the first write to this page copies it for the child
      view.after = clab_memory_cell;
      write_all(report_fd, &view, sizeof view);
      continue;
    }
    break; // end of file: the parent has looked, we may go
  }
  _exit(0);
}

struct thread_job {
  long new_value;
  struct clab_memory_view *out;
};

static void *memory_thread(void *arg) {
  struct thread_job *job = arg;
  job->out->pid = getpid();
  job->out->parent = getppid();
  job->out->tid = (pid_t)syscall(SYS_gettid);
  job->out->address = (unsigned long)&clab_memory_cell;
  job->out->before = clab_memory_cell;
  clab_memory_cell = job->new_value;
  job->out->after = clab_memory_cell;
  return NULL;
}

int clab_memory_thread(long new_value, struct clab_memory_view *out) {
  struct thread_job job = { new_value, out };
  pthread_t thread;
  int rc = pthread_create(&thread, NULL, memory_thread, &job);
  if (rc != 0) return rc;
  return pthread_join(thread, NULL);
}

pid_t clab_files_fork(int file_fd, int command_fd, int report_fd) {
  pid_t pid = fork();
  if (pid != 0) return pid;
  child_default_signals();
  write_all(report_fd, "R", 1);
  for (;;) {
    char c;
    ssize_t n = read(command_fd, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || c == 'Q') _exit(0);
    if (c == 'C') {
      close(file_fd);
      write_all(report_fd, "C", 1);
    }
  }
}

int clab_set_subreaper(int on) { return prctl(PR_SET_CHILD_SUBREAPER, (unsigned long)on, 0, 0, 0); }

int clab_is_subreaper(void) {
  int on = 0;
  if (prctl(PR_GET_CHILD_SUBREAPER, (unsigned long)&on, 0, 0, 0) != 0) return -1;
  return on;
}

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

pid_t clab_orphan_chain(int report_fd, int close_fd, long long timeout_ns) {
  pid_t middle = fork();
  if (middle != 0) return middle;
  // The middle parent.
  child_default_signals();
  if (close_fd >= 0) close(close_fd);
  pid_t me = getpid();
  int seen[2];
  if (pipe(seen) != 0) _exit(1);
  pid_t grandchild = fork();
  if (grandchild != 0) {
    // Exit only once the grandchild has seen us as its parent; that leaves it an orphan.
    char c;
    close(seen[1]);
    while (grandchild > 0 && read(seen[0], &c, 1) < 0 && errno == EINTR) {}
    _exit(grandchild > 0 ? 0 : 1);
  }
  // The grandchild.
  close(seen[0]);
  struct clab_orphan_report report;
  memset(&report, 0, sizeof report);
  report.middle = me;
  report.grandchild = getpid();
  report.parent_before = getppid();
  write_all(seen[1], "S", 1);
  close(seen[1]);
  long long start = now_ns();
  while (getppid() == me && now_ns() - start < timeout_ns) clab_sleep_ns(200000);
  report.parent_after = getppid();
  report.waited_ns = now_ns() - start;
  write_all(report_fd, &report, sizeof report);
  _exit(0);
}
