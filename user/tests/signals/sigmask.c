// sigmask: blocking and pending, the mask while a handler runs and after it
// returns, nesting, SA_NODEFER, SA_RESETHAND, SIGKILL and SIGSTOP/SIGCONT.

#include "user.h"
#include "signal.h"
#include "../check.h"

static volatile int usr1, usr2, depth, max_depth, order[8], norder;
static sigset_t mask_in_handler;

static sigset_t current_mask(void) {
  sigset_t m;
  CHECK(sigprocmask(SIG_BLOCK, 0, &m) == 0, "read the mask");
  return m;
}

static void on_usr1(int sig) {
  usr1++;
  order[norder++] = sig;
  mask_in_handler = current_mask();
  // A second signal raised inside the handler nests (USR2 is not blocked here).
  if (usr1 == 1)
    raise(SIGUSR2);
}

static void on_usr2(int sig) {
  usr2++;
  order[norder++] = sig;
}

static void install(int sig, void (*h)(int), unsigned long flags, sigset_t mask) {
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = h;
  sa.sa_flags = flags;
  sa.sa_mask = mask;
  CHECK(sigaction(sig, &sa, 0) == 0, "sigaction");
}

static void test_block_and_pending(void) {
  install(SIGUSR1, on_usr1, 0, 0);
  install(SIGUSR2, on_usr2, 0, 0);
  sigset_t b = 0, p;
  sigaddset(&b, SIGUSR1);
  CHECK(sigprocmask(SIG_BLOCK, &b, 0) == 0, "block USR1");
  CHECK(raise(SIGUSR1) == 0, "raise");
  CHECK(usr1 == 0, "a blocked signal is not delivered");
  CHECK(sigpending(&p) == 0 && sigismember(&p, SIGUSR1), "it is pending");
  CHECK(sigprocmask(SIG_UNBLOCK, &b, 0) == 0, "unblock");
  CHECK(usr1 == 1, "delivered on unblocking");
  CHECK(usr2 == 1, "the nested signal ran too");
  CHECK(norder == 2 && order[0] == SIGUSR1 && order[1] == SIGUSR2, "USR2 nested inside USR1's handler");
  CHECK(sigismember(&mask_in_handler, SIGUSR1), "a handler runs with its own signal blocked");
  CHECK(current_mask() == 0, "the mask is restored after the handler returns");
  CHECK(sigpending(&p) == 0 && p == 0, "nothing pending");
  // sa_mask adds to the mask while the handler runs.
  sigset_t extra = 0;
  sigaddset(&extra, SIGTERM);
  install(SIGUSR1, on_usr1, 0, extra);
  raise(SIGUSR1);
  CHECK(sigismember(&mask_in_handler, SIGTERM) && sigismember(&mask_in_handler, SIGUSR1), "sa_mask is blocked in the handler");
  CHECK(current_mask() == 0, "and restored");
  // SIGKILL and SIGSTOP cannot be blocked or caught.
  sigset_t all;
  sigfillset(&all);
  sigprocmask(SIG_SETMASK, &all, 0);
  sigset_t m = current_mask();
  CHECK(!sigismember(&m, SIGKILL) && !sigismember(&m, SIGSTOP), "SIGKILL and SIGSTOP stay unblocked");
  sigprocmask(SIG_SETMASK, &b, 0);
  sigprocmask(SIG_UNBLOCK, &all, 0);
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_usr2;
  CHECK(sigaction(SIGKILL, &sa, 0) < 0, "no handler for SIGKILL");
  CHECK(sigaction(SIGSTOP, &sa, 0) < 0, "no handler for SIGSTOP");
  CHECK(kill2(getpid(), 99) < 0 && kill2(99999, SIGUSR1) < 0, "bad signal or pid");
}

static volatile int nodefer_depth, nodefer_max, nodefer_runs, reset_runs;

static void nested(int sig) {
  nodefer_depth++;
  if (nodefer_depth > nodefer_max)
    nodefer_max = nodefer_depth;
  if (++nodefer_runs < 3)
    raise(SIGUSR1);  // with SA_NODEFER this is delivered at once, inside this handler
  nodefer_depth--;
}

static void once(int sig) { reset_runs++; }

static void test_nodefer_resethand(void) {
  install(SIGUSR1, nested, SA_NODEFER, 0);
  raise(SIGUSR1);
  CHECK(nodefer_max == 3, "SA_NODEFER: the handler nests inside itself");
  install(SIGUSR1, nested, 0, 0);
  nodefer_max = nodefer_runs = 0;
  raise(SIGUSR1);
  CHECK(nodefer_runs == 3 && nodefer_max == 1, "without SA_NODEFER the raise waits until the handler returns");
  install(SIGUSR2, once, SA_RESETHAND, 0);
  raise(SIGUSR2);
  CHECK(reset_runs == 1, "SA_RESETHAND handler ran");
  struct sigaction old;
  CHECK(sigaction(SIGUSR2, 0, &old) == 0 && old.sa_handler == SIG_DFL, "and the action is back to SIG_DFL");
  // SIG_DFL for SIGUSR2 terminates: check it in a child.
  int pid = fork();
  if (pid == 0) {
    raise(SIGUSR2);
    exitstatus(0);
  }
  int status;
  CHECK(waitstatus(&status) == pid && status == SIGNAL_EXIT_STATUS(SIGUSR2), "SIG_DFL terminates with 128+sig");
  // SIG_IGN: nothing happens.
  signal(SIGUSR2, SIG_IGN);
  raise(SIGUSR2);
}

static void test_kill_and_stop(void) {
  // SIGKILL with everything blocked and every other signal ignored.
  int pid = fork();
  if (pid == 0) {
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_SETMASK, &all, 0);
    for (;;)
      ;
  }
  sleep(2);
  CHECK(kill2(pid, SIGKILL) == 0, "kill2 SIGKILL");
  int status;
  CHECK(waitstatus(&status) == pid && status == -1, "SIGKILL ends a process that blocks everything (status -1, as kill)");

  // SIGSTOP / SIGCONT: a child that writes a byte every tick stops writing while stopped.
  int fds[2];
  CHECK(pipe(fds) == 0, "pipe");
  pid = fork();
  if (pid == 0) {
    close(fds[0]);
    for (;;) {
      write(fds[1], "x", 1);
      sleep(1);
    }
  }
  close(fds[1]);
  char c;
  for (int i = 0; i < 3; i++)
    CHECK(read(fds[0], &c, 1) == 1, "the child runs");
  CHECK(kill2(pid, SIGSTOP) == 0, "SIGSTOP");
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = once;  // no SA_RESTART: the read below returns -EINTR
  sigaction(SIGALRM, &sa, 0);
  alarm(30);
  int got = 0, n;
  while ((n = read(fds[0], &c, 1)) == 1)
    got++;
  CHECK(n == -EINTR, "read interrupted by the alarm");
  CHECK(got <= 2, "a stopped process does not run");
  CHECK(kill2(pid, SIGCONT) == 0, "SIGCONT");
  alarm(30);
  CHECK(read(fds[0], &c, 1) == 1, "it runs again after SIGCONT");
  alarm(0);
  kill(pid);
  CHECK(waitstatus(&status) == pid, "reaped");
  close(fds[0]);
  printf("sigmask: stopped child wrote %d bytes while stopped\n", got);
}

int main(void) {
  test_block_and_pending();
  test_nodefer_resethand();
  test_kill_and_stop();
  printf("sigmask: PASS\n");
  return 0;
}
