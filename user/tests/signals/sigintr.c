// sigintr: a signal interrupts a waiting system call. Without SA_RESTART the call
// returns -EINTR; with SA_RESTART it starts over after the handler and completes;
// data that is already there is returned, not lost. pause, sigsuspend, wait, sleep.

#include "user.h"
#include "signal.h"
#include "../check.h"

static volatile int alarms, usr1;
static void on_alarm(int sig) { alarms++; }
static void on_usr1(int sig) { usr1++; }

static void install(int sig, void (*h)(int), unsigned long flags) {
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = h;
  sa.sa_flags = flags;
  CHECK(sigaction(sig, &sa, 0) == 0, "sigaction");
}

// A child that sleeps `ticks`, writes "hi" into fd and exits.
static int late_writer(int fds[2], int ticks) {
  int pid = fork();
  if (pid == 0) {
    close(fds[0]);
    sleep(ticks);
    write(fds[1], "hi", 2);
    exitstatus(0);
  }
  close(fds[1]);
  return pid;
}

static void test_read(void) {
  int fds[2];
  char buf[10];
  // No SA_RESTART: the read returns -EINTR after the handler ran.
  install(SIGALRM, on_alarm, 0);
  CHECK(pipe(fds) == 0, "pipe");
  int pid = late_writer(fds, 40);
  alarm(4);
  int n = read(fds[0], buf, sizeof(buf));
  CHECK(n == -EINTR, "read returns -EINTR");
  CHECK(alarms == 1, "the handler ran first");
  CHECK(read(fds[0], buf, sizeof(buf)) == 2, "the next read gets the data");
  wait();
  close(fds[0]);

  // SA_RESTART: the same read restarts after the handler and returns the data.
  install(SIGALRM, on_alarm, SA_RESTART);
  alarms = 0;
  CHECK(pipe(fds) == 0, "pipe");
  pid = late_writer(fds, 40);
  alarm(4);
  n = read(fds[0], buf, sizeof(buf));
  CHECK(alarms == 1, "the handler ran");
  CHECK(n == 2 && buf[0] == 'h', "the restarted read returned the data");
  CHECK(wait() == pid, "reap");
  close(fds[0]);

  // Data already there: read returns it (a partial count), a pending signal is handled after.
  CHECK(pipe(fds) == 0, "pipe");
  sigset_t b = 0;
  sigaddset(&b, SIGUSR1);
  install(SIGUSR1, on_usr1, 0);
  sigprocmask(SIG_BLOCK, &b, 0);
  raise(SIGUSR1);
  write(fds[1], "abc", 3);
  CHECK(read(fds[0], buf, sizeof(buf)) == 3, "partial count: the 3 bytes there, not -EINTR");
  CHECK(usr1 == 0, "still blocked");
  sigprocmask(SIG_UNBLOCK, &b, 0);
  CHECK(usr1 == 1, "delivered after unblocking");
  close(fds[0]);
  close(fds[1]);
}

// A write bigger than the pipe fills it, then waits for room; a signal then ends
// the call, which returns the count already written (the pipe holds 512 bytes).
static void test_partial_write(void) {
  static char big[2000];
  int fds[2];
  install(SIGALRM, on_alarm, 0);
  alarms = 0;
  CHECK(pipe(fds) == 0, "pipe");
  alarm(3);
  int n = write(fds[1], big, sizeof(big));
  CHECK(alarms == 1, "the handler ran");
  CHECK(n == 512, "partial count: the bytes that fit in the pipe, not -EINTR");
  CHECK(read(fds[0], big, sizeof(big)) == 512, "exactly those bytes are in the pipe");
  close(fds[0]);
  close(fds[1]);
}

static void test_wait_sleep_pause(void) {
  install(SIGALRM, on_alarm, 0);
  int pid = fork();
  if (pid == 0) {
    sleep(30);
    exitstatus(3);
  }
  alarms = 0;
  alarm(3);
  CHECK(wait() == -EINTR, "wait interrupted");
  CHECK(alarms == 1, "handler ran");
  int status;
  CHECK(waitstatus(&status) == pid && status == 3, "wait again reaps the child");

  alarm(3);
  int t0 = uptime();
  CHECK(sleep(100) == -EINTR, "sleep interrupted");
  CHECK(uptime() - t0 < 50, "early");

  alarm(2);
  CHECK(pause() == -EINTR, "pause returns -EINTR");
  CHECK(alarms == 3, "after the handler");

  install(SIGALRM, on_alarm, SA_RESTART);
  alarm(2);
  CHECK(pause() == -EINTR, "pause never restarts");
}

static void test_sigsuspend(void) {
  install(SIGUSR1, on_usr1, 0);
  usr1 = 0;
  sigset_t b = 0, empty = 0, m;
  sigaddset(&b, SIGUSR1);
  sigprocmask(SIG_SETMASK, &b, 0);
  raise(SIGUSR1);
  CHECK(usr1 == 0, "blocked");
  CHECK(sigsuspend(&empty) == -EINTR, "sigsuspend returns -EINTR");
  CHECK(usr1 == 1, "the handler ran inside sigsuspend");
  sigprocmask(SIG_BLOCK, 0, &m);
  CHECK(m == b, "the old mask is back after sigsuspend");
  // Waiting for a signal from another process.
  int parent = getpid();
  int pid = fork();
  if (pid == 0) {
    sleep(3);
    kill2(parent, SIGUSR1);
    exitstatus(0);
  }
  CHECK(sigsuspend(&empty) == -EINTR && usr1 == 2, "woken by the child's kill2");
  wait();
  sigprocmask(SIG_SETMASK, &empty, 0);
}

int main(void) {
  test_read();
  test_partial_write();
  test_wait_sleep_pause();
  test_sigsuspend();
  printf("sigintr: PASS\n");
  return 0;
}
