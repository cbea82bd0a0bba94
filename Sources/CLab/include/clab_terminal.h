#ifndef CLAB_TERMINAL_H
#define CLAB_TERMINAL_H

/// sigprocmask(SIG_BLOCK, {SIGINT, SIGTERM, SIGHUP}): while the shell reads a
/// line, these signals may only arrive inside clab_wait_for_input, so a Ctrl-C
/// can never slip in between checking the flag and going to sleep.
void clab_block_shell_signals(void);
/// sigprocmask(SIG_SETMASK, previous): commands run with the signals deliverable.
void clab_unblock_shell_signals(void);
/// ppoll(fd for POLLIN, no timeout, mask without the shell signals): returns 1
/// when input is ready, 0 when a signal interrupted the wait, -1 on error.
int clab_wait_for_input(int fd);

#endif
