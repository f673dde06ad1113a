// Small helpers built from system calls.

#include "user.h"
#include "fcntl.h"

// Reads one line (up to max-1 bytes, newline included) from standard input.
// Returns buf; buf[0] == 0 at end of input.
char *gets(char *buf, int max) {
  int i = 0;
  while (i + 1 < max) {
    char c;
    if (read(0, &c, 1) < 1)
      break;
    buf[i++] = c;
    if (c == '\n' || c == '\r')
      break;
  }
  buf[i] = 0;
  return buf;
}

// stat(path): open the file, fstat it, close it.
int stat(const char *path, struct stat *st) {
  int fd = open(path, O_RDONLY);
  if (fd < 0)
    return -1;
  int r = fstat(fd, st);
  close(fd);
  return r;
}
