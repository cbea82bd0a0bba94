#ifndef CLAB_HARDENING_H
#define CLAB_HARDENING_H

/// prctl(PR_SET_PDEATHSIG, SIGKILL): the calling process is killed when the
/// thread that created it ends, so a lab child never outlives a shell that was
/// itself killed (SIGKILL leaves the shell no chance to clean up).
/// Returns 0, or -1 with errno.
int clab_die_with_parent(void);

#endif
