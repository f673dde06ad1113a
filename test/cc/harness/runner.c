// Runs the programs p0, p1, ... p<N-1> of the file system one after another
// (N is argv[1]), each in a child process: the differential suite
// (test/helpers/ccDifferential.ts) boots xk once for a whole batch of programs.
// Around each program's output it prints "\001<i>\002" and, after the program
// exits, "\003<status>\004", so the host can cut the console stream apart.
#include "user.h"

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 0;
  for (int i = 0; i < n; i++) {
    char name[16];
    char *args[2] = { name, 0 };
    name[0] = 'p';
    int len = 1;
    char digits[12];
    int d = 0;
    int v = i;
    do { digits[d++] = '0' + v % 10; v /= 10; } while (v > 0);
    while (d > 0) name[len++] = digits[--d];
    name[len] = 0;
    printf("\001%d\002", i);
    int pid = fork();
    if (pid == 0) {
      exec(name, args);
      printf("runner: exec %s failed\n", name);
      exitstatus(127);
    }
    int status = 0;
    waitstatus(&status);
    printf("\003%d\004", status);
  }
  return 0;
}
