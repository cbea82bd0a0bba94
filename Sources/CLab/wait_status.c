#define _GNU_SOURCE
#include "clab.h"
#include <sys/wait.h>
#include <unistd.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>

int clab_wifexited(int s) { return WIFEXITED(s); }
int clab_wexitstatus(int s) { return WEXITSTATUS(s); }
int clab_wifsignaled(int s) { return WIFSIGNALED(s); }
int clab_wtermsig(int s) { return WTERMSIG(s); }
int clab_wcoredump(int s) { return WCOREDUMP(s); }
int clab_wifstopped(int s) { return WIFSTOPPED(s); }
int clab_wstopsig(int s) { return WSTOPSIG(s); }
int clab_wifcontinued(int s) { return WIFCONTINUED(s); }

pid_t clab_gettid(void) { return gettid(); }
int clab_tgkill(pid_t pid, pid_t tid, int sig) { return tgkill(pid, tid, sig); }
int clab_errno(void) { return errno; }

int clab_pipe2(int fds[2], int flags) { return pipe2(fds, flags); }
int clab_getrusage_thread(void *usage) { return getrusage(RUSAGE_THREAD, (struct rusage *)usage); }

