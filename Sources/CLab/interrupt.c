#include "clab.h"
#include <signal.h>
#include <string.h>

// The signal that asked the shell to stop what it is doing (SIGINT, or SIGTERM/SIGHUP), 0 if none.
static volatile sig_atomic_t interrupt_flag = 0;
// SIGTERM or SIGHUP once one arrived: the shell is leaving, and that request is never cleared.
static volatile sig_atomic_t termination_flag = 0;

static void on_interrupt(int sig) {
  if (interrupt_flag == 0) interrupt_flag = sig;
}
static void on_termination(int sig) {
  if (termination_flag == 0) termination_flag = sig;
  interrupt_flag = termination_flag;
}

void clab_install_interrupt_handler(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_interrupt;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0; // no SA_RESTART: a blocked read or poll must wake with EINTR
  sigaction(SIGINT, &sa, NULL);
}

void clab_install_termination_handler(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_termination;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);
}

int clab_interrupt_requested(void) { return interrupt_flag; }
// A Ctrl-C is consumed once handled; a termination request stays until the shell has left.
void clab_clear_interrupt(void) { interrupt_flag = termination_flag; }
int clab_termination_requested(void) { return termination_flag; }
void clab_request_interrupt(void) {
  if (interrupt_flag == 0) interrupt_flag = SIGINT;
}
