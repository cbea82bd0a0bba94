// sigint: catch SIGINT with sigaction, set a flag, leave the wait loop and exit cleanly.
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stop = 0;

// TODO: a handler: static void on_interrupt(int sig) { stop = 1; }

int main(void) {
  // TODO: struct sigaction sa; memset, sa.sa_handler = on_interrupt; sigaction(SIGINT, &sa, NULL);
  printf("waiting\n");
  fflush(stdout);
  while (!stop) pause();
  printf("clean exit\n");
  return 0;
}
