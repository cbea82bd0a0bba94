// proclab-forker: the small C process behind `cost`'s "fork of a small process" row.
//
// fork's price depends on the parent: the kernel copies the parent's memory map
// (its mappings and page tables). proclab is a big parent (the Swift runtime,
// Foundation, readline); this helper is a small one, about as big as any small C
// program. It times fork + _exit + waitpid with the SAME CLab function proclab uses
// for "fork of this shell" (clab_cost_fork_child in Sources/CLab/measure.c), so the
// two rows differ only in the parent.
//
//   proclab-forker          serve: first a line describing this process, then for
//                           every line "K" read on stdin, K samples, one per line;
//                           end of file on stdin ends it (exit 0)
//   proclab-forker K        the description line, K samples, then exit
//
// Lines written (nanoseconds; the child's PID, distinct for every sample):
//   forker pid=1234 mappings=31 rss_bytes=1966080
//   sample ns=180230 child=1240
//   error errno=11 fork: Resource temporarily unavailable
//
// Only the parent runs C library code; every child calls _exit(0) at once.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "clab_measure.h"

// swiftc links every SwiftPM product, C ones too, with swiftrt.o, whose start-up code
// registers the image with the Swift runtime. This program has no Swift in it: these two
// do-nothing definitions satisfy swiftrt.o, so that with -static-stdlib (Package.swift) the
// linker takes nothing from the static Swift runtime and this stays a C process of about the
// size of Benchmarks/reference.c (libc, plus libstdc++ and libm, which swiftc always names).
void swift_addNewDSOImage(const void *header) { (void)header; }
int _swift_backtrace_isThunkFunction(const char *name) {
  (void)name;
  return 0;
}

/// The number of lines of /proc/self/maps: one per mapping (VMA) fork copies.
static int mapping_count(void) {
  FILE *f = fopen("/proc/self/maps", "r");
  if (!f) return -1;
  int lines = 0, c;
  while ((c = getc(f)) != EOF)
    if (c == '\n') lines++;
  fclose(f);
  return lines;
}

/// VmRSS from /proc/self/status, in bytes (-1 if unreadable).
static long resident_bytes(void) {
  FILE *f = fopen("/proc/self/status", "r");
  if (!f) return -1;
  char line[256];
  long kib = -1;
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, "VmRSS:", 6) == 0) {
      kib = strtol(line + 6, NULL, 10);
      break;
    }
  }
  fclose(f);
  return kib < 0 ? -1 : kib * 1024;
}

static void describe(void) {
  printf("forker pid=%d mappings=%d rss_bytes=%ld\n", (int)getpid(), mapping_count(), resident_bytes());
  fflush(stdout);
}

/// K samples, one line each; stops at the first failure (an "error" line).
static int samples(long k) {
  for (long i = 0; i < k; i++) {
    pid_t child = 0;
    int64_t ns = clab_cost_fork_child(&child);
    if (ns < 0) {
      int e = (int)-ns;
      printf("error errno=%d fork: %s\n", e, strerror(e));
      fflush(stdout);
      return 1;
    }
    printf("sample ns=%lld child=%d\n", (long long)ns, (int)child);
  }
  fflush(stdout);
  return 0;
}

static long parse_count(const char *text) {
  char *end;
  errno = 0;
  long k = strtol(text, &end, 10);
  while (*end == ' ' || *end == '\n' || *end == '\r') end++;
  if (errno || *end || k < 0 || k > 1000000) return -1;
  return k;
}

int main(int argc, char **argv) {
  if (argc > 2) {
    fprintf(stderr, "usage: proclab-forker [SAMPLES]\n");
    return 2;
  }
  if (argc == 2) {
    long k = parse_count(argv[1]);
    if (k < 0) {
      fprintf(stderr, "proclab-forker: SAMPLES must be 0…1000000, got '%s'\n", argv[1]);
      return 2;
    }
    describe();
    return samples(k);
  }
  describe();
  char line[64];
  while (fgets(line, sizeof line, stdin)) {
    long k = parse_count(line);
    if (k < 0) {
      printf("error errno=%d bad request: %s", EINVAL, line);
      fflush(stdout);
      continue;
    }
    if (samples(k) != 0) return 1;
  }
  return 0;
}
