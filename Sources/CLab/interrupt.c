#include "clab.h"
#include <signal.h>

// The signal that asked the shell to stop what it is doing (SIGINT, or SIGTERM/SIGHUP), 0 if none.
static volatile sig_atomic_t interrupt_flag = 0;
// SIGTERM or SIGHUP once one arrived: the shell is leaving, and that request is never cleared.
static volatile sig_atomic_t termination_flag = 0;

/* Ctrl-C presses so far: never cleared, so a caller can tell one came during a command
   even after the command cleared the flag (replay ends on any). */
static volatile sig_atomic_t interrupt_count = 0;

void clab_on_interrupt(int sig) {
  if (interrupt_flag == 0) interrupt_flag = sig;
  interrupt_count++;
}
void clab_on_termination(int sig) {
  if (termination_flag == 0) termination_flag = sig;
  interrupt_flag = termination_flag;
}

/* While sticky (a replay), a Ctrl-C stays raised until the replay ends: a command clears the
   flag as it starts, and a Ctrl-C pressed just before must still stop it. */
static volatile sig_atomic_t interrupt_sticky = 0;

int clab_interrupt_requested(void) { return interrupt_flag; }
// A Ctrl-C is consumed once handled; a termination request stays until the shell has left.
void clab_clear_interrupt(void) {
  if (!interrupt_sticky) interrupt_flag = termination_flag;
}
void clab_set_interrupt_sticky(int on) { interrupt_sticky = on; }
int clab_termination_requested(void) { return termination_flag; }
void clab_request_interrupt(void) {
  if (interrupt_flag == 0) interrupt_flag = SIGINT;
}
int clab_interrupt_count(void) { return interrupt_count; }
