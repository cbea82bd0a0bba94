// Fork-heavy: 2000 children, each _exit(0) at once, each reaped by waitpid.
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 2000;
  for (int i = 0; i < n; i++) {
    pid_t pid = fork();
    if (pid == 0) _exit(0);
    if (pid < 0) return 1;
    waitpid(pid, NULL, 0);
  }
  return 0;
}
