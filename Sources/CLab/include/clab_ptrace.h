#ifndef CLAB_PTRACE_H
#define CLAB_PTRACE_H

#include <sys/types.h>
#include <stdint.h>

// ptrace(2) for `observe` and the kernel side of `set trace on`. The tracer
// itself is Swift (OS/Ptrace.swift); C holds what Swift cannot do: the
// variadic ptrace() call, and the body of the forked child up to execve.

/// ptrace(request, pid, addr, data): glibc's ptrace is variadic, which Swift
/// cannot call. Returns what ptrace returns (-1 with errno on failure).
long clab_ptrace(int request, pid_t pid, unsigned long addr, unsigned long data);

/// prctl(PR_SET_PTRACER, pid): under Yama's ptrace_scope 1, let `pid` trace the
/// caller. Without Yama the kernel answers EINVAL, which changes nothing.
int clab_allow_tracer(pid_t pid);

/// gettid(2) once per thread, then from a thread-local copy: `set trace on` stamps
/// every call with its thread, and the kernel trace must not show one gettid per
/// recorded call. A fork child starts afresh (pthread_atfork resets the copy).
pid_t clab_cached_tid(void);

/// The kernel's struct ptrace_syscall_info (PTRACE_GET_SYSCALL_INFO, Linux 5.3),
/// with its union flattened: for an entry `data[0]` is the call's number and
/// `data[1…6]` its arguments; for an exit `data[0]` is the return value and the
/// low byte of `data[1]` is_error.
struct clab_syscall_info {
  uint8_t op;
  uint8_t pad[3];
  uint32_t arch;
  uint64_t instruction_pointer;
  uint64_t stack_pointer;
  uint64_t data[8];
};

/// fork(), then in the child, only async-signal-safe calls: dup2 of `in_fd`,
/// `out_fd`, `err_fd` onto 0, 1 and 2, every other descriptor closed, every signal back to its default and
/// unblocked, PR_SET_PDEATHSIG(SIGKILL) (it dies with the tracer), then
/// raise(SIGSTOP) so the tracer can PTRACE_SEIZE it before it runs anything
/// of its own, then execve(path, argv, envp). If execve fails, the child
/// writes its errno to `exec_error_fd` (close-on-exec) and _exits 127.
/// Returns the child's PID, or -1 with errno.
pid_t clab_observe_start(const char *path, char *const argv[], char *const envp[], int in_fd, int out_fd,
                         int err_fd, int exec_error_fd);

#endif
