#ifndef CLAB_IPC_H
#define CLAB_IPC_H

#include <limits.h>
#include <mqueue.h>
#include <semaphore.h>
#include <stdint.h>
#include <sys/types.h>

// The C side of the IPC and signal experiments: only what runs in a forked
// child between fork() and _exit(), plus the counting loop whose machine code
// is the lesson. Everything the shell does (setup, timing, checksums of what it
// sent, unlinking, tracing) is Swift in OS/IPC*.swift.
//
// Every experiment forks the same way, through clab_ipc_fork with one of the
// clab_child_* bodies below: a new body needs no glue of its own.

/// The body of a forked child: only async-signal-safe calls, ends in _exit.
typedef void (*clab_child_body)(const void *args);

/// fork(). The child resets every signal disposition to the default and
/// unblocks every signal (the shell's handlers and ignores are not its own),
/// asks for SIGKILL when the shell dies (PR_SET_PDEATHSIG; it leaves at once if
/// the shell is already gone), closes `close_fds[0..<close_count]` (the shell's
/// ends it must not hold), then runs body(args) and _exit(127) if that returns.
/// Returns the child's PID in the parent, or -1 with errno set.
pid_t clab_ipc_fork(clab_child_body body, const void *args, const int *close_fds, int close_count);

// ---- calls Swift cannot reach (variadic, or macros) ----

/// mq_open(name, oflag, mode, {maxmsg, msgsize}): mq_open is variadic.
mqd_t clab_mq_open(const char *name, int oflag, unsigned mode, long maxmsg, long msgsize);
enum { CLAB_PIPE_BUF = PIPE_BUF };

// ---- byte transfers (pipe, socketpair, FIFO, shared memory, message queue) ----

enum { CLAB_CHANNEL_DESCRIPTORS = 0, CLAB_CHANNEL_QUEUES = 1, CLAB_CHANNEL_SHARED = 2 };
enum { CLAB_SHM_SLOT_BYTES = 65536 };

/// One direction of a shared-memory channel: a slot of CLAB_SHM_SLOT_BYTES at
/// `data_offset` from the start of the region, guarded by two process-shared
/// semaphores (full: a message waits in it; empty: the slot is free).
typedef struct {
  sem_t full, empty;
  long long length;
  long long data_offset;
} clab_shm_slot;

/// The start of a shared-memory channel's region; the slots' data follows.
typedef struct {
  clab_shm_slot to_child, to_parent;
} clab_shm_channel;

/// What the transfer child uses: descriptors (or queues), or FIFO paths it opens
/// by name (send_path first), or the shared region.
typedef struct {
  int kind;
  int receive_fd, send_fd;
  const char *receive_path, *send_path;
  clab_shm_channel *shared;
  long long rounds, message, bytes;
} clab_transfer_args;

/// The transfer child's answer after the bulk phase.
typedef struct {
  long long received, reads;
  unsigned long long checksum;
} clab_transfer_answer;

/// Echoes `rounds` messages of `message` bytes, then receives `bytes`, counting
/// reads and checksumming them (the same checksum as IPCChecksum in Swift), and
/// sends a clab_transfer_answer.
void clab_child_transfer(const void *args);

/// Socket message boundaries: waits for a byte on go_fd, then recv()s until
/// `total` bytes came (at most 16 reads) and sends back {reads, sizes...} as ints.
typedef struct {
  int socket_fd, go_fd, total;
} clab_boundaries_args;
void clab_child_boundaries(const void *args);

/// A pipe's reader: waits for a byte on go_fd, sleeps delay_ns, reads read_fd to
/// end of file, and reports three long longs {bytes, reads, saw_eof} on report_fd.
typedef struct {
  int read_fd, go_fd, report_fd;
  long long delay_ns;
} clab_pipe_reader_args;
void clab_child_pipe_reader(const void *args);

/// A pipeline stage as a shell makes it: dup2(stdin_fd, 0) and dup2(stdout_fd, 1)
/// (-1: leave it), close the originals. The writer waits for a byte on go_fd
/// and writes `lines` lines to its stdout; the reader counts lines and bytes on
/// its stdin until end of file and writes three long longs {lines, bytes, 1} to its stdout.
typedef struct {
  int stdin_fd, stdout_fd, go_fd;
  long long lines;
} clab_pipeline_args;
void clab_child_pipeline_writer(const void *args);
void clab_child_pipeline_reader(const void *args);

/// One of two writers into one pipe: waits for a byte on go_fd, then writes
/// `records` records of `record` bytes of `letter`, each with one write() call.
typedef struct {
  int fd, go_fd;
  int letter;
  long long record, records;
} clab_record_writer_args;
void clab_child_record_writer(const void *args);

/// A message queue sender: mq_send of "message N, priority P" for each priority.
typedef struct {
  mqd_t queue;
  int count;
  int priorities[8];
} clab_mq_sender_args;
void clab_child_mq_sender(const void *args);

// ---- shared memory ----

/// The region `shm` maps in both processes.
typedef struct {
  volatile unsigned long long counter;
  volatile int arrived;             // the counting sides meet here before counting
  volatile int parent_wrote, child_wrote;
  volatile int64_t started[2], ended[2];  // when each side counted: 0 the shell, 1 the child
  sem_t lock;
  char parent_message[64], child_message[64];
} clab_shm_region;

enum { CLAB_COUNT_NONE = 0, CLAB_COUNT_RACY = 1, CLAB_COUNT_SEMAPHORE = 2 };

/// What the shm child does: unmaps the mapping it inherited from the shell,
/// opens `path` (/dev/shm/NAME) by name and maps it twice (two addresses for one
/// page), reports a clab_shm_report, looks for the shell's message, writes its
/// own, and on 'c' counts with the shell.
typedef struct {
  const char *path;
  void *inherited;
  int private_mapping, counter_mode;
  long long iterations;
  int control_fd, report_fd;
} clab_shm_args;

typedef struct {
  unsigned long address, second_address;
  long long seen, waited_ns, second_saw;
  char text[64];
} clab_shm_report;
void clab_child_shm(const void *args);

/// The counting loop both processes run on the shared counter, after meeting
/// at `arrived`: a volatile load, add and store (racy), or the same under the
/// process-shared semaphore. `side` 0 is the shell, which stops on Ctrl-C
/// (returns -2) and never waits for the semaphore longer than 50 ms at a time.
int clab_shm_count(clab_shm_region *region, int mode, long long iterations, int side);

// ---- signals ----

/// A child with one disposition for `signal` (0 default, 1 handler, 2 SIG_IGN,
/// 3 blocked): reports {rc, errno} of its sigaction/sigprocmask, then obeys
/// control bytes: 'u' unblock and report "U", 'q' report "A" and _exit(0).
/// Its handler reports {'H', signal}.
typedef struct {
  int signal, disposition, control_fd, report_fd;
} clab_signal_args;
void clab_child_signal(const void *args);

/// A parent of its own: blocks SIGCHLD, forks a grandchild that exits 7, takes
/// the SIGCHLD with sigtimedwait and reports six long longs {grandchild,
/// received, si_pid, si_code, si_status, waited_ns}.
typedef struct {
  int report_fd;
} clab_sigchld_args;
void clab_child_sigchld(const void *args);

/// Blocks `standard` and `realtime`, reports 'R', waits for 'u', unblocks both
/// and reports a clab_merge_report of what its SA_SIGINFO handlers saw.
typedef struct {
  int standard, realtime, control_fd, report_fd;
} clab_merge_args;
typedef struct {
  int standard_delivered, realtime_delivered;
  int realtime_values[64];
} clab_merge_report;
void clab_child_signal_merge(const void *args);

/// Three threads (main and two workers) in one process. mode 0: nobody blocks
/// `signal`; 1: the main thread blocks it; 2: every thread blocks it and worker
/// 2 takes it with sigwait. Reports three ints {main, worker 1, worker 2} TIDs,
/// then one int per signal received: the TID that took it. 'q' ends it.
typedef struct {
  int signal, mode, control_fd, report_fd;
} clab_signal_threads_args;
void clab_child_signal_threads(const void *args);

/// Writes one byte into a pipe whose read end is closed everywhere, once told
/// to on control_fd: with SIGPIPE at its default it dies of it; with `ignore`
/// write() fails and it reports two ints {rc, errno}.
typedef struct {
  int write_fd, control_fd, report_fd, ignore;
} clab_sigpipe_args;
void clab_child_sigpipe(const void *args);

/// A parent of `children` children that _exit(0) at once, with SIGCHLD at its
/// default or at SIG_IGN: reports their PIDs (ints), then on 'w' reports two
/// ints {how many waitpid(-1) reaped, errno of the call that ended the loop}.
typedef struct {
  int children, ignore, control_fd, report_fd;
} clab_autoreap_args;
void clab_child_autoreap(const void *args);

#endif
