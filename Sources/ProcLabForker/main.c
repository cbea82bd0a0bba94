// proclab-forker: the small C process behind `cost`'s "fork of a small process"
// row and behind `cost --parent-size`.
//
// fork's price depends on the parent: the kernel copies the parent's memory map
// (its mappings, and the page-table entries of its private resident pages).
// proclab is a big parent (the Swift runtime, readline); this helper is a small
// one, about as big as any small C program, and it can grow on request. It times
// with the SAME C loop proclab uses for its own rows (clab_cost_loop in
// Sources/CLab/measure.c), so the rows differ only in the parent.
//
//   proclab-forker        serve: a line describing this process, then one
//                         command per line on stdin (end of file ends it):
//     fork K              K samples of fork + _exit + waitpid
//     spawn K             K samples of posix_spawn(/proc/self/fd/3) + waitpid
//                         (fd 3: a program given at start, e.g. the tiny one)
//     grow BYTES          BYTES more private memory, every page touched, in
//                         4 KiB pages (MADV_NOHUGEPAGE)
//     map BYTES           BYTES mapped but never touched (replaces the last such)
//     unmap               removes the untouched mapping
//   proclab-forker K      the description line, K fork samples, then exit
//
// Lines written (nanoseconds; the child's PID):
//   forker pid=1234 mappings=31 rss_bytes=1966080 anon_bytes=180224
//   sample ns=180230 child=1240
//   done mappings=32 rss_bytes=3014656 anon_bytes=1228800
//   error errno=11 fork: Resource temporarily unavailable
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <unistd.h>

#include "clab_measure.h"

// swiftc links every SwiftPM product, C ones too, with swiftrt.o, whose start-up code
// registers the image with the Swift runtime. This program has no Swift in it: these two
// do-nothing definitions satisfy swiftrt.o, so that with -static-stdlib (Package.swift) the
// linker takes nothing from the static Swift runtime and this stays a small C process.
void swift_addNewDSOImage(const void *header) { (void)header; }
int _swift_backtrace_isThunkFunction(const char *name) {
  (void)name;
  return 0;
}

static int mapping_count(void) {
  FILE *f = fopen("/proc/self/maps", "r");
  if (!f) return -1;
  int lines = 0, c;
  while ((c = getc(f)) != EOF)
    if (c == '\n') lines++;
  fclose(f);
  return lines;
}

/// A field of /proc/self/status in bytes (VmRSS, RssAnon), -1 if unreadable.
static long status_bytes(const char *field) {
  FILE *f = fopen("/proc/self/status", "r");
  if (!f) return -1;
  char line[256];
  long kib = -1;
  size_t n = strlen(field);
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, field, n) == 0 && line[n] == ':') {
      kib = strtol(line + n + 1, NULL, 10);
      break;
    }
  }
  fclose(f);
  return kib < 0 ? -1 : kib * 1024;
}

static void describe(const char *word) {
  printf("%s pid=%d mappings=%d rss_bytes=%ld anon_bytes=%ld\n", word, (int)getpid(), mapping_count(),
         status_bytes("VmRSS"), status_bytes("RssAnon"));
  fflush(stdout);
}

static int fail(int e, const char *what) {
  printf("error errno=%d %s: %s\n", e, what, strerror(e));
  fflush(stdout);
  return 1;
}

/// K samples of one kind, one line each.
static int samples(int kind, long k) {
  int64_t ns[64];
  int32_t child[64];
  while (k > 0) {
    int n = k > 64 ? 64 : (int)k;
    int rc = clab_cost_loop(kind, "/proc/self/fd/3", n, ns, child);
    if (rc < 0) return fail(-rc, kind == CLAB_COST_FORK ? "fork" : "posix_spawn");
    for (int i = 0; i < n; i++) printf("sample ns=%lld child=%d\n", (long long)ns[i], (int)child[i]);
    k -= n;
  }
  return 0;
}

static void *untouched;
static size_t untouched_size;

static int grow(long long bytes) {
  void *p = mmap(NULL, (size_t)bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return fail(errno, "mmap");
  madvise(p, (size_t)bytes, MADV_NOHUGEPAGE);
  long page = sysconf(_SC_PAGESIZE);
  for (long long i = 0; i < bytes; i += page) ((volatile char *)p)[i] = 1;
  return 0;
}

static int map_untouched(long long bytes) {
  if (untouched) munmap(untouched, untouched_size);
  untouched = NULL;
  if (bytes <= 0) return 0;
  void *p = mmap(NULL, (size_t)bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return fail(errno, "mmap");
  untouched = p;
  untouched_size = (size_t)bytes;
  return 0;
}

static long long parse_number(const char *text) {
  char *end;
  errno = 0;
  long long k = strtoll(text, &end, 10);
  while (*end == ' ' || *end == '\n' || *end == '\r') end++;
  if (errno || *end || k < 0 || k > (1LL << 40)) return -1;
  return k;
}

int main(int argc, char **argv) {
  // Die with proclab, which talks to this process over its stdin.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (argc > 2) {
    fprintf(stderr, "usage: proclab-forker [SAMPLES]\n");
    return 2;
  }
  if (argc == 2) {
    long long k = parse_number(argv[1]);
    if (k < 0 || k > 1000000) {
      fprintf(stderr, "proclab-forker: SAMPLES must be 0…1000000, got '%s'\n", argv[1]);
      return 2;
    }
    describe("forker");
    int rc = samples(CLAB_COST_FORK, k);
    fflush(stdout);
    return rc;
  }
  describe("forker");
  char line[128];
  while (fgets(line, sizeof line, stdin)) {
    char word[16] = "";
    int used = 0;
    sscanf(line, "%15s %n", word, &used);
    long long n = used > 0 && line[used] ? parse_number(line + used) : 0;
    int rc = 0;
    if (n < 0) rc = fail(EINVAL, "bad number");
    else if (strcmp(word, "fork") == 0) rc = samples(CLAB_COST_FORK, n);
    else if (strcmp(word, "spawn") == 0) rc = samples(CLAB_COST_SPAWN, n);
    else if (strcmp(word, "grow") == 0) rc = grow(n);
    else if (strcmp(word, "map") == 0) rc = map_untouched(n);
    else if (strcmp(word, "unmap") == 0) rc = map_untouched(0);
    else rc = fail(EINVAL, "unknown command");
    if (rc == 0) describe("done");
  }
  return 0;
}
