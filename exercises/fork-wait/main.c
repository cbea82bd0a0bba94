// fork-wait: create 3 children with fork(); child i exits with status i;
// the parent reaps each one with waitpid and prints its status.
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
  // TODO: for i in 0, 1, 2: fork(); in the child print "child i: pid P" and exit(i).
  // TODO: in the parent, waitpid for each child and print "child P exited with status S".
  printf("nothing forked yet\n");
  return 0;
}
