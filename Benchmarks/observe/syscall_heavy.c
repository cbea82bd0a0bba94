// Syscall-heavy: 200000 small writes to /dev/null and 200000 getppid calls.
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 200000;
  int fd = open("/dev/null", O_WRONLY);
  for (int i = 0; i < n; i++) {
    if (write(fd, "x", 1) != 1) return 1;
    (void)getppid();
  }
  close(fd);
  return 0;
}
