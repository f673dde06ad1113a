// open() and read() in C: the same system calls as openread.s, compiled by xk cc.
#include "user.h"
#include "fcntl.h"

static char buf[121];

int main(void) {
  int fd = open("/README", O_RDONLY);   // system call 15
  if (fd < 0) {
    printf("open failed: %d\n", fd);
    return 1;
  }
  int n = read(fd, buf, 120);           // system call 5: the kernel copies out into buf
  if (n < 0) return 1;
  buf[n] = 0;
  printf("read %d bytes from fd %d:\n%s\n", n, fd, buf);
  close(fd);
  return 0;
}
