#ifndef CLAB_HARDENING_H
#define CLAB_HARDENING_H

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

#endif
