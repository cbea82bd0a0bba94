#define _GNU_SOURCE
#include "clab_terminal.h"
#include <signal.h>
#include <poll.h>
#include <errno.h>
#include <stddef.h>

static sigset_t previous_mask;

static void shell_signals(sigset_t *set) {
  sigemptyset(set);
  sigaddset(set, SIGINT);
  sigaddset(set, SIGTERM);
  sigaddset(set, SIGHUP);
}

void clab_block_shell_signals(void) {
  sigset_t set;
  shell_signals(&set);
  sigprocmask(SIG_BLOCK, &set, &previous_mask);
}

void clab_unblock_shell_signals(void) { sigprocmask(SIG_SETMASK, &previous_mask, NULL); }

int clab_wait_for_input(int fd) {
  struct pollfd p = { .fd = fd, .events = POLLIN, .revents = 0 };
  sigset_t during = previous_mask;
  sigdelset(&during, SIGINT);
  sigdelset(&during, SIGTERM);
  sigdelset(&during, SIGHUP);
  int n = ppoll(&p, 1, NULL, &during);
  if (n < 0) return errno == EINTR ? 0 : -1;
  return n > 0 ? 1 : 0;
}
