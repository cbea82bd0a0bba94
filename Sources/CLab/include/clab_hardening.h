#ifndef CLAB_HARDENING_H
#define CLAB_HARDENING_H

#include <stddef.h>
#include <sys/types.h>

// prctl(2) is variadic, so Swift cannot call it: these are its only callers.

/// prctl(PR_SET_PDEATHSIG, SIGKILL): the calling process is killed when the
/// thread that created it ends, so a lab child never outlives a shell that was
/// itself killed (SIGKILL leaves the shell no chance to clean up).
/// Returns 0, or -1 with errno.
int clab_die_with_parent(void);

/// For the first line of a fork()ed child: prctl(PR_SET_PDEATHSIG, SIGKILL),
/// then getppid(): if it is no longer `expected_parent` (the PID the parent
/// took with getpid() before fork), the parent died before the prctl took
/// effect and the child was adopted, so it _exits(70) at once.
/// Async-signal-safe.
void clab_child_dies_with_parent(pid_t expected_parent);

/// prctl(PR_SET_CHILD_SUBREAPER, on).
int clab_set_subreaper(int on);
/// prctl(PR_GET_CHILD_SUBREAPER): 1, 0, or -1 with errno.
int clab_is_subreaper(void);

// ---- what every forked child shares (all async-signal-safe) ----

/// Every signal's handler back to SIG_DFL and an empty signal mask: the shell's
/// handlers, ignored signals and blocked set must not carry over into a child.
void clab_child_default_signals(void);
/// write(2) until all `size` bytes are out, resuming after EINTR. 0, or -1.
int clab_write_all(int fd, const void *data, size_t size);
/// read(2) until `size` bytes are in, resuming after EINTR: 1, 0 at end of file, -1 on error.
int clab_read_exact(int fd, void *data, size_t size);
/// nanosleep for `ns`, resuming with the remaining time after a caught signal.
void clab_sleep_ns(long long ns);

#endif
