// asyncio: input by interrupt instead of by waiting. A producer process writes a
// message into a pipe now and then; the consumer computes, and a SIGIO handler
// (fcntl F_SETOWN + O_ASYNC on the pipe) tells it when to read.

#include "user.h"
#include "signal.h"

static volatile int input_ready;
static void on_io(int sig) { input_ready = 1; }

int main(void) {
  int fds[2];
  if (pipe(fds) < 0)
    exitstatus(1);
  int pid = fork();
  if (pid == 0) {
    close(fds[0]);
    for (int i = 1; i <= 3; i++) {
      sleep(4);
      fprintf(fds[1], "message %d", i);
    }
    exitstatus(0);
  }
  close(fds[1]);
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_io;
  sigaction(SIGIO, &sa, 0);
  fcntl(fds[0], F_SETOWN, getpid());
  fcntl(fds[0], F_SETFL, O_ASYNC);

  long primes = 0, candidate = 2;
  for (int got = 0; got < 3;) {
    // "Work": count primes until input is signalled.
    int prime = 1;
    for (long d = 2; d * d <= candidate; d++)
      if (candidate % d == 0)
        prime = 0;
    primes += prime;
    candidate++;
    if (input_ready) {
      input_ready = 0;
      char buf[64];
      int n = read(fds[0], buf, sizeof(buf) - 1);
      if (n > 0) {
        buf[n] = 0;
        printf("asyncio: SIGIO -> read \"%s\" (found %ld primes meanwhile)\n", buf, primes);
        got++;
      }
    }
  }
  wait();
  printf("asyncio: done\n");
  return 0;
}
