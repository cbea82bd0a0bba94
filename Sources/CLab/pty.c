#define _GNU_SOURCE
#include "clab_pty.h"
#include <pty.h>
#include <unistd.h>
#include <string.h>
#include <signal.h>
#include <termios.h>
#include <fcntl.h>

pid_t clab_spawn_in_pty(const char *path, char *const argv[], char *const envp[], int rows, int cols, int *master) {
  struct winsize ws;
  memset(&ws, 0, sizeof ws);
  ws.ws_row = (unsigned short)rows;
  ws.ws_col = (unsigned short)cols;
  int fd = -1;
  pid_t pid = forkpty(&fd, NULL, NULL, &ws);
  if (pid < 0) return -1;
  if (pid == 0) {
    // Child: only async-signal-safe calls until execve.
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGPIPE, &sa, NULL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execve(path, argv, envp);
    _exit(127);
  }
  fcntl(fd, F_SETFD, FD_CLOEXEC);
  *master = fd;
  return pid;
}
