// aiofetch: a write whose buffer changes between enqueue and completion. xk
// takes the bytes the buffer holds when the write is performed (completion
// time), copied in once: the file gets the new bytes, never a mix, and the
// double-fetch checker sees a single fetch of the buffer.

#include "user.h"
#include "signal.h"
#include "aio.h"
#include "../check.h"

#define BLOCK 1024
static char buf[2 * BLOCK], back[2 * BLOCK];

int main(void) {
  int fd = open("big", 2);
  CHECK(fd >= 0, "open");
  memset(buf, 'A', sizeof buf);
  int id = aio_write(fd, 28 * BLOCK, buf, sizeof buf, 0);
  CHECK(id > 0, "enqueue the write of A's");
  memset(buf, 'B', sizeof buf); // changed before the disk is done
  CHECK(aio_status(id) == -EINPROGRESS, "still in flight after the change");
  CHECK(aio_wait(id) == sizeof buf, "written");
  int rid = aio_read(fd, 28 * BLOCK, back, sizeof back, 0);
  CHECK(rid > 0 && aio_wait(rid) == sizeof back, "read back");
  for (int i = 0; i < (int)sizeof back; i++) CHECK(back[i] == 'B', "the bytes at completion time");
  printf("aiofetch: buffer at %p, %d bytes, file holds the bytes at completion\n", buf, (int)sizeof buf);
  printf("aiofetch: PASS\n");
  return 0;
}
