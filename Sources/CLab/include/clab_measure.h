#ifndef CLAB_MEASURE_H
#define CLAB_MEASURE_H

// Timing loops for `cost` and `switch`. The timed work is plain C so that the
// Swift layer adds nothing between the two clock readings; Benchmarks/reference.c
// measures the same operations the same way in an independent C program.

#include <stdint.h>
#include <sys/types.h>

// ---- cost: one sample of creating and finishing ----
// Each returns the elapsed nanoseconds (CLOCK_MONOTONIC) from just before the
// creation to just after the finish was observed, or -errno on failure.

/// pthread_create(an empty start routine) + pthread_join.
int64_t clab_cost_thread(void);
/// fork(); the child calls _exit(0) at once; the parent waitpid()s for it.
int64_t clab_cost_fork(void);
/// The same, also giving the child's PID in *child (set after the second clock
/// reading). proclab-forker, the small C helper behind `cost`'s "fork of a small
/// process" row, times its samples with this.
int64_t clab_cost_fork_child(pid_t *child);
/// posix_spawn(path, {path, NULL}, environ) with no attributes + waitpid.
/// Also records the child's exit code in *exit_code (or -1).
int64_t clab_cost_spawn(const char *path, int *exit_code);

/// Creates an anonymous in-memory file (memfd_create) holding the smallest
/// static program for this machine: an ELF header, one program header and
/// three instructions that call exit_group(0). Returns the descriptor (close
/// it when done) and its size in *size, or -errno (-ENOEXEC if this machine's
/// architecture has no tiny program).
int clab_tiny_program_create(int *size);

// ---- switch: ping-pong over two pipes ----

enum { CLAB_SWITCH_NONE = 0, CLAB_SWITCH_THREADS = 1, CLAB_SWITCH_PROCESSES = 2 };

/// Pins the calling thread to the CPU it is running on (sched_setaffinity);
/// returns an opaque saved mask for clab_unpin, or NULL when pinning failed
/// (then *cpu is -errno). Threads and processes it creates while pinned inherit the pin.
void *clab_pin_here(int *cpu);
/// Restores the affinity saved by clab_pin_here and frees it.
void clab_unpin(void *saved);

typedef struct clab_switch_pair clab_switch_pair;

/// Starts a partner that answers every byte it reads on one pipe with a byte
/// on another: a thread of this process (CLAB_SWITCH_THREADS), a forked child
/// that only reads, writes and _exits (CLAB_SWITCH_PROCESSES), or nobody
/// (CLAB_SWITCH_NONE: the caller writes and reads the same pipe itself, the
/// cost of the pipe calls without a switch). NULL with *error = errno on failure.
clab_switch_pair *clab_switch_open(int kind, int pin_cpu, int *error);
/// The partner's thread ID or process ID (0 for CLAB_SWITCH_NONE).
int clab_switch_partner(const clab_switch_pair *pair);
/// Runs `round_trips` ping-pongs; returns the elapsed nanoseconds, or -errno.
/// *voluntary and *involuntary get the caller's context switches during the
/// batch (getrusage RUSAGE_THREAD): voluntary when it slept in read, involuntary
/// when the partner it woke took the CPU from it at once.
int64_t clab_switch_batch(clab_switch_pair *pair, int round_trips, long *voluntary, long *involuntary);
/// Stops the partner (a 'q' byte, then end of file), joins or reaps it, closes
/// the pipes and frees the pair. The partner's own voluntary and involuntary
/// switches over its whole life go to *voluntary and *involuntary.
/// Returns 0, or -errno if the partner could not be reaped cleanly.
int clab_switch_close(clab_switch_pair *pair, long *voluntary, long *involuntary);

#endif
