#ifndef CLAB_PROCESSES_H
#define CLAB_PROCESSES_H

#include <sys/types.h>
#include <stdint.h>

// The child side of the process experiments: everything between fork() and
// _exit() is async-signal-safe (no Swift, no malloc, no stdio), and results
// travel over pipes. Every child first ties its life to the shell
// (PR_SET_PDEATHSIG, checked against the parent's PID taken before fork), so
// a shell killed with SIGKILL leaves none behind.

/// fork(): the child puts itself in its own process group, resets the shell's
/// signal handlers to their defaults, catches SIGUSR1 (to show a handler),
/// sleeps `hold_ns` nanoseconds (resuming after a caught signal) and _exits 0.
/// The parent also calls setpgid. Returns the child's PID, or -1 with errno.
pid_t clab_fork_sleeper(long long hold_ns);

/// A handler that only counts (ChildSignals.catchCounting installs it): a
/// signal wakes the process without ending it.
void clab_count_signal(int sig);
/// How many signals the counting handler has seen.
long clab_caught_count(void);

// ---- memory: one variable, two processes (copy-on-write) or two threads ----

/// The variable `memory` experiments write: a global in this binary's data
/// segment, alone on its page (a `long`).
unsigned long clab_memory_cell_address(void);

struct clab_memory_view {
  pid_t pid;
  pid_t parent;
  pid_t tid;
  unsigned long address;
  long before;
  long after;
};

/// fork(): the child reads the memory cell and writes its view (struct
/// clab_memory_view) to `report_fd`; on the byte 'W' from `hold_fd` it writes
/// `new_value`, reads it back and reports again; at end of file on `hold_fd`
/// it _exits 0. Returns the child's PID.
pid_t clab_memory_fork(long new_value, int report_fd, int hold_fd, int close_a, int close_b);

// ---- files: descriptors across fork ----

/// fork(): the child writes 'R' to `report_fd`, then obeys bytes read from
/// `command_fd`: 'W' writes "child\n" (6 bytes) through `file_fd` and answers
/// 'W'; 'O' opens `other_path` itself, writes "child\n" there and answers 'O'
/// ('E' if open failed); 'C' closes `file_fd` and answers 'C'; 'X' makes
/// `report_fd` its standard output and execve(path, argv, envp)s (_exit(127) if
/// that fails); 'Q' (or end of file) _exits 0. Every string is the parent's,
/// prepared before fork.
pid_t clab_files_fork(int file_fd, int command_fd, int report_fd, const char *other_path, const char *path,
                      char *const argv[], char *const envp[]);

// ---- orphans: a subreaper adopts a grandchild ----

struct clab_orphan_report {
  pid_t middle;
  pid_t grandchild;
  pid_t parent_before;
  pid_t parent_after;
  long long waited_ns;
};

/// fork() a middle parent that forks a grandchild and _exits; the grandchild
/// records getppid(), waits (up to `timeout_ns`) for it to change, records it
/// again, writes a struct clab_orphan_report to `report_fd` and _exits 0.
/// Returns the middle parent's PID.
pid_t clab_orphan_chain(int report_fd, int close_fd, long long timeout_ns);

// ---- the keeper of the group programs run in ----

/// fork(): a process group leader that keeps the group of programs the shell
/// starts (`spawn --exec` joins it with POSIX_SPAWN_SETPGROUP). It closes every
/// descriptor but `watch_fd`, the read end of a pipe whose write end only the
/// shell holds, and waits: at end of file (the shell closed the pipe, or died
/// and the kernel closed it) or when its parent changes (the shell died), it
/// sends SIGKILL to its whole group, itself last. The parent also calls setpgid.
/// Returns the keeper's PID (= the group's ID).
pid_t clab_fork_group_keeper(int watch_fd);

#endif
