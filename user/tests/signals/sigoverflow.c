// sigoverflow: the stack grows on demand up to 10 pages (XK's limit); one page
// further is the guard gap, and a fault there is a stack overflow: SIGSEGV, with
// si_addr in the gap, delivered on the alternate signal stack (the real stack is full).

#include "user.h"
#include "signal.h"
#include "../check.h"

#define USER_LIMIT 0x80000000UL
#define STACK_BOTTOM (USER_LIMIT - 10 * 4096)

static char altstack[8192];
static volatile unsigned long depth;

static void on_segv(int sig, siginfo_t *si, void *uc) {
  unsigned long a = (unsigned long)si->si_addr;
  CHECK(a < STACK_BOTTOM && a >= STACK_BOTTOM - 4096, "the fault is in the guard gap below the 10 pages");
  CHECK(depth > 30, "the stack grew to most of its 10 pages first");
  printf("sigoverflow: SIGSEGV at %lx after %lu frames\n", a, depth);
  printf("sigoverflow: PASS\n");
  exitstatus(0);
}

static int recurse(int n) {
  volatile char frame[1000];
  frame[0] = (char)n;
  depth++;
  if (n > 1000) return 0;  /* never reached: 1000 KB is far past the 10 pages */
  return recurse(n + 1) + frame[0];
}

int main(void) {
  stack_t ss;
  ss.ss_sp = altstack;
  ss.ss_size = sizeof(altstack);
  ss.ss_flags = 0;
  CHECK(sigaltstack(&ss, 0) == 0, "sigaltstack");
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_sigaction = on_segv;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  CHECK(sigaction(SIGSEGV, &sa, 0) == 0, "sigaction");
  recurse(0);
  return 1;
}
