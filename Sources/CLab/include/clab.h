#ifndef CLAB_H
#define CLAB_H

#include <sys/types.h>
#include <stdint.h>

// ---- Ctrl-C: a flag set by a SIGINT handler (async-signal-safe) ----

/// Installs a SIGINT (and optionally SIGTERM/SIGHUP) handler without SA_RESTART
/// that only records the signal, so a blocked read() returns EINTR.
void clab_install_interrupt_handler(void);
/// Records a terminating signal (SIGTERM/SIGHUP) in a flag instead of dying.
void clab_install_termination_handler(void);
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

// ---- wait(2) status decoding: the W* macros are not imported into Swift ----
int clab_wifexited(int status);
int clab_wexitstatus(int status);
int clab_wifsignaled(int status);
int clab_wtermsig(int status);
int clab_wcoredump(int status);
int clab_wifstopped(int status);
int clab_wstopsig(int status);
int clab_wifcontinued(int status);

// ---- small syscalls glibc or Swift make awkward ----
pid_t clab_gettid(void);
/// tgkill(pid, tid, sig): a signal for one thread of a process.
int clab_tgkill(pid_t pid, pid_t tid, int sig);
int clab_errno(void);
/// pipe2(fds, flags): glibc hides it behind _GNU_SOURCE.
int clab_pipe2(int fds[2], int flags);
/// getrusage(RUSAGE_THREAD, usage): the calling thread's own counters.
int clab_getrusage_thread(void *usage);

#endif
