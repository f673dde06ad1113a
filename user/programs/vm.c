// vm IMAGE: boots a guest kernel image as a virtual machine (a child process the
// host kernel runs under its monitor) and waits until the guest powers off.

#include "user.h"

int vmrun(const char *path); // system call 35 (user/include/syscall.h)

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(2, "usage: vm IMAGE\n");
    return 1;
  }
  int pid = vmrun(argv[1]);
  if (pid < 0) {
    fprintf(2, "vm: cannot boot %s (missing, not a boot image, or no memory)\n", argv[1]);
    return 1;
  }
  int status;
  while (waitstatus(&status) != pid)
    ;
  printf("vm: %s powered off with status %d\n", argv[1], status);
  return status;
}
