// aioexit: a process that exits, execs or is killed with reads in flight never
// gets bytes written into memory that is no longer its own. Each victim points
// its requests at its heap and then goes away; afterwards memory that may reuse
// the same physical pages (the parent's new heap, the exec'd image's heap at the
// same addresses) must still be zero when the disk has long finished.

#include "user.h"
#include "signal.h"
#include "aio.h"
#include "../check.h"

#define BLOCK 1024
#define HEAP (16 * 4096)

// Each victim reads blocks no one has read yet (base, base+1, ...), so they come from the disk.
static void enqueue_into_heap(int base) {
  char *heap = sbrk(HEAP);
  int fd = open("big", 0);
  for (int i = 0; i < 8; i++) {
    int id = aio_read(fd, (base + i) * BLOCK, heap + i * 8192, BLOCK, 0);
    if (id <= 0) exitstatus(2);
  }
}

static int heap_is_zero(void) {
  char *heap = sbrk(HEAP);
  sleep(10); // the disk finishes everything the victim asked for
  for (int i = 0; i < HEAP; i++) if (heap[i] != 0) return 0;
  sbrk(-HEAP);
  return 1;
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "after-exec") == 0) {
    // The new image: its heap is at the addresses the old one's requests named.
    exitstatus(heap_is_zero() ? 0 : 3);
  }
  int status;
  // exit
  int pid = fork();
  if (pid == 0) { enqueue_into_heap(0); exitstatus(0); }
  CHECK(waitstatus(&status) == pid && status == 0, "victim exited");
  CHECK(heap_is_zero(), "exit: no byte in the pages it gave back");
  // kill
  pid = fork();
  if (pid == 0) { enqueue_into_heap(10); for (;;) ; }
  sleep(1);
  CHECK(kill(pid) == 0, "kill");
  CHECK(waitstatus(&status) == pid, "victim killed");
  CHECK(heap_is_zero(), "kill: no byte in the pages it gave back");
  // exec: the program file is read first, so that exec itself need not wait for the disk
  // and the victim's requests are still in flight when its address space is replaced.
  static char image[4096];
  int fd = open("aioexit", 0);
  while (read(fd, image, sizeof image) > 0) ;
  close(fd);
  pid = fork();
  if (pid == 0) {
    enqueue_into_heap(20);
    char *args[] = {"aioexit", "after-exec", 0};
    exec("aioexit", args);
    exitstatus(4);
  }
  CHECK(waitstatus(&status) == pid && status == 0, "exec: the new image's heap stayed zero");
  printf("aioexit: PASS\n");
  return 0;
}
