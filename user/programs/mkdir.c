// mkdir DIRS...: creates directories.

#include "user.h"

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(2, "usage: mkdir DIR...\n");
    return 1;
  }
  int status = 0;
  for (int i = 1; i < argc; i++) {
    if (mkdir(argv[i]) < 0) {
      fprintf(2, "mkdir: %s failed to create\n", argv[i]);
      status = 1;
    }
  }
  return status;
}
