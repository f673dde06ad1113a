// sigstack: SA_ONSTACK handlers run on the alternate signal stack (sigaltstack),
// nested deliveries stay on it, and overflowing it kills the process with SIGSEGV.

#include "user.h"
#include "signal.h"
#include "../check.h"

static char altstack[16384] __attribute__((aligned(16)));
static volatile unsigned long handler_sp;
static volatile int on_alt_flag, runs, depth, max_depth;

static void on_usr1(int sig) {
  char here;
  stack_t now;
  handler_sp = (unsigned long)&here;
  CHECK(sigaltstack(0, &now) == 0, "query");
  on_alt_flag = now.ss_flags & SS_ONSTACK;
  runs++;
}

static void recurse(int sig) {
  char pad[200];
  depth++;
  if (depth > max_depth)
    max_depth = depth;
  pad[0] = (char)depth;
  raise(SIGUSR2);   // SA_NODEFER: nested at once, one more frame on the alternate stack
  depth -= pad[0] ? 1 : 0;
}

static void install(int sig, void (*h)(int), unsigned long flags) {
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = h;
  sa.sa_flags = flags;
  CHECK(sigaction(sig, &sa, 0) == 0, "sigaction");
}

int main(void) {
  stack_t ss, old;
  ss.ss_sp = altstack;
  ss.ss_size = sizeof(altstack);
  ss.ss_flags = 0;
  CHECK(sigaltstack(&ss, &old) == 0, "sigaltstack");
  CHECK(old.ss_flags == SS_DISABLE, "none before");
  stack_t tiny = {altstack, 0, 16};
  CHECK(sigaltstack(&tiny, 0) < 0, "too small a stack is refused");

  install(SIGUSR1, on_usr1, SA_ONSTACK);
  raise(SIGUSR1);
  CHECK(runs == 1, "handler ran");
  CHECK(handler_sp >= (unsigned long)altstack && handler_sp < (unsigned long)altstack + sizeof(altstack),
        "SA_ONSTACK: the handler's locals are on the alternate stack");
  CHECK(on_alt_flag, "sigaltstack reports SS_ONSTACK inside the handler");
  install(SIGUSR1, on_usr1, 0);
  raise(SIGUSR1);
  CHECK(!(handler_sp >= (unsigned long)altstack && handler_sp < (unsigned long)altstack + sizeof(altstack)),
        "without SA_ONSTACK: the normal stack");
  CHECK(sigaltstack(0, &old) == 0 && old.ss_flags == 0, "not on it after return");

  // Overflow: a handler that raises its own signal with SA_NODEFER nests until the
  // alternate stack is full; the next delivery finds no room and the kernel kills
  // the process with SIGSEGV instead of writing below the stack.
  int pid = fork();
  if (pid == 0) {
    install(SIGUSR2, recurse, SA_ONSTACK | SA_NODEFER);
    raise(SIGUSR2);
    exitstatus(0);  // not reached
  }
  int status;
  CHECK(waitstatus(&status) == pid, "wait");
  CHECK(status == SIGNAL_EXIT_STATUS(SIGSEGV), "alternate stack overflow -> SIGSEGV");
  printf("sigstack: PASS\n");
  return 0;
}
