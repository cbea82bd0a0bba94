// What every forked child shares: dying with the shell, default signal
// handling, and the async-signal-safe loops around write, read and nanosleep.
#include "clab_hardening.h"
#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

int clab_die_with_parent(void) { return prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0); }

void clab_child_dies_with_parent(pid_t expected_parent) {
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  if (getppid() != expected_parent) _exit(70);
}

int clab_set_subreaper(int on) { return prctl(PR_SET_CHILD_SUBREAPER, (unsigned long)on, 0, 0, 0); }

int clab_is_subreaper(void) {
  int on = 0;
  if (prctl(PR_GET_CHILD_SUBREAPER, (unsigned long)&on, 0, 0, 0) != 0) return -1;
  return on;
}

void clab_child_default_signals(void) {
  // Every handler: the Swift runtime's crash handlers (SIGSEGV, SIGABRT…) too,
  // which must never run in a forked child.
  for (int s = 1; s < NSIG; s++)
    if (s != SIGKILL && s != SIGSTOP) signal(s, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
}

int clab_write_all(int fd, const void *data, size_t size) {
  const char *p = data;
  while (size > 0) {
    ssize_t n = write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    p += n;
    size -= (size_t)n;
  }
  return 0;
}

int clab_read_exact(int fd, void *data, size_t size) {
  char *p = data;
  while (size > 0) {
    ssize_t n = read(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return (int)n;
    p += n;
    size -= (size_t)n;
  }
  return 1;
}

void clab_sleep_ns(long long ns) {
  struct timespec want = { (time_t)(ns / 1000000000LL), (long)(ns % 1000000000LL) };
  while (nanosleep(&want, &want) != 0 && errno == EINTR) {}
}
