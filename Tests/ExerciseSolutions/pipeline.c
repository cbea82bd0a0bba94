#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
  int fds[2];
  if (pipe(fds) != 0) { perror("pipe"); return 1; }
  pid_t writer = fork();
  if (writer == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    close(fds[1]);
    execlp("echo", "echo", "one", "two", "three", (char *)NULL);
    perror("execlp echo");
    _exit(127);
  }
  pid_t reader = fork();
  if (reader == 0) {
    dup2(fds[0], 0);
    close(fds[0]);
    close(fds[1]);
    execlp("wc", "wc", "-w", (char *)NULL);
    perror("execlp wc");
    _exit(127);
  }
  close(fds[0]);
  close(fds[1]);
  waitpid(writer, NULL, 0);
  waitpid(reader, NULL, 0);
  return 0;
}
