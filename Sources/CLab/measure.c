// Timing loops for `cost` and `switch` (see clab_measure.h).
// Only async-signal-safe calls run in forked children: _exit, read, write,
// close, sched_setaffinity, signal disposition changes.
#define _GNU_SOURCE
#include "clab_measure.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static inline int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int wait_for(pid_t pid, int *status, struct rusage *usage) {
  for (;;) {
    pid_t got = usage ? wait4(pid, status, 0, usage) : waitpid(pid, status, 0);
    if (got == pid) return 0;
    if (got < 0 && errno == EINTR) continue;
    return -errno;
  }
}

// ---- cost ----

static void *empty_thread(void *arg) { return arg; }

int64_t clab_cost_thread(void) {
  pthread_t t;
  int64_t start = now_ns();
  int rc = pthread_create(&t, NULL, empty_thread, NULL);
  if (rc != 0) return -rc;
  pthread_join(t, NULL);
  return now_ns() - start;
}

int64_t clab_cost_fork_child(pid_t *child) {
  int64_t start = now_ns();
  pid_t pid = fork();
  if (pid < 0) return -errno;
  if (pid == 0) _exit(0);
  int status;
  int rc = wait_for(pid, &status, NULL);
  if (rc < 0) return rc;
  int64_t elapsed = now_ns() - start;
  if (child) *child = pid;
  return elapsed;
}

int64_t clab_cost_fork(void) { return clab_cost_fork_child(NULL); }

int64_t clab_cost_spawn(const char *path, int *exit_code) {
  char *argv[] = {(char *)path, NULL};
  pid_t pid;
  int64_t start = now_ns();
  int rc = posix_spawn(&pid, path, NULL, NULL, argv, environ);
  if (rc != 0) return -rc;
  int status = 0;
  rc = wait_for(pid, &status, NULL);
  if (rc < 0) return rc;
  int64_t elapsed = now_ns() - start;
  if (exit_code) *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return elapsed;
}

/// The machine code of `exit_group(0)` for this architecture.
static int exit_code_bytes(const unsigned char **code, size_t *length, int *machine) {
#if defined(__x86_64__)
  // mov eax, 231 (exit_group); xor edi, edi; syscall
  static const unsigned char x86[] = {0xb8, 0xe7, 0x00, 0x00, 0x00, 0x31, 0xff, 0x0f, 0x05};
  *code = x86;
  *length = sizeof x86;
  *machine = EM_X86_64;
  return 0;
#elif defined(__aarch64__)
  // mov x0, #0; mov x8, #94 (exit_group); svc #0
  static const unsigned char arm[] = {0x00, 0x00, 0x80, 0xd2, 0xc8, 0x0b, 0x80, 0xd2, 0x01, 0x00, 0x00, 0xd4};
  *code = arm;
  *length = sizeof arm;
  *machine = EM_AARCH64;
  return 0;
#else
  (void)code; (void)length; (void)machine;
  return -ENOEXEC;
#endif
}

int clab_tiny_program_create(int *size) {
  const unsigned char *code;
  size_t code_length;
  int machine;
  int rc = exit_code_bytes(&code, &code_length, &machine);
  if (rc < 0) return rc;

  const Elf64_Addr base = 0x400000;
  unsigned char image[sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr) + 16];
  memset(image, 0, sizeof image);
  size_t total = sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr) + code_length;
  Elf64_Ehdr *eh = (Elf64_Ehdr *)image;
  memcpy(eh->e_ident, ELFMAG, SELFMAG);
  eh->e_ident[EI_CLASS] = ELFCLASS64;
  eh->e_ident[EI_DATA] = ELFDATA2LSB;
  eh->e_ident[EI_VERSION] = EV_CURRENT;
  eh->e_ident[EI_OSABI] = ELFOSABI_SYSV;
  eh->e_type = ET_EXEC;
  eh->e_machine = (Elf64_Half)machine;
  eh->e_version = EV_CURRENT;
  eh->e_entry = base + sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr);
  eh->e_phoff = sizeof(Elf64_Ehdr);
  eh->e_ehsize = sizeof(Elf64_Ehdr);
  eh->e_phentsize = sizeof(Elf64_Phdr);
  eh->e_phnum = 1;
  Elf64_Phdr *ph = (Elf64_Phdr *)(image + sizeof(Elf64_Ehdr));
  ph->p_type = PT_LOAD;
  ph->p_flags = PF_R | PF_X;
  ph->p_offset = 0;
  ph->p_vaddr = base;
  ph->p_paddr = base;
  ph->p_filesz = total;
  ph->p_memsz = total;
  ph->p_align = 0x1000;
  memcpy(image + sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr), code, code_length);

  // MFD_EXEC (Linux 6.3+) says the file is meant to be executed; older kernels refuse the flag.
  int fd = memfd_create("proclab-tiny-program", MFD_CLOEXEC | 0x0010U);
  if (fd < 0 && errno == EINVAL) fd = memfd_create("proclab-tiny-program", MFD_CLOEXEC);
  if (fd < 0) return -errno;
  size_t written = 0;
  while (written < total) {
    ssize_t n = write(fd, image + written, total - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int e = n < 0 ? errno : EIO;
      close(fd);
      return -e;
    }
    written += (size_t)n;
  }
  // execve refuses a file that is open for writing (ETXTBSY): keep a read-only descriptor only.
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  int readonly = open(path, O_RDONLY | O_CLOEXEC);
  int e = errno;
  close(fd);
  if (readonly < 0) return -e;
  if (size) *size = (int)total;
  return readonly;
}

// ---- switch ----

void *clab_pin_here(int *cpu) {
  cpu_set_t *saved = malloc(sizeof(cpu_set_t));
  if (!saved) {
    *cpu = -ENOMEM;
    return NULL;
  }
  if (sched_getaffinity(0, sizeof(cpu_set_t), saved) != 0) {
    *cpu = -errno;
    free(saved);
    return NULL;
  }
  int here = sched_getcpu();
  if (here < 0) here = 0;
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(here, &one);
  if (sched_setaffinity(0, sizeof one, &one) != 0) {
    *cpu = -errno;
    free(saved);
    return NULL;
  }
  *cpu = here;
  return saved;
}

void clab_unpin(void *saved) {
  if (!saved) return;
  sched_setaffinity(0, sizeof(cpu_set_t), (cpu_set_t *)saved);
  free(saved);
}

struct clab_switch_pair {
  int kind;
  int pin_cpu;
  int ping[2]; // caller writes ping[1], partner reads ping[0]
  int pong[2]; // partner writes pong[1], caller reads pong[0]
  pthread_t thread;
  volatile int partner_tid;
  pid_t pid;
  long partner_voluntary;
  long partner_involuntary;
};

static int read_byte(int fd, char *c) {
  for (;;) {
    ssize_t n = read(fd, c, 1);
    if (n == 1) return 1;
    if (n < 0 && errno == EINTR) continue;
    return n < 0 ? -errno : 0;
  }
}

static int write_byte(int fd, char c) {
  for (;;) {
    ssize_t n = write(fd, &c, 1);
    if (n == 1) return 1;
    if (n < 0 && errno == EINTR) continue;
    return n < 0 ? -errno : -EIO;
  }
}

static void pin_self(int cpu) {
  if (cpu < 0) return;
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(cpu, &one);
  sched_setaffinity(0, sizeof one, &one);
}

/// The partner's whole life: answer each byte until 'q' or end of file.
static void answer(int in, int out) {
  char c;
  while (read_byte(in, &c) == 1 && c != 'q') {
    if (write_byte(out, c) != 1) break;
  }
}

static void *partner_thread(void *arg) {
  clab_switch_pair *p = arg;
  p->partner_tid = (int)gettid();
  pin_self(p->pin_cpu);
  answer(p->ping[0], p->pong[1]);
  struct rusage u;
  getrusage(RUSAGE_THREAD, &u);
  p->partner_voluntary = u.ru_nvcsw;
  p->partner_involuntary = u.ru_nivcsw;
  return NULL;
}

static void close_fds(clab_switch_pair *p) {
  int *fds[] = {&p->ping[0], &p->ping[1], &p->pong[0], &p->pong[1]};
  for (int i = 0; i < 4; i++) {
    if (*fds[i] >= 0) close(*fds[i]);
    *fds[i] = -1;
  }
}

clab_switch_pair *clab_switch_open(int kind, int pin_cpu, int *error) {
  clab_switch_pair *p = calloc(1, sizeof *p);
  if (!p) {
    *error = ENOMEM;
    return NULL;
  }
  p->kind = kind;
  p->pin_cpu = pin_cpu;
  p->ping[0] = p->ping[1] = p->pong[0] = p->pong[1] = -1;
  if (pipe2(p->ping, O_CLOEXEC) != 0 || pipe2(p->pong, O_CLOEXEC) != 0) {
    *error = errno;
    close_fds(p);
    free(p);
    return NULL;
  }
  if (kind == CLAB_SWITCH_THREADS) {
    int rc = pthread_create(&p->thread, NULL, partner_thread, p);
    if (rc != 0) {
      *error = rc;
      close_fds(p);
      free(p);
      return NULL;
    }
    while (p->partner_tid == 0) sched_yield();
  } else if (kind == CLAB_SWITCH_PROCESSES) {
    pid_t pid = fork();
    if (pid < 0) {
      *error = errno;
      close_fds(p);
      free(p);
      return NULL;
    }
    if (pid == 0) {
      // The child: only async-signal-safe calls, then _exit. Ctrl-C is the
      // parent's to handle; it ends this child with 'q' or end of file.
      signal(SIGINT, SIG_IGN);
      close(p->ping[1]);
      close(p->pong[0]);
      pin_self(pin_cpu);
      answer(p->ping[0], p->pong[1]);
      _exit(0);
    }
    p->pid = pid;
    close(p->ping[0]);
    close(p->pong[1]);
    p->ping[0] = -1;
    p->pong[1] = -1;
  }
  return p;
}

int clab_switch_partner(const clab_switch_pair *p) {
  if (p->kind == CLAB_SWITCH_THREADS) return p->partner_tid;
  if (p->kind == CLAB_SWITCH_PROCESSES) return p->pid;
  return 0;
}

int64_t clab_switch_batch(clab_switch_pair *p, int round_trips, long *voluntary, long *involuntary) {
  struct rusage before, after;
  getrusage(RUSAGE_THREAD, &before);
  char c = 'x';
  int64_t start = now_ns();
  if (p->kind == CLAB_SWITCH_NONE) {
    // The same two writes and two reads as a round trip, with nobody to switch to.
    for (int i = 0; i < round_trips; i++) {
      for (int half = 0; half < 2; half++) {
        int rc = write_byte(p->ping[1], c);
        if (rc != 1) return rc;
        rc = read_byte(p->ping[0], &c);
        if (rc != 1) return rc < 0 ? rc : -EPIPE;
      }
    }
  } else {
    for (int i = 0; i < round_trips; i++) {
      int rc = write_byte(p->ping[1], c);
      if (rc != 1) return rc;
      rc = read_byte(p->pong[0], &c);
      if (rc != 1) return rc < 0 ? rc : -EPIPE;
    }
  }
  int64_t elapsed = now_ns() - start;
  getrusage(RUSAGE_THREAD, &after);
  if (voluntary) *voluntary = after.ru_nvcsw - before.ru_nvcsw;
  if (involuntary) *involuntary = after.ru_nivcsw - before.ru_nivcsw;
  return elapsed;
}

int clab_switch_close(clab_switch_pair *p, long *voluntary, long *involuntary) {
  int result = 0;
  if (p->kind != CLAB_SWITCH_NONE && p->ping[1] >= 0) {
    write_byte(p->ping[1], 'q');
    close(p->ping[1]); // end of file as well, should the 'q' not arrive
    p->ping[1] = -1;
  }
  if (p->kind == CLAB_SWITCH_THREADS) {
    pthread_join(p->thread, NULL);
  } else if (p->kind == CLAB_SWITCH_PROCESSES) {
    int status;
    struct rusage u;
    memset(&u, 0, sizeof u);
    result = wait_for(p->pid, &status, &u);
    p->partner_voluntary = u.ru_nvcsw;
    p->partner_involuntary = u.ru_nivcsw;
  }
  if (voluntary) *voluntary = p->partner_voluntary;
  if (involuntary) *involuntary = p->partner_involuntary;
  close_fds(p);
  free(p);
  return result;
}
