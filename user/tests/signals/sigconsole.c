// sigconsole: O_ASYNC on the console raises SIGIO when a line is typed.
// (test/signal.test.ts types the line after the program has started.)

#include "user.h"
#include "signal.h"
#include "../check.h"

static volatile int ios;
static void on_io(int sig) { ios++; }

int main(void) {
  signal(SIGIO, on_io);
  CHECK(fcntl(0, F_SETOWN, getpid()) == 0, "F_SETOWN on the console");
  CHECK(fcntl(0, F_SETFL, O_ASYNC) == 0, "O_ASYNC on the console");
  printf("sigconsole: ready\n");
  int t0 = uptime();
  while (ios == 0)
    CHECK(uptime() - t0 < 500, "SIGIO for console input");
  char buf[32];
  int n = read(0, buf, sizeof(buf));
  CHECK(n == 6 && memcmp(buf, "typed\n", 6) == 0, "the typed line");
  printf("sigconsole: PASS\n");
  return 0;
}
