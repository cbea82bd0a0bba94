#ifndef CLAB_IPC_H
#define CLAB_IPC_H

#include <sys/types.h>
#include <stdint.h>

// Inter-process communication experiments. Each function forks a child that
// does only async-signal-safe work (read, write, sem_post, mq_send, _exit),
// measures in the parent, and always kills and reaps the child, closes every
// descriptor and unlinks every name before it returns.
// Return value: 0 done, -1 a call failed (failed_call/failed_errno), -2 Ctrl-C.

enum {
  CLAB_IPC_PIPE = 0,
  CLAB_IPC_STREAM = 1,
  CLAB_IPC_DGRAM = 2,
  CLAB_IPC_FIFO = 3,
  CLAB_IPC_SHM = 4,
  CLAB_IPC_MQ = 5,
};

/// A round-trip + bulk transfer between parent and child over one mechanism.
typedef struct {
  // request
  int kind;
  long long bytes;      // bulk bytes parent -> child
  int rounds;           // round trips of `message` bytes
  int message;          // bytes per round trip
  const char *name;     // FIFO directory, shm or mq name (with leading '/')
  // descriptors (or -1): parent's send/receive ends, child's receive/send ends
  int parent_send_fd, parent_recv_fd, child_recv_fd, child_send_fd;
  pid_t child;
  int chunk;                         // bytes per send in the bulk phase
  long long sent, child_received, child_reads;
  unsigned long long sent_checksum, child_checksum;
  int echo_mismatches;
  long long rtt_total_ns, rtt_min_ns, rtt_max_ns;
  long long bulk_ns;
  int names_left;                    // names still present after cleanup (should be 0)
  int status;                        // wait status of the child
  const char *failed_call;
  int failed_errno;
} clab_ipc_transfer;

int clab_ipc_transfer_run(clab_ipc_transfer *t);

/// Three messages sent quickly over a socketpair, read by the child only after all were sent.
typedef struct {
  int datagram;
  int sizes[3];
  int parent_fd, child_fd;
  pid_t child;
  int reads;                 // how many reads the child needed
  int read_sizes[16];
  int answer_bytes;          // bytes of the child's answer the parent read (other direction)
  int status;
  const char *failed_call;
  int failed_errno;
} clab_ipc_boundaries;

int clab_ipc_boundaries_run(clab_ipc_boundaries *b);

/// Filling a pipe nobody reads, then a reader draining it to end of file.
typedef struct {
  long long delay_ns;            // how long the reader waits before draining
  int read_fd, write_fd;
  pid_t child;
  int capacity_fcntl;            // F_GETPIPE_SZ
  long long filled;              // bytes written before EAGAIN
  int write_calls;
  int eagain_errno;              // errno of the refused write (EAGAIN)
  long long blocked_ns;          // how long a blocking write stalled once the pipe was full
  long long blocked_bytes;
  long long child_total;         // bytes the reader got before EOF
  int child_reads;
  int child_eof;                 // the reader saw read() return 0
  int status;
  const char *failed_call;
  int failed_errno;
} clab_ipc_pipe_fill;

int clab_ipc_pipe_fill_run(clab_ipc_pipe_fill *f);

/// shm_open + mmap between parent and child; optional shared counter race.
typedef struct {
  const char *name;
  int private_mapping;           // MAP_PRIVATE instead of MAP_SHARED
  int counter_mode;              // 0 none, 1 unsynchronised, 2 process-shared semaphore
  long long iterations;          // per process
  pid_t child;
  unsigned long parent_address, child_address;
  int listed_before_unlink, listed_after_unlink;
  int child_saw_parent;          // the child read the parent's message
  long long child_saw_ns;        // how long until it saw it
  int parent_saw_child;
  long long parent_saw_ns;
  char child_read[64];           // what the child read at the message's place
  unsigned long long counter;
  long long counter_ns;
  int names_left;
  int status;
  const char *failed_call;
  int failed_errno;
} clab_ipc_shm;

int clab_ipc_shm_run(clab_ipc_shm *s);

/// A child with a disposition for one signal, the signal sent, and what happened.
typedef struct {
  int signal;
  int disposition;               // 0 default, 1 handler, 2 ignore, 3 block
  pid_t child;
  int sigaction_rc, sigaction_errno;
  unsigned long long blocked_mask;    // SigBlk after the child set itself up
  int handler_ran;               // the child's handler reported the signal
  int after_send;                // 0 alive, 1 terminated, 2 stopped
  int status_after_send;         // wait status when terminated/stopped
  unsigned long long sigpnd, shdpnd;  // pending masks (block)
  int after_unblock;             // block: 0 alive, 1 terminated, 2 handler
  int answered;                  // the child still answered afterwards
  int continued;                 // SIGCONT was sent to a stopped child
  int status;                    // final wait status
  const char *failed_call;
  int failed_errno;
} clab_ipc_signal;

int clab_ipc_signal_run(clab_ipc_signal *s);

/// A child acting as a parent: blocks SIGCHLD, forks a grandchild that exits 7,
/// and takes the SIGCHLD with sigtimedwait.
typedef struct {
  pid_t middle, grandchild;
  int received;                 // SIGCHLD taken
  int sender_pid, code, exit_status;
  long long wait_ns;
  int status;
  const char *failed_call;
  int failed_errno;
} clab_ipc_sigchld;

int clab_ipc_sigchld_run(clab_ipc_sigchld *c);

/// A POSIX message queue: a child sends messages with priorities, the parent receives them.
typedef struct {
  const char *name;
  int count;
  int priorities[8];             // in the order sent
  pid_t child;
  long queued;                   // mq_curmsgs after the child ended
  int received_priorities[8];
  char received_text[8][32];
  int received;
  int names_left;
  int status;
  const char *failed_call;
  int failed_errno;
} clab_ipc_mq;

int clab_ipc_mq_run(clab_ipc_mq *m);

/// Whether a POSIX message queue of this name exists (mq_open O_RDONLY succeeds), 0 if not (errno set).
int clab_ipc_queue_exists(const char *name);

/// F_GETPIPE_SZ of a fresh pipe (what the kernel gives a new pipe), or -1.
int clab_ipc_default_pipe_size(void);

/// One call the parent side of an experiment made, for `set trace on` (repeated calls folded into one entry).
typedef struct {
  char name[24];
  char args[120];
  long long result;   // the call's return value (or a byte total for folded calls)
  int err;            // errno when result < 0
  long long ns;
} clab_ipc_call;

/// Turns the call log on (and clears it) or off.
void clab_ipc_trace_enable(int on);
/// Copies the calls logged since the last take (at most max) and clears the log.
int clab_ipc_take_calls(clab_ipc_call *out, int max);

#endif
