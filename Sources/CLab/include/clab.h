#ifndef CLAB_H
#define CLAB_H

#include <sys/types.h>
#include <stdint.h>

// ---- Ctrl-C: a flag set by a SIGINT handler (async-signal-safe) ----

/// The SIGINT handler (Interrupt.install puts it in place, without SA_RESTART so
/// a blocked read() returns EINTR): it only records the signal and counts it.
void clab_on_interrupt(int sig);
/// The SIGTERM and SIGHUP handler: records the terminating signal instead of dying.
void clab_on_termination(int sig);
/// The signal that asked to stop (SIGINT, SIGTERM or SIGHUP), or 0: true in C when one did.
int clab_interrupt_requested(void);
/// Forgets a Ctrl-C; a SIGTERM or SIGHUP stays requested (the shell is leaving).
void clab_clear_interrupt(void);
/// SIGTERM or SIGHUP once one arrived, else 0.
int clab_termination_requested(void);
/// Raises the interrupt flag by hand, as SIGINT would (used by tests and by the shell's watchdog).
void clab_request_interrupt(void);
/// How many SIGINTs arrived so far (never cleared).
int clab_interrupt_count(void);
/// While on, clab_clear_interrupt leaves a raised flag raised.
void clab_set_interrupt_sticky(int on);

#endif
