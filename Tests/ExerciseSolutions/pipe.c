#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
  int fds[2];
  if (pipe(fds) != 0) { perror("pipe"); return 1; }
  pid_t pid = fork();
  if (pid < 0) { perror("fork"); return 1; }
  if (pid == 0) {
    close(fds[0]);
    const char *message = "hello through the pipe\n";
    if (write(fds[1], message, strlen(message)) < 0) _exit(1);
    close(fds[1]);
    _exit(0);
  }
  close(fds[1]);
  char buffer[256];
  size_t total = 0;
  ssize_t n;
  while ((n = read(fds[0], buffer + total, sizeof buffer - 1 - total)) > 0) total += (size_t)n;
  buffer[total] = 0;
  close(fds[0]);
  printf("parent read: %s", buffer);
  waitpid(pid, NULL, 0);
  return 0;
}
