// pipe: the child writes "hello through the pipe\n" into a pipe; the parent
// reads until end of file, prints it, and reaps the child.
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
  // TODO: int fds[2]; pipe(fds);
  // TODO: fork(). Child: close the read end, write the message, exit.
  // TODO: parent: close the write end, read until read() returns 0, print, waitpid.
  printf("no pipe yet\n");
  return 0;
}
