// proctest: fork, exit status, wait, pipes between processes, kill, exec.

#include "user.h"
#include "fcntl.h"
#include "check.h"

static void test_fork_wait(void) {
  int pid = fork();
  CHECK(pid >= 0, "fork");
  if (pid == 0)
    exitstatus(42);
  int status = -1;
  CHECK(waitstatus(&status) == pid, "wait returns the child's pid");
  CHECK(status == 42, "exit status");
  CHECK(wait() < 0, "wait without children");
  // Many children, reaped in any order.
  int n = 10;
  for (int i = 0; i < n; i++) {
    pid = fork();
    CHECK(pid >= 0, "fork many");
    if (pid == 0)
      exitstatus(i);
  }
  int seen = 0;
  for (int i = 0; i < n; i++) {
    CHECK(waitstatus(&status) > 0, "reap");
    CHECK(status >= 0 && status < n && !(seen & (1 << status)), "each status once");
    seen |= 1 << status;
  }
  CHECK(wait() < 0, "all reaped");
}

static void test_pipe(void) {
  int fds[2];
  CHECK(pipe(fds) == 0, "pipe");
  int pid = fork();
  if (pid == 0) {
    close(fds[0]);
    char block[100];
    for (int i = 0; i < 100; i++)
      block[i] = (char)i;
    for (int k = 0; k < 50; k++)    // 5000 bytes: more than the pipe holds
      if (write(fds[1], block, 100) != 100)
        exitstatus(1);
    exitstatus(0);
  }
  close(fds[1]);
  char buf[300];
  int total = 0, n;
  while ((n = read(fds[0], buf, sizeof(buf))) > 0) {
    for (int i = 0; i < n; i++)
      CHECK(buf[i] == (char)((total + i) % 100), "bytes in order");
    total += n;
  }
  CHECK(n == 0 && total == 5000, "all bytes, then end of file");
  int status;
  CHECK(waitstatus(&status) == pid && status == 0, "writer succeeded");
  close(fds[0]);
  // Writing to a pipe with no reader fails.
  CHECK(pipe(fds) == 0, "pipe");
  close(fds[0]);
  CHECK(write(fds[1], "x", 1) < 0, "write with no reader");
  close(fds[1]);
}

static void test_kill(void) {
  int fds[2];
  CHECK(pipe(fds) == 0, "pipe");
  int pid = fork();
  if (pid == 0) {
    char c;
    read(fds[0], &c, 1);   // blocks forever: nobody writes
    exitstatus(0);
  }
  CHECK(kill(pid) == 0, "kill");
  int status = 0;
  CHECK(waitstatus(&status) == pid, "killed child is reaped");
  CHECK(kill(pid) < 0, "kill a reaped process");
  close(fds[0]);
  close(fds[1]);
  pid = fork();
  if (pid == 0)
    for (;;)
      ;   // spins in user mode until killed
  kill(pid);
  CHECK(wait() == pid, "a spinning child is killed too");
}

static void test_exec(void) {
  int fds[2];
  CHECK(pipe(fds) == 0, "pipe");
  int pid = fork();
  if (pid == 0) {
    close(1);
    dup(fds[1]);
    close(fds[0]);
    close(fds[1]);
    char *argv[] = {"echo", "exec", "works", 0};
    exec("/echo", argv);
    exitstatus(99);
  }
  close(fds[1]);
  char buf[64];
  int total = 0, n;
  while ((n = read(fds[0], buf + total, sizeof(buf) - 1 - total)) > 0)
    total += n;
  buf[total] = 0;
  close(fds[0]);
  int status;
  CHECK(waitstatus(&status) == pid && status == 0, "echo exited 0");
  CHECK(strcmp(buf, "exec works\n") == 0, "echo's output came through the pipe");
  char *none[] = {"nothing", 0};
  CHECK(exec("/no-such-program", none) < 0, "exec of a missing file fails");
  CHECK(exec("/small.txt", none) < 0, "exec of a non-ELF file fails");
}

int main(void) {
  CHECK(getpid() > 0, "getpid");
  test_fork_wait();
  test_pipe();
  test_kill();
  test_exec();
  printf("proctest: PASS\n");
  return 0;
}
