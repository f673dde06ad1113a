// hello in C: xk cc compiles it to assembly in this tab, xk as and xk ld build
// it with crt0 and the user library; printf ends in write(1, ...), system call 16.
#include "user.h"

int main(void) {
  printf("hello from C on xk, pid %d\n", getpid());
  return 0;
}
