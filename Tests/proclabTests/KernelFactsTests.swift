import Foundation
import Glibc
import ProcLabKit
import TestSupport
import XCTest

/// General claims proclab's explanations make, shown on this machine with small C programs
/// that share no code with proclab (each sentence names the test that shows it).
final class KernelFactsTests: XCTestCase {
  func build(_ name: String, _ source: String) throws -> String {
    do { return try CPrograms.build(name, source) } catch let u as CPrograms.Unavailable {
      throw XCTSkip(u.reason)
    }
  }

  /// `signal --no-reader`, lesson 12: the kernel sends SIGPIPE and fails the write with EPIPE; a
  /// writer that blocks or handles SIGPIPE survives to see the EPIPE (not only one that ignores it).
  func testAWriterThatBlocksOrHandlesSigpipeSeesEpipe() throws {
    let path = try build(
      "sigpipe",
      """
      #include <errno.h>
      #include <signal.h>
      #include <stdio.h>
      #include <string.h>
      #include <unistd.h>
      static volatile sig_atomic_t ran;
      static void caught(int s) { (void)s; ran = 1; }
      int main(int argc, char **argv) {
        signal(SIGPIPE, SIG_DFL);  /* not what the test runner left */
        int fds[2];
        pipe(fds);
        close(fds[0]);
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGPIPE);
        if (strcmp(argv[1], "block") == 0) {
          sigprocmask(SIG_BLOCK, &set, 0);
        } else {
          struct sigaction sa;
          memset(&sa, 0, sizeof sa);
          sa.sa_handler = caught;
          sigaction(SIGPIPE, &sa, 0);
        }
        ssize_t n = write(fds[1], "x", 1);
        int e = errno;
        sigset_t pending;
        sigpending(&pending);
        printf("%zd %s handler=%d pending=%d\\n", n, e == EPIPE ? "EPIPE" : "other", (int)ran,
               sigismember(&pending, SIGPIPE));
        return 0;
      }
      """)
    XCTAssertEqual(
      CPrograms.run(path, ["block"]).1, "-1 EPIPE handler=0 pending=1\n", "blocked: sent, pending")
    XCTAssertEqual(CPrograms.run(path, ["handle"]).1, "-1 EPIPE handler=1 pending=0\n", "handled: delivered")
  }

  /// `thread N --fork`: a mutex another thread held at fork time is locked in the child, and
  /// glibc's default mutex does not check its owner, so the child could unlock it (undefined
  /// behaviour in POSIX; the explanation says the thread that would unlock it is gone).
  func testAChildCanUnlockAMutexItsParentsOtherThreadHeldWithGlibcsDefaultMutex() throws {
    let path = try build(
      "forkmutex",
      """
      #include <pthread.h>
      #include <stdio.h>
      #include <sys/wait.h>
      #include <unistd.h>
      static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
      static pthread_mutex_t ready = PTHREAD_MUTEX_INITIALIZER;
      static void *hold(void *a) {
        pthread_mutex_lock(&m);
        pthread_mutex_unlock(&ready);
        usleep(300000);
        pthread_mutex_unlock(&m);
        return a;
      }
      int main(void) {
        pthread_t t;
        pthread_mutex_lock(&ready);
        pthread_create(&t, 0, hold, 0);
        pthread_mutex_lock(&ready);  /* the holder has m */
        pid_t c = fork();
        if (c == 0) {
          int busy = pthread_mutex_trylock(&m);
          int unlocked = pthread_mutex_unlock(&m);
          int locked = pthread_mutex_trylock(&m);
          printf("%d %d %d\\n", busy, unlocked, locked);
          fflush(stdout);
          _exit(0);
        }
        waitpid(c, 0, 0);
        pthread_join(t, 0);
        return 0;
      }
      """)
    XCTAssertEqual(
      CPrograms.run(path, []).1, "\(EBUSY) 0 0\n", "locked in the child; unlocked by a non-owner")
  }

  /// `observe`: untraced, a signal the program ignores (SIGCHLD at its default) is discarded when
  /// it is sent: a sleeper is not even woken (one voluntary switch: the sleep itself; woken and
  /// put back to sleep would be two). A handled SIGCHLD cuts the sleep short (EINTR).
  func testAnIgnoredSignalDoesNotWakeAnUntracedSleeper() throws {
    let path = try build(
      "ignoredchld",
      """
      #define _GNU_SOURCE
      #include <signal.h>
      #include <stdio.h>
      #include <string.h>
      #include <sys/resource.h>
      #include <sys/wait.h>
      #include <time.h>
      #include <unistd.h>
      static void caught(int s) { (void)s; }
      static long switches(void) {
        struct rusage u;
        getrusage(RUSAGE_THREAD, &u);
        return u.ru_nvcsw;
      }
      int main(int argc, char **argv) {
        signal(SIGCHLD, SIG_DFL);
        if (argc > 1) {
          struct sigaction sa;
          memset(&sa, 0, sizeof sa);
          sa.sa_handler = caught;
          sigaction(SIGCHLD, &sa, 0);
        }
        pid_t c = fork();
        if (c == 0) { usleep(20000); _exit(0); }
        long before = switches();
        struct timespec t = {0, 200000000};
        int r = nanosleep(&t, 0);
        long after = switches();
        waitpid(c, 0, 0);
        printf("%d %ld\\n", r, after - before);
        return 0;
      }
      """)
    // A switch for another reason (a page fault that sleeps) is rare: one clean run of three shows it.
    let runs = (0..<3).map { _ in CPrograms.run(path, []).1 }
    XCTAssertTrue(runs.contains("0 1\n"), "slept through, woken once, at its end: \(runs)")
    XCTAssertTrue(
      CPrograms.run(path, ["handle"]).1.hasPrefix("-1 "), "a handled SIGCHLD interrupts the sleep")
  }

  /// `wait`, `kill`: a child's ru_maxrss counts the memory it ran in before execve. A posix_spawn
  /// child borrows its parent's memory until then, so a parent with 64 MiB resident gets back a
  /// max RSS of at least that for `/bin/true`.
  func testAPosixSpawnChildsMaxRSSIncludesItsParentsPeak() throws {
    let path = try build(
      "spawnpeak",
      """
      #include <spawn.h>
      #include <stdio.h>
      #include <stdlib.h>
      #include <string.h>
      #include <sys/resource.h>
      #include <sys/wait.h>
      extern char **environ;
      int main(void) {
        size_t size = 64u << 20;
        char *big = malloc(size);
        memset(big, 1, size);
        pid_t pid;
        char *argv[] = {"true", 0};
        if (posix_spawn(&pid, "/bin/true", 0, 0, argv, environ) != 0) return 1;
        int status;
        struct rusage u;
        wait4(pid, &status, 0, &u);
        printf("%ld\\n", u.ru_maxrss / 1024);  /* MiB */
        return big[size - 1] == 1 ? 0 : 2;
      }
      """)
    let (status, output) = CPrograms.run(path, [])
    XCTAssertEqual(status, 0, output)
    let mib = try XCTUnwrap(Int(output.trimmingCharacters(in: .whitespacesAndNewlines)), output)
    XCTAssertGreaterThanOrEqual(mib, 64, "/bin/true's max RSS holds its parent's 64 MiB")
  }
}
