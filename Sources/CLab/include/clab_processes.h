#ifndef CLAB_PROCESSES_H
#define CLAB_PROCESSES_H

#include <sys/types.h>
#include <stdint.h>

// Process experiments that must run in C: everything between fork() and _exit()
// is async-signal-safe (no Swift, no malloc, no stdio), and results travel over pipes.

/// fork(): the child puts itself in its own process group, resets the shell's
/// signal handlers to their defaults, catches SIGUSR1 (to show a handler),
/// sleeps `hold_ns` nanoseconds (resuming after a caught signal) and _exits 0.
/// The parent also calls setpgid. Returns the child's PID, or -1 with errno.
pid_t clab_fork_sleeper(long long hold_ns);

/// In the calling process: catch `sig` with a handler that only counts, so a
/// signal wakes the process without ending it.
int clab_catch_counting(int sig);
/// How many signals the counting handler has seen.
long clab_caught_count(void);
/// nanosleep for `ns`, resuming with the remaining time after a caught signal.
void clab_sleep_ns(long long ns);

/// waitid(P_PID, pid, WEXITED|WNOWAIT[|WNOHANG]): has the child ended? Leaves it
/// unreaped (a zombie). Returns 1 if ended (code = CLD_EXITED/CLD_KILLED/CLD_DUMPED,
/// status = exit code or signal), 0 if still running (nohang), -1 with errno.
int clab_waitid_nowait(pid_t pid, int nohang, int *code, int *status);
/// waitid(P_ALL, 0, WEXITED|WNOHANG|WNOWAIT): -1 with ECHILD when there are no children.
int clab_any_children(void);
int clab_cld_exited(void);
int clab_cld_killed(void);
int clab_cld_dumped(void);

// ---- memory: one variable, two processes (copy-on-write) or two threads ----

/// The variable `memory` experiments write: a global in this binary's data
/// segment, alone on its page.
unsigned long clab_memory_cell_address(void);
long clab_memory_cell_read(void);
void clab_memory_cell_write(long value);

struct clab_memory_view {
  pid_t pid;
  pid_t parent;
  pid_t tid;
  unsigned long address;
  long before;
  long after;
};

/// fork(): the child reads clab_memory_cell and writes its view (struct
/// clab_memory_view) to `report_fd`; on the byte 'W' from `hold_fd` it writes
/// `new_value`, reads it back and reports again; at end of file on `hold_fd`
/// it _exits 0. Returns the child's PID.
pid_t clab_memory_fork(long new_value, int report_fd, int hold_fd, int close_a, int close_b);

/// pthread_create + join: a thread reads clab_memory_cell, writes `new_value`,
/// reads it back; `out` receives its view. Returns 0 or an errno value.
int clab_memory_thread(long new_value, struct clab_memory_view *out);

// ---- files: descriptors across fork ----

/// fork(): the child writes 'R' to `report_fd`, then obeys bytes read from
/// `command_fd`: 'C' closes `file_fd` and answers 'C'; 'Q' (or end of file) _exits 0.
pid_t clab_files_fork(int file_fd, int command_fd, int report_fd);

// ---- orphans: a subreaper adopts a grandchild ----

/// prctl(PR_SET_CHILD_SUBREAPER, on).
int clab_set_subreaper(int on);
/// prctl(PR_GET_CHILD_SUBREAPER).
int clab_is_subreaper(void);

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

#endif
