#ifndef CLAB_PTY_H
#define CLAB_PTY_H
#include <sys/types.h>

/// forkpty(3) + execve(2): starts `path` with a new pseudo-terminal as its
/// controlling terminal (stdin, stdout, stderr), so it behaves exactly as under
/// a person's terminal (readline, Ctrl-C as SIGINT). Only execve and _exit run
/// in the child. Returns the child's PID and stores the master side in *master,
/// or returns -1 with errno set.
pid_t clab_spawn_in_pty(const char *path, char *const argv[], char *const envp[], int rows, int cols, int *master);

#endif
