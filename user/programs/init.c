// init: the first user process. Opens the console as file descriptors 0, 1 and
// 2, starts a shell, and reaps every process whose parent has exited (they
// become init's children). When the shell exits, init starts a new one.

#include "user.h"
#include "fcntl.h"

static char *shell_argv[] = {"sh", 0};

int main(void) {
  if (open("/console", O_RDWR) < 0) {
    mknod("/console", 1, 1);
    if (open("/console", O_RDWR) < 0)
      exitstatus(1);
  }
  dup(0);   // standard output
  dup(0);   // standard error
  for (;;) {
    printf("init: starting sh\n");
    int pid = fork();
    if (pid < 0) {
      printf("init: fork failed\n");
      exitstatus(1);
    }
    if (pid == 0) {
      exec("/sh", shell_argv);
      printf("init: exec sh failed\n");
      exitstatus(1);
    }
    // Reap children until the shell itself exits; the others are orphans.
    int reaped;
    while ((reaped = wait()) >= 0 && reaped != pid)
      ;
    if (reaped < 0) {
      printf("init: wait failed\n");
      exitstatus(1);
    }
  }
}
