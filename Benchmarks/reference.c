// The plain-C reference for proclab's `cost` and `switch`: an independent
// program in the manner of lmbench (lat_proc, lat_ctx). It shares no code and
// no method with proclab: where proclab times every sample on its own and takes
// the median, this times whole loops of many operations and divides, lmbench's
// way, so the two figures agree only if both measure the same thing.
//
//   cc -O2 -o reference Benchmarks/reference.c -lpthread
//   ./reference cost                 thread, fork, spawn, exec
//   ./reference switch               threads, processes, pipe_only (lat_ctx with 2 tasks)
//   ./reference fork-size BYTES...   fork and spawn from a parent with BYTES of
//                                    private memory touched (4 KiB pages)
//   REFERENCE_BALLAST="MAPPINGS KIB" ./reference cost
//                                    the same from a parent made as big as another
//                                    process (the control for proclab's fork_shell)
//   REFERENCE_QUICK=1 ./reference …  tries of 0.5 ms instead of 5 (for tests)
//
// Output, one line per row (nanoseconds per operation):
//   cost thread median=12100 min=11800 tries=11 per_try=1650
//   switch processes median=1450 alone=650 min=1400 tries=11 per_try=20000
//   (switch rows per switch: half a round trip; pipe_only per write and read)
//
// Method (lmbench's BENCH): run the operation for about 20 ms (warm-up, also to learn
// its cost: the median of those operations), then TRIES=11 timed loops of N operations
// each, N chosen so a loop lasts about 5 ms; one try's figure = loop time / N; report the
// median and the minimum of the tries. Each operation is timed in its own loop.
// - thread: pthread_create(empty routine) + pthread_join
// - fork: fork, the child _exit(0)s, waitpid
// - spawn: posix_spawn of a static ELF of three instructions (exit_group(0)) held in
//   a memfd, + waitpid; exec: posix_spawn of /bin/true + waitpid
// - switch: two tasks pinned to one CPU pass a byte over two pipes; a round trip is
//   two switches. As lat_ctx, the overhead (the same write and read in one task) is
//   measured the same way and subtracted: alone = round trip / 2 - overhead.
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define TRIES 11

static double seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what) {
  perror(what);
  exit(1);
}

static int compare(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

typedef void (*operation)(void *);

/// Seconds of warm-up and of one try: 20 ms and 5 ms, or a tenth with REFERENCE_QUICK.
static double warmup_s = 0.02, try_s = 0.005;

/// How many operations make one try: the warm-up runs the operation for warmup_s, timing
/// each one, and their median (robust to a busy machine) sets the count for try_s.
static long calibrate(operation op, void *arg) {
  static double each[100000];
  long n = 0;
  double start = seconds();
  while (n < 100000 && seconds() - start < warmup_s) {
    double s = seconds();
    op(arg);
    each[n++] = seconds() - s;
  }
  qsort(each, (size_t)n, sizeof each[0], compare);
  return (long)(try_s / each[n / 2]) + 1;
}

/// lmbench's BENCH: warm up, then TRIES loops of n operations; ns per operation.
static void bench(const char *group, const char *row, operation op, void *arg, double overhead_ns) {
  long per_try = calibrate(op, arg);
  double ns[TRIES];
  for (int i = 0; i < TRIES; i++) {
    double s = seconds();
    for (long k = 0; k < per_try; k++) op(arg);
    ns[i] = (seconds() - s) * 1e9 / per_try;
  }
  qsort(ns, TRIES, sizeof ns[0], compare);
  // A switch row's operation is a round trip, two switches: it reports per switch.
  double per = overhead_ns >= 0 ? 2 : 1;
  printf("%s %s median=%.0f", group, row, ns[TRIES / 2] / per);
  if (overhead_ns >= 0) printf(" alone=%.0f", ns[TRIES / 2] / per - overhead_ns);
  printf(" min=%.0f tries=%d per_try=%ld\n", ns[0] / per, TRIES, per_try);
  fflush(stdout);
}

// ---- creating ----

static void *nothing(void *arg) { return arg; }

static void do_thread(void *arg) {
  (void)arg;
  pthread_t t;
  if (pthread_create(&t, NULL, nothing, NULL) != 0) die("pthread_create");
  pthread_join(t, NULL);
}

static void do_fork(void *arg) {
  (void)arg;
  pid_t pid = fork();
  if (pid < 0) die("fork");
  if (pid == 0) _exit(0);
  while (waitpid(pid, NULL, 0) < 0)
    if (errno != EINTR) die("waitpid");
}

static void do_spawn(void *arg) {
  char *path = arg;
  char *argv[] = {path, NULL};
  pid_t pid;
  if (posix_spawn(&pid, path, NULL, NULL, argv, environ) != 0) die("posix_spawn");
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) die("waitpid");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fprintf(stderr, "reference: %s did not exit 0\n", path);
    exit(1);
  }
}

/// A static ELF whose three instructions call exit_group(0), in a memfd; its /proc path.
static char *tiny_program(void) {
#if defined(__x86_64__)
  static const unsigned char code[] = {0xb8, 0xe7, 0, 0, 0, 0x31, 0xff, 0x0f, 0x05};
  const int machine = EM_X86_64;
#elif defined(__aarch64__)
  static const unsigned char code[] = {0, 0, 0x80, 0xd2, 0xc8, 0x0b, 0x80, 0xd2, 1, 0, 0, 0xd4};
  const int machine = EM_AARCH64;
#else
  return NULL;
#endif
  struct tiny {
    Elf64_Ehdr e;
    Elf64_Phdr p;
    unsigned char code[sizeof code];
  } __attribute__((packed)) image;
  memset(&image, 0, sizeof image);
  memcpy(image.e.e_ident, ELFMAG, SELFMAG);
  image.e.e_ident[EI_CLASS] = ELFCLASS64;
  image.e.e_ident[EI_DATA] = ELFDATA2LSB;
  image.e.e_ident[EI_VERSION] = EV_CURRENT;
  image.e.e_type = ET_EXEC;
  image.e.e_machine = machine;
  image.e.e_version = EV_CURRENT;
  image.e.e_entry = 0x400000 + offsetof(struct tiny, code);
  image.e.e_phoff = sizeof image.e;
  image.e.e_ehsize = sizeof image.e;
  image.e.e_phentsize = sizeof image.p;
  image.e.e_phnum = 1;
  image.p.p_type = PT_LOAD;
  image.p.p_flags = PF_R | PF_X;
  image.p.p_vaddr = image.p.p_paddr = 0x400000;
  image.p.p_filesz = image.p.p_memsz = sizeof image;
  image.p.p_align = 0x1000;
  memcpy(image.code, code, sizeof code);
  int fd = memfd_create("reference-tiny", MFD_CLOEXEC);
  if (fd < 0 || write(fd, &image, sizeof image) != (ssize_t)sizeof image) die("memfd");
  static char path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  int ro = open(path, O_RDONLY | O_CLOEXEC);  // execve refuses a file open for writing
  if (ro < 0) die("open");
  close(fd);
  snprintf(path, sizeof path, "/proc/self/fd/%d", ro);
  return path;
}

static void run_cost(void) {
  bench("cost", "thread", do_thread, NULL, -1);
  bench("cost", "fork", do_fork, NULL, -1);
  char *tiny = tiny_program();
  if (tiny) bench("cost", "spawn", do_spawn, tiny, -1);
  if (access("/bin/true", X_OK) == 0) bench("cost", "exec", do_spawn, "/bin/true", -1);
}

// ---- switching (lat_ctx with two tasks) ----

typedef struct {
  int to[2], from[2];
} token_pipes;

static void pass(int in, int out) {
  char c;
  for (;;) {
    ssize_t n = read(in, &c, 1);
    if (n == 1 && c == 'q') return;
    if (n != 1) {
      if (n < 0 && errno == EINTR) continue;
      return;
    }
    if (write(out, &c, 1) != 1) return;
  }
}

static void *passer(void *arg) {
  token_pipes *p = arg;
  pass(p->to[0], p->from[1]);
  return NULL;
}

static void round_trip(void *arg) {
  token_pipes *p = arg;
  char c = 't';
  if (write(p->to[1], &c, 1) != 1 || read(p->from[0], &c, 1) != 1) die("token");
}

static void self_pass(void *arg) {
  token_pipes *p = arg;
  char c = 't';
  if (write(p->to[1], &c, 1) != 1 || read(p->to[0], &c, 1) != 1) die("overhead");
}

static void pin_here(void) {
  cpu_set_t one;
  CPU_ZERO(&one);
  int cpu = sched_getcpu();
  CPU_SET(cpu < 0 ? 0 : cpu, &one);
  if (sched_setaffinity(0, sizeof one, &one) != 0) printf("pinned no errno=%d\n", errno);
  else printf("pinned cpu=%d\n", cpu);
}

static double overhead_ns(void) {
  token_pipes p;
  if (pipe(p.to) != 0) die("pipe");
  // lmbench measures the overhead like any operation: here, one write and one read.
  long per = calibrate(self_pass, &p);
  double ns[TRIES];
  for (int i = 0; i < TRIES; i++) {
    double s = seconds();
    for (long k = 0; k < per; k++) self_pass(&p);
    ns[i] = (seconds() - s) * 1e9 / per;
  }
  qsort(ns, TRIES, sizeof ns[0], compare);
  printf("switch pipe_only median=%.0f min=%.0f tries=%d per_try=%ld\n", ns[TRIES / 2], ns[0], TRIES, per);
  close(p.to[0]);
  close(p.to[1]);
  return ns[TRIES / 2];
}

static void run_switch(void) {
  pin_here();  // partners inherit the pin
  double overhead = overhead_ns();
  token_pipes p;
  if (pipe(p.to) != 0 || pipe(p.from) != 0) die("pipe");
  pthread_t t;
  if (pthread_create(&t, NULL, passer, &p) != 0) die("pthread_create");
  bench("switch", "threads", round_trip, &p, overhead);
  if (write(p.to[1], "q", 1) != 1) die("write");
  pthread_join(t, NULL);
  pid_t pid = fork();
  if (pid < 0) die("fork");
  if (pid == 0) {
    pass(p.to[0], p.from[1]);
    _exit(0);
  }
  bench("switch", "processes", round_trip, &p, overhead);
  if (write(p.to[1], "q", 1) != 1) die("write");
  waitpid(pid, NULL, 0);
}

// ---- a bigger parent ----

static void touch_private(long long bytes) {
  char *p = mmap(NULL, (size_t)bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) die("mmap");
  madvise(p, (size_t)bytes, MADV_NOHUGEPAGE);
  for (long long i = 0; i < bytes; i += 4096) p[i] = 1;
}

static void run_fork_size(int argc, char **argv) {
  char *tiny = tiny_program();
  long long have = 0;
  for (int i = 0; i < argc; i++) {
    long long want = atoll(argv[i]);
    if (want > have) touch_private(want - have), have = want;
    char row[64];
    snprintf(row, sizeof row, "fork@%lld", want);
    bench("size", row, do_fork, NULL, -1);
    snprintf(row, sizeof row, "spawn@%lld", want);
    if (tiny) bench("size", row, do_spawn, tiny, -1);
  }
}

// REFERENCE_BALLAST="MAPPINGS KIB": before measuring, add anonymous private mappings
// (with gaps, so the kernel cannot merge them) until /proc/self/maps has MAPPINGS
// lines, and write to pages in them until KIB of private memory is resident.
static int maps_lines(void) {
  FILE *f = fopen("/proc/self/maps", "r");
  int n = 0, c;
  if (!f) return 0;
  while ((c = getc(f)) != EOF) n += c == '\n';
  fclose(f);
  return n;
}

static void ballast(const char *spec) {
  int maps = 0;
  long kib = 0;
  if (sscanf(spec, "%d %ld", &maps, &kib) != 2 || maps < 0 || kib < 0) {
    fprintf(stderr, "reference: REFERENCE_BALLAST must be \"MAPPINGS KIB\", got '%s'\n", spec);
    exit(2);
  }
  int add = maps - maps_lines();
  if (add < 1) add = 1;
  long pages = kib / 4;
  long per = (pages + add - 1) / add;
  if (per < 1) per = 1;
  size_t chunk = (size_t)per * 4096;
  char *room = mmap(NULL, chunk * 2 * (size_t)add, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (room == MAP_FAILED) die("mmap");
  munmap(room, chunk * 2 * (size_t)add);
  for (int i = 0; i < add; i++) {
    char *p = mmap(room + (size_t)i * 2 * chunk, chunk, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (p == MAP_FAILED) die("mmap");
    for (long k = 0; k < per && pages > 0; k++, pages--) p[k * 4096] = 1;
  }
  fprintf(stderr, "reference: ballast: %d mappings\n", maps_lines());
}

int main(int argc, char **argv) {
  signal(SIGPIPE, SIG_IGN);
  if (getenv("REFERENCE_QUICK")) warmup_s /= 10, try_s /= 10;
  const char *spec = getenv("REFERENCE_BALLAST");
  if (spec && *spec) ballast(spec);
  if (argc >= 2 && strcmp(argv[1], "cost") == 0) run_cost();
  else if (argc >= 2 && strcmp(argv[1], "switch") == 0) run_switch();
  else if (argc >= 3 && strcmp(argv[1], "fork-size") == 0) run_fork_size(argc - 2, argv + 2);
  else {
    fprintf(stderr, "usage: %s cost | switch | fork-size BYTES...\n", argv[0]);
    return 2;
  }
  return 0;
}
