// The child side of the process experiments: everything between fork() and
// _exit() is here, async-signal-safe (no Swift, no malloc, no stdio), and
// results travel over pipes. The parent side is Swift (OS/Fork.swift,
// OS/Subreaper.swift, OS/ExecGroup.swift).
#define _GNU_SOURCE
#include "clab_processes.h"
#include "clab_hardening.h"
#include "clab_threads.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

// The cell has a page of its own: initialised (so it lives in .data, mapped from
// the proclab file), page-aligned and page-sized, so no other variable shares its
// page and only a write to the cell itself can trigger the copy-on-write.
static volatile union {
  long value;
  char page[4096];
} cell_page __attribute__((aligned(4096))) = { .value = 1 };
#define clab_memory_cell (cell_page.value)
unsigned long clab_memory_cell_address(void) { return (unsigned long)&clab_memory_cell; }

static volatile sig_atomic_t caught = 0;
void clab_count_signal(int sig) { (void)sig; caught++; }

long clab_caught_count(void) { return caught; }

/// In a fork child: dies with the shell (PR_SET_PDEATHSIG, checked against the
/// parent's PID taken before fork). The shell's handlers (SIGINT flag,
/// SIGTERM/SIGHUP flags) and ignored SIGPIPE must not carry over, and no signal
/// stays blocked. Like lab children, no core files: `kill PID SEGV` must not
/// litter the current directory.
static void child_start(pid_t parent) {
  clab_child_dies_with_parent(parent);
  struct rlimit no_core = { 0, 0 };
  setrlimit(RLIMIT_CORE, &no_core);
  clab_child_default_signals();
}

pid_t clab_fork_sleeper(long long hold_ns) {
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    child_start(parent);
    struct sigaction sa = { .sa_handler = clab_count_signal }; // no SA_RESTART: nanosleep wakes
    sigaction(SIGUSR1, &sa, NULL);
    clab_sleep_ns(hold_ns);
    _exit(0);
  }
  if (pid > 0) setpgid(pid, pid); // both sides, so the group exists whoever runs first
  return pid;
}

pid_t clab_memory_fork(long new_value, int report_fd, int hold_fd, int close_a, int close_b) {
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid != 0) return pid;
  child_start(parent);
  if (close_a >= 0) close(close_a);
  if (close_b >= 0) close(close_b);
  struct clab_memory_view view;
  view.pid = getpid();
  view.parent = getppid();
  view.tid = (pid_t)syscall(SYS_gettid);
  view.address = (unsigned long)&clab_memory_cell;
  view.before = clab_memory_cell;
  view.after = view.before;
  // First report: what the child sees before writing (the page is still shared).
  clab_write_all(report_fd, &view, sizeof view);
  char c;
  for (;;) {
    ssize_t n = read(hold_fd, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n == 1 && c == 'W') {
      clab_memory_cell = new_value; // the first write to this page copies it for the child
      view.after = clab_memory_cell;
      clab_write_all(report_fd, &view, sizeof view);
      continue;
    }
    break; // end of file: the parent has looked, we may go
  }
  _exit(0);
}

pid_t clab_files_fork(int file_fd, int command_fd, int report_fd, const char *other_path, const char *path,
                      char *const argv[], char *const envp[]) {
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid != 0) return pid;
  child_start(parent);
  clab_write_all(report_fd, "R", 1);
  for (;;) {
    char c;
    ssize_t n = read(command_fd, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || c == 'Q') _exit(0);
    if (c == 'W') {
      // Through the inherited descriptor: at the offset parent and child share.
      clab_write_all(file_fd, "child\n", 6);
      clab_write_all(report_fd, "W", 1);
    } else if (c == 'O') {
      // The same file opened by the child itself: a description, and an offset, of its own.
      int own = open(other_path, O_WRONLY | O_CLOEXEC);
      if (own >= 0) {
        clab_write_all(own, "child\n", 6);
        close(own);
      }
      clab_write_all(report_fd, own >= 0 ? "O" : "E", 1);
    } else if (c == 'C') {
      close(file_fd);
      clab_write_all(report_fd, "C", 1);
    } else if (c == 'X') {
      // The same process, a new program: the report pipe becomes its standard output
      // (dup2 clears close-on-exec on the copy), and execve keeps every descriptor
      // without FD_CLOEXEC.
      if (dup2(report_fd, 1) < 0) _exit(126);
      execve(path, argv, envp);
      _exit(127); // execve returned: it failed
    }
  }
}

pid_t clab_orphan_chain(int report_fd, int close_fd, long long timeout_ns) {
  pid_t subreaper = getpid();
  pid_t middle = fork();
  if (middle != 0) return middle;
  // The middle parent.
  child_start(subreaper);
  if (close_fd >= 0) close(close_fd);
  pid_t me = getpid();
  int seen[2];
  if (pipe(seen) != 0) _exit(1);
  pid_t grandchild = fork();
  if (grandchild != 0) {
    // Exit only once the grandchild has seen us as its parent; that leaves it an orphan.
    char c;
    close(seen[1]);
    while (grandchild > 0 && read(seen[0], &c, 1) < 0 && errno == EINTR) {}
    _exit(grandchild > 0 ? 0 : 1);
  }
  // The grandchild. No PR_SET_PDEATHSIG here: its parent's exit is the lesson.
  // It ends by itself once it has seen its new parent (or at the timeout), and if
  // the subreaper died too it sees init as its parent and ends at once.
  close(seen[0]);
  struct clab_orphan_report report;
  memset(&report, 0, sizeof report);
  report.middle = me;
  report.grandchild = getpid();
  report.parent_before = getppid();
  clab_write_all(seen[1], "S", 1);
  close(seen[1]);
  long long start = (long long)clab_monotonic_ns();
  while (getppid() == me && (long long)clab_monotonic_ns() - start < timeout_ns) clab_sleep_ns(200000);
  report.parent_after = getppid();
  report.waited_ns = (long long)clab_monotonic_ns() - start;
  clab_write_all(report_fd, &report, sizeof report);
  _exit(0);
}

pid_t clab_fork_group_keeper(int watch_fd) {
  pid_t shell = getpid();
  pid_t pid = fork();
  if (pid != 0) {
    if (pid > 0) setpgid(pid, pid); // both sides, so the group exists when posix_spawn joins it
    return pid;
  }
  setpgid(0, 0);
  // Not child_start: the keeper must outlive a dead shell long enough to act.
  clab_child_default_signals();
  // Hold nothing of the shell's but the watch pipe (a terminal, a test harness's
  // output pipe…), so nobody waits on the keeper for an end of file.
  if (watch_fd > 0) close_range(0, (unsigned)watch_fd - 1, 0);
  close_range((unsigned)watch_fd + 1, ~0U, 0);
  struct pollfd p = { watch_fd, POLLIN, 0 };
  for (;;) {
    int n = poll(&p, 1, 100);
    if (n > 0) {
      char buffer[64];
      ssize_t r = read(watch_fd, buffer, sizeof buffer);
      if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN)) break; // the shell closed it, or died
    }
    if (getppid() != shell) break; // the shell died and we were adopted
  }
  kill(0, SIGKILL); // every process in the group, this keeper last
  _exit(0);
}
