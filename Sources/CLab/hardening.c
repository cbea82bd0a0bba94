#include "clab_hardening.h"
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

int clab_die_with_parent(void) { return prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0); }

void clab_child_dies_with_parent(pid_t expected_parent) {
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  if (getppid() != expected_parent) _exit(70);
}

int clab_set_subreaper(int on) { return prctl(PR_SET_CHILD_SUBREAPER, (unsigned long)on, 0, 0, 0); }

int clab_is_subreaper(void) {
  int on = 0;
  if (prctl(PR_GET_CHILD_SUBREAPER, (unsigned long)&on, 0, 0, 0) != 0) return -1;
  return on;
}
