#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
  pid_t children[3];
  for (int i = 0; i < 3; i++) {
    pid_t pid = fork();
    if (pid < 0) { perror("fork"); return 1; }
    if (pid == 0) {
      printf("child %d: pid %d\n", i, (int)getpid());
      exit(i);
    }
    children[i] = pid;
  }
  for (int i = 0; i < 3; i++) {
    int status;
    if (waitpid(children[i], &status, 0) < 0) { perror("waitpid"); return 1; }
    if (WIFEXITED(status)) printf("child %d exited with status %d\n", (int)children[i], WEXITSTATUS(status));
  }
  return 0;
}
