#ifndef CLAB_MEASURE_H
#define CLAB_MEASURE_H

// The timed loops of `cost` and `switch`, and the children they time. The loops
// are plain C so that nothing runs between the two clock readings but the work;
// Swift chooses what to time next, in what order, and does the statistics.
// Benchmarks/reference.c is an independent program that measures the same
// operations its own way (lmbench's).

#include <stdint.h>
#include <sys/types.h>

enum { CLAB_COST_THREAD = 0, CLAB_COST_FORK = 1, CLAB_COST_SPAWN = 2 };

/// Times `count` samples of one kind back to back (a warm loop). A sample is
/// CLOCK_MONOTONIC from just before pthread_create, fork or posix_spawn to just
/// after pthread_join or waitpid returned: an empty start routine; a child that
/// calls _exit(0) at once; posix_spawn(path, {path}, environ) with no attributes.
/// out[i] gets each sample's nanoseconds; children[i] (if not NULL) the child's PID, or for a
/// thread 1 when it ran on another CPU than the one its creator was on just before creating it.
/// Returns `count`, or -errno at the first failure (-ENOEXEC: the spawned
/// program did not exit 0; -EINTR: Ctrl-C was pressed, checked between samples).
int clab_cost_loop(int kind, const char *path, int count, int64_t *out, int32_t *children);

/// The partner of a context-switch ping-pong: reads a byte from `in`, sums its
/// own `working_set` bytes (one load per cache line), writes the byte back on
/// `out`, until it reads 'q' or end of file. Run by a thread, or by a forked child
/// (clab_child_switch_partner). Returns its own voluntary and involuntary switches.
void clab_switch_answer(int in, int out, long long working_set, long *voluntary, long *involuntary);

typedef struct {
  int in, out;
  long long working_set;
} clab_switch_partner_args;
/// A forked partner: clab_switch_answer, then _exit(0).
void clab_child_switch_partner(const void *args);

/// `round_trips` ping-pongs: write a byte on `out`, sum the caller's working set,
/// read the answer from `in`. With `in` the read end of the pipe `out` writes to,
/// nobody answers: the same calls without a switch (one write, one sum, one read
/// per round trip). Returns nanoseconds, or -errno; the calling
/// thread's voluntary and involuntary switches meanwhile go to *voluntary, *involuntary.
int64_t clab_switch_batch(int out, int in, int round_trips, long long working_set, long *voluntary,
                          long *involuntary);

#endif
