// segvsave: user-level exception handling. A program keeps unsaved work in
// memory; a bug makes it touch a bad pointer. Its SIGSEGV handler, running on the
// alternate signal stack, saves the work to a file and exits instead of losing it.

#include "user.h"
#include "fcntl.h"
#include "signal.h"

static char work[256];
static int worklen;
static char handler_stack[8192] __attribute__((aligned(16)));

static void rescue(int sig, siginfo_t *si, void *uc) {
  unlink("rescue.txt");
  int fd = open("rescue.txt", O_CREATE | O_WRONLY);
  if (fd >= 0) {
    write(fd, work, worklen);
    close(fd);
  }
  printf("segvsave: SIGSEGV at address %p: saved %d bytes to rescue.txt\n", si->si_addr, worklen);
  exitstatus(1);
}

static void add(const char *line) {
  int n = strlen(line);
  memmove(work + worklen, line, n);
  worklen += n;
}

int main(void) {
  stack_t ss = {handler_stack, 0, sizeof(handler_stack)};
  sigaltstack(&ss, 0);
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_sigaction = rescue;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigaction(SIGSEGV, &sa, 0);

  int pid = fork();
  if (pid == 0) {
    add("first line of unsaved work\n");
    add("second line\n");
    int *bug = (int *)0xdead000;  // a stale pointer
    *bug = 42;
    add("never reached\n");
    exitstatus(0);
  }
  int status;
  waitstatus(&status);
  printf("segvsave: the editor exited with status %d; rescue.txt holds:\n", status);
  char buf[256];
  int fd = open("rescue.txt", O_RDONLY);
  int n = fd >= 0 ? read(fd, buf, sizeof(buf)) : -1;
  if (n > 0)
    write(1, buf, n);
  return n > 0 ? 0 : 1;
}
