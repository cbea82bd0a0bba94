#define _GNU_SOURCE
#include "clab_ptrace.h"
#include "clab_hardening.h"
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

long clab_ptrace(int request, pid_t pid, unsigned long addr, unsigned long data) {
  return ptrace((enum __ptrace_request)request, pid, (void *)addr, (void *)data);
}

static __thread pid_t cached_tid = 0;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
static void forget_tid(void) { cached_tid = 0; }
static void install_atfork(void) { pthread_atfork(NULL, NULL, forget_tid); }

pid_t clab_cached_tid(void) {
  if (cached_tid == 0) {
    pthread_once(&atfork_once, install_atfork);
    cached_tid = gettid();
  }
  return cached_tid;
}

int clab_allow_tracer(pid_t pid) { return prctl(PR_SET_PTRACER, (unsigned long)pid, 0, 0, 0); }

pid_t clab_observe_start(const char *path, char *const argv[], char *const envp[], int in_fd, int out_fd,
                         int err_fd, int exec_error_fd) {
  pid_t pid = fork();
  if (pid != 0) return pid;
  // The child: nothing here may allocate or take a lock another thread of the
  // tracer could have held at fork time.
  if (in_fd >= 0 && in_fd != 0) dup2(in_fd, 0);
  if (out_fd >= 0 && out_fd != 1) dup2(out_fd, 1);
  if (err_fd >= 0 && err_fd != 2) dup2(err_fd, 2);
  // Only 0, 1 and 2 (and the close-on-exec error pipe) go into the program: a
  // descriptor the tracer happened to hold must not show up as the program's leak.
  unsigned keep = (unsigned)exec_error_fd;
  long a = keep > 3 ? syscall(SYS_close_range, 3U, keep - 1, 0U) : 0;
  long b = syscall(SYS_close_range, keep + 1, ~0U, 0U);
  if (a != 0 || b != 0) {  // before Linux 5.9: one by one
    for (int fd = 3; fd < 1024; fd++) {
      if (fd != exec_error_fd) close(fd);
    }
  }
  clab_child_default_signals();
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  // Stopped here, the tracer seizes it; SIGCONT then lets it go on to execve.
  raise(SIGSTOP);
  execve(path, argv, envp);
  int e = errno;
  if (exec_error_fd >= 0) {
    ssize_t w = write(exec_error_fd, &e, sizeof e);
    (void)w;
  }
  _exit(127);
}
