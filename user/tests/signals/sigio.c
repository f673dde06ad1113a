// sigio: asynchronous I/O notification. With fcntl(F_SETOWN, pid) and
// fcntl(F_SETFL, O_ASYNC) on a pipe's read end, data written into the pipe
// raises SIGIO in the owner, which need not be waiting in read().

#include "user.h"
#include "signal.h"
#include "../check.h"

static volatile int ios;
static void on_io(int sig, siginfo_t *si, void *uc) {
  ios++;
}

int main(void) {
  int fds[2];
  CHECK(pipe(fds) == 0, "pipe");
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_sigaction = on_io;
  sa.sa_flags = SA_SIGINFO;
  CHECK(sigaction(SIGIO, &sa, 0) == 0, "sigaction");
  CHECK(fcntl(fds[0], F_SETOWN, getpid()) == 0, "F_SETOWN");
  CHECK(fcntl(fds[0], F_GETOWN, 0) == getpid(), "F_GETOWN");
  CHECK(fcntl(fds[0], F_GETFL, 0) == 0, "not async yet");
  write(fds[1], "a", 1);
  CHECK(ios == 0, "no SIGIO without O_ASYNC");
  CHECK(fcntl(fds[0], F_SETFL, O_ASYNC) == 0, "F_SETFL O_ASYNC");
  CHECK(fcntl(fds[0], F_GETFL, 0) == O_ASYNC, "F_GETFL");
  CHECK(fcntl(99, F_GETFL, 0) < 0 && fcntl(fds[0], 1234, 0) < 0, "bad fd or command");
  char c;
  CHECK(read(fds[0], &c, 1) == 1, "drain");

  int pid = fork();
  if (pid == 0) {
    close(fds[0]);
    sleep(5);
    write(fds[1], "hello", 5);
    exitstatus(0);
  }
  close(fds[1]);
  // Busy computing, not reading: the signal says when there is input.
  long work = 0;
  int t0 = uptime();
  while (ios == 0) {
    work++;
    CHECK(uptime() - t0 < 200, "SIGIO arrives");
  }
  char buf[16];
  int n = read(fds[0], buf, sizeof(buf));
  CHECK(n == 5 && memcmp(buf, "hello", 5) == 0, "the data is there");
  CHECK(wait() == pid, "reap");
  printf("sigio: SIGIO arrived while computing (%s)\n", work > 0 ? "busy" : "idle");
  printf("sigio: PASS\n");
  return 0;
}
