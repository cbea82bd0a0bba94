// The plain-C reference for proclab's `cost` and `switch`.
//
// An independent program (it shares no code with proclab): it measures the same
// operations the same way, so that proclab's figures can be checked against
// what a small C program sees on the same machine at the same time.
//
//   cc -O2 -o reference Benchmarks/reference.c -lpthread
//   ./reference cost [ROUNDS]          rounds of thread / fork / spawn / exec (default 300)
//   ./reference switch [ROUND_TRIPS]   ping-pong threads / processes / no switch (default 20000)
//
// Output, one line per row (nanoseconds):
//   cost thread median=21300 p10=18000 p90=30100 min=17000 samples=300
//   switch threads median=2590 p10=… p90=… min=… samples=100 switches=10136 round_trips=5050
//   pinned cpu=1            (or: pinned no errno=EPERM)
//
// Method (the same as proclab's):
// - cost: one warm-up round, then ROUNDS rounds; each round times one of every
//   row, starting one row further each round (round-robin). A sample is
//   CLOCK_MONOTONIC from just before the creation to just after pthread_join or
//   waitpid returned. spawn runs a static ELF program of three instructions
//   (exit_group(0)) from a memfd; exec runs /bin/true; both with posix_spawn,
//   no attributes, the caller's environment.
// - switch: the caller is pinned to the CPU it runs on (partners inherit the
//   pin and pin themselves too); partners are a thread and a forked child
//   answering each byte on one pipe with a byte on another. Batches of
//   max(1, min(1000, N/100)) round trips, one warm-up batch per pair, then
//   N/batch batches round-robin; a sample is batch time / (2 × batch).
//   "pipe_only" does the same two writes and two reads in one thread.
// - median of an even count = mean of the middle two; percentile p = sorted
//   sample at index round(p × (n − 1)).
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static int64_t clock_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void die(const char *what, int err) {
  fprintf(stderr, "reference: %s: %s\n", what, strerror(err));
  exit(1);
}

static void reap(pid_t pid, struct rusage *usage) {
  int status;
  for (;;) {
    pid_t r = wait4(pid, &status, 0, usage);
    if (r == pid) return;
    if (r < 0 && errno != EINTR) die("wait4", errno);
  }
}

// ---- statistics ----

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static void summary(const char *prefix, const char *row, double *v, int n, const char *extra) {
  qsort(v, (size_t)n, sizeof *v, by_value);
  double median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  double p10 = v[(int)lround(0.1 * (n - 1))];
  double p90 = v[(int)lround(0.9 * (n - 1))];
  printf("%s %s median=%.1f p10=%.1f p90=%.1f min=%.1f samples=%d%s\n", prefix, row, median, p10, p90, v[0], n,
         extra ? extra : "");
}

// ---- cost ----

static void *nothing(void *arg) { return arg; }

static int64_t time_thread(void) {
  pthread_t t;
  int64_t t0 = clock_ns();
  int rc = pthread_create(&t, NULL, nothing, NULL);
  if (rc) die("pthread_create", rc);
  pthread_join(t, NULL);
  return clock_ns() - t0;
}

static int64_t time_fork(void) {
  int64_t t0 = clock_ns();
  pid_t pid = fork();
  if (pid < 0) die("fork", errno);
  if (pid == 0) _exit(0);
  reap(pid, NULL);
  return clock_ns() - t0;
}

static int64_t time_spawn(const char *path) {
  char *argv[] = {(char *)path, NULL};
  pid_t pid;
  int64_t t0 = clock_ns();
  int rc = posix_spawn(&pid, path, NULL, NULL, argv, environ);
  if (rc) die(path, rc);
  reap(pid, NULL);
  return clock_ns() - t0;
}

// A static ELF executable whose code is exit_group(0), in a memfd.
static int make_tiny_program(char *path, size_t cap) {
#if defined(__x86_64__)
  static const unsigned char code[] = {0xb8, 0xe7, 0, 0, 0, 0x31, 0xff, 0x0f, 0x05};
  const int machine = EM_X86_64;
#elif defined(__aarch64__)
  static const unsigned char code[] = {0, 0, 0x80, 0xd2, 0xc8, 0x0b, 0x80, 0xd2, 1, 0, 0, 0xd4};
  const int machine = EM_AARCH64;
#else
  (void)path; (void)cap;
  return -1;
#endif
#if defined(__x86_64__) || defined(__aarch64__)
  struct {
    Elf64_Ehdr e;
    Elf64_Phdr p;
    unsigned char code[sizeof code];
  } __attribute__((packed)) img;
  memset(&img, 0, sizeof img);
  memcpy(img.e.e_ident, ELFMAG, SELFMAG);
  img.e.e_ident[EI_CLASS] = ELFCLASS64;
  img.e.e_ident[EI_DATA] = ELFDATA2LSB;
  img.e.e_ident[EI_VERSION] = EV_CURRENT;
  img.e.e_type = ET_EXEC;
  img.e.e_machine = machine;
  img.e.e_version = EV_CURRENT;
  img.e.e_entry = 0x400000 + sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr);
  img.e.e_phoff = sizeof img.e;
  img.e.e_ehsize = sizeof img.e;
  img.e.e_phentsize = sizeof img.p;
  img.e.e_phnum = 1;
  img.p.p_type = PT_LOAD;
  img.p.p_flags = PF_R | PF_X;
  img.p.p_vaddr = img.p.p_paddr = 0x400000;
  img.p.p_filesz = img.p.p_memsz = sizeof img;
  img.p.p_align = 0x1000;
  memcpy(img.code, code, sizeof code);
  int fd = memfd_create("reference-tiny", MFD_CLOEXEC | 0x10U);
  if (fd < 0) fd = memfd_create("reference-tiny", MFD_CLOEXEC);
  if (fd < 0 || write(fd, &img, sizeof img) != (ssize_t)sizeof img) return -1;
  char rw[64];
  snprintf(rw, sizeof rw, "/proc/self/fd/%d", fd);
  int ro = open(rw, O_RDONLY | O_CLOEXEC); // no writer left, or execve says ETXTBSY
  close(fd);
  if (ro < 0) return -1;
  snprintf(path, cap, "/proc/self/fd/%d", ro);
  return ro;
#endif
}

static void run_cost(int rounds) {
  char tiny[64];
  int tiny_fd = make_tiny_program(tiny, sizeof tiny);
  const char *names[4];
  int kinds[4], n = 0;
  names[n] = "thread", kinds[n++] = 0;
  names[n] = "fork", kinds[n++] = 1;
  if (tiny_fd >= 0) names[n] = "spawn", kinds[n++] = 2;
  const char *truth = access("/bin/true", X_OK) == 0 ? "/bin/true" : "/usr/bin/true";
  names[n] = "exec", kinds[n++] = 3;

  double *samples[4];
  for (int k = 0; k < n; k++) samples[k] = malloc(sizeof(double) * (size_t)rounds);
  for (int round = -1; round < rounds; round++) { // round -1 is the warm-up
    for (int j = 0; j < n; j++) {
      int k = round < 0 ? j : (round + j) % n;
      int64_t ns;
      switch (kinds[k]) {
      case 0: ns = time_thread(); break;
      case 1: ns = time_fork(); break;
      case 2: ns = time_spawn(tiny); break;
      default: ns = time_spawn(truth); break;
      }
      if (round >= 0) samples[k][round] = (double)ns;
    }
  }
  for (int k = 0; k < n; k++) {
    summary("cost", names[k], samples[k], rounds, NULL);
    free(samples[k]);
  }
  if (tiny_fd >= 0) close(tiny_fd);
}

// ---- switch ----

struct pair {
  int kind; // 0 none, 1 threads, 2 processes
  int cpu;
  int to[2], from[2];
  pthread_t thread;
  pid_t child;
  long partner_switches;
  long caller_switches;
  long round_trips;
};

static void stick(int cpu) {
  if (cpu < 0) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  sched_setaffinity(0, sizeof set, &set);
}

static void echo_loop(int in, int out) {
  char c;
  for (;;) {
    ssize_t r = read(in, &c, 1);
    if (r < 0 && errno == EINTR) continue;
    if (r != 1 || c == 'q') return;
    while (write(out, &c, 1) < 0 && errno == EINTR) {}
  }
}

static void *echo_thread(void *arg) {
  struct pair *p = arg;
  stick(p->cpu);
  echo_loop(p->to[0], p->from[1]);
  struct rusage u;
  getrusage(RUSAGE_THREAD, &u);
  p->partner_switches = u.ru_nvcsw + u.ru_nivcsw;
  return NULL;
}

static void pair_open(struct pair *p, int kind, int cpu) {
  memset(p, 0, sizeof *p);
  p->kind = kind;
  p->cpu = cpu;
  if (pipe2(p->to, O_CLOEXEC) || pipe2(p->from, O_CLOEXEC)) die("pipe2", errno);
  if (kind == 1) {
    int rc = pthread_create(&p->thread, NULL, echo_thread, p);
    if (rc) die("pthread_create", rc);
  } else if (kind == 2) {
    p->child = fork();
    if (p->child < 0) die("fork", errno);
    if (p->child == 0) {
      signal(SIGINT, SIG_IGN);
      close(p->to[1]);
      close(p->from[0]);
      stick(cpu);
      echo_loop(p->to[0], p->from[1]);
      _exit(0);
    }
    close(p->to[0]);
    close(p->from[1]);
  }
}

static int64_t pair_batch(struct pair *p, int n) {
  struct rusage a, b;
  getrusage(RUSAGE_THREAD, &a);
  char c = 'x';
  int64_t t0 = clock_ns();
  for (int i = 0; i < n; i++) {
    if (p->kind == 0) {
      for (int h = 0; h < 2; h++) {
        if (write(p->to[1], &c, 1) != 1 || read(p->to[0], &c, 1) != 1) die("pipe", errno);
      }
    } else {
      if (write(p->to[1], &c, 1) != 1 || read(p->from[0], &c, 1) != 1) die("ping-pong", errno);
    }
  }
  int64_t ns = clock_ns() - t0;
  getrusage(RUSAGE_THREAD, &b);
  p->caller_switches += (b.ru_nvcsw - a.ru_nvcsw) + (b.ru_nivcsw - a.ru_nivcsw);
  p->round_trips += n;
  return ns;
}

static void pair_close(struct pair *p) {
  if (p->kind != 0) {
    char q = 'q';
    if (write(p->to[1], &q, 1) != 1) {}
  }
  if (p->kind == 1) pthread_join(p->thread, NULL);
  if (p->kind == 2) {
    close(p->to[1]);
    p->to[1] = -1;
    struct rusage u;
    reap(p->child, &u);
    p->partner_switches = u.ru_nvcsw + u.ru_nivcsw;
  }
  int fds[] = {p->to[0], p->to[1], p->from[0], p->from[1]};
  for (int i = 0; i < 4; i++)
    if (fds[i] >= 0 && !(p->kind == 2 && (i == 0 || i == 3))) close(fds[i]);
}

static void run_switch(int round_trips) {
  cpu_set_t saved, one;
  int cpu = -1, pin_error = 0;
  if (sched_getaffinity(0, sizeof saved, &saved) == 0) {
    int here = sched_getcpu();
    CPU_ZERO(&one);
    CPU_SET(here < 0 ? 0 : here, &one);
    if (sched_setaffinity(0, sizeof one, &one) == 0) cpu = here < 0 ? 0 : here;
    else pin_error = errno;
  } else pin_error = errno;

  int batch = round_trips / 100;
  if (batch > 1000) batch = 1000;
  if (batch < 1) batch = 1;
  int batches = round_trips / batch;
  if (batches < 1) batches = 1;

  struct pair pairs[3];
  const char *names[3] = {"threads", "processes", "pipe_only"};
  int kinds[3] = {1, 2, 0};
  double *samples[3];
  for (int k = 0; k < 3; k++) {
    pair_open(&pairs[k], kinds[k], cpu);
    samples[k] = malloc(sizeof(double) * (size_t)batches);
  }
  for (int k = 0; k < 3; k++) pair_batch(&pairs[k], batch); // warm-up
  for (int i = 0; i < batches; i++) {
    for (int j = 0; j < 3; j++) {
      int k = (i + j) % 3;
      samples[k][i] = (double)pair_batch(&pairs[k], batch) / (2.0 * batch);
    }
  }
  for (int k = 0; k < 3; k++) {
    pair_close(&pairs[k]);
    char extra[96];
    snprintf(extra, sizeof extra, " switches=%ld round_trips=%ld", pairs[k].caller_switches + pairs[k].partner_switches,
             pairs[k].round_trips);
    summary("switch", names[k], samples[k], batches, extra);
    free(samples[k]);
  }
  if (cpu >= 0) {
    sched_setaffinity(0, sizeof saved, &saved);
    printf("pinned cpu=%d\n", cpu);
  } else {
    printf("pinned no errno=%d\n", pin_error);
  }
}

int main(int argc, char **argv) {
  signal(SIGPIPE, SIG_IGN);
  if (argc < 2 || (strcmp(argv[1], "cost") && strcmp(argv[1], "switch"))) {
    fprintf(stderr, "usage: %s cost [ROUNDS] | switch [ROUND_TRIPS]\n", argv[0]);
    return 2;
  }
  int n = argc > 2 ? atoi(argv[2]) : 0;
  if (strcmp(argv[1], "cost") == 0) run_cost(n > 0 ? n : 300);
  else run_switch(n > 0 ? n : 20000);
  return 0;
}
