// pipeline: echo one two three | wc -w, with pipe, fork, dup2 and execlp.
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
  // TODO: pipe(fds).
  // TODO: first child: dup2(fds[1], 1), close both ends, execlp("echo", "echo", "one", "two", "three", NULL).
  // TODO: second child: dup2(fds[0], 0), close both ends, execlp("wc", "wc", "-w", NULL).
  // TODO: parent: close both ends, waitpid for both children.
  printf("no pipeline yet\n");
  return 0;
}
