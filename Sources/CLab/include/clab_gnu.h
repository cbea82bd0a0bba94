#ifndef CLAB_GNU_H
#define CLAB_GNU_H

// glibc's GNU extensions, declared for Swift. Swift's Glibc module is built
// without _GNU_SOURCE, so it hides these; declaring them here (exactly as
// glibc does: threads.c includes this header after glibc's own, so a
// mismatch fails the build) lets OS/ call them directly, with no C shim.

#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

pid_t gettid(void);
int tgkill(pid_t tgid, pid_t tid, int sig);
int pipe2(int fds[2], int flags);
int memfd_create(const char *name, unsigned int flags);
int eventfd(unsigned int count, int flags);
int sched_getcpu(void);
int sched_getaffinity(pid_t pid, size_t size, cpu_set_t *set);
int sched_setaffinity(pid_t pid, size_t size, const cpu_set_t *set);
int pthread_setname_np(pthread_t thread, const char *name);
int pthread_getattr_np(pthread_t thread, pthread_attr_t *attr);
int ppoll(struct pollfd *fds, nfds_t count, const struct timespec *timeout, const sigset_t *mask);
ssize_t process_vm_readv(pid_t pid, const struct iovec *local, unsigned long local_count,
                         const struct iovec *remote, unsigned long remote_count, unsigned long flags);

#endif
