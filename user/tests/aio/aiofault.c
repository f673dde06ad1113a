// aiofault: the buffer is checked when the request completes, not only when it
// is enqueued. A buffer the program unmaps (sbrk with a negative size) while
// the request is in flight makes it complete with -EFAULT, and nothing else is
// touched: a read writes no byte anywhere, a write puts no byte in the file.

#include "user.h"
#include "signal.h"
#include "aio.h"
#include "../check.h"

#define BLOCK 1024
#define HEAP 8192
static char check[BLOCK];

static int expected(int i) { return (i * 131 + (i >> 8)) & 0xff; }

int main(void) {
  int fd = open("big", 2);
  CHECK(fd >= 0, "open big read-write");

  // 1. A read into heap pages given back before the disk is done.
  char *heap = sbrk(HEAP);
  CHECK(heap != (char *)-1, "sbrk");
  int id = aio_read(fd, 20 * BLOCK, heap + 4096, BLOCK, 0);
  CHECK(id > 0, "enqueue into the heap");
  CHECK(sbrk(-HEAP) == heap + HEAP, "give the heap back");
  CHECK(aio_wait(id) == -EFAULT, "read into unmapped memory: -EFAULT");
  // The same pages come back zeroed: the data went nowhere.
  char *again = sbrk(HEAP);
  CHECK(again == heap, "the heap grows back at the same place");
  for (int i = 0; i < HEAP; i++) CHECK(again[i] == 0, "fresh pages hold no file data");

  // 2. Shrunk: the first page stays, the second goes; a range over both fails whole.
  id = aio_read(fd, 22 * BLOCK, again + 4096 - 512, BLOCK, 0);
  CHECK(id > 0, "enqueue across two pages");
  CHECK(sbrk(-4096) == again + HEAP, "shrink by one page");
  CHECK(aio_wait(id) == -EFAULT, "half the buffer gone: -EFAULT");
  for (int i = 0; i < 4096; i++) CHECK(again[i] == 0, "copyout is all or nothing: the page that stayed is untouched");
  CHECK(sbrk(-4096) == again + 4096, "heap back to nothing");

  // 3. A write from a buffer unmapped before completion: the file keeps its bytes.
  char *src = sbrk(4096);
  memset(src, 'X', 4096);
  id = aio_write(fd, 24 * BLOCK, src, BLOCK, 0);
  CHECK(id > 0, "enqueue a write from the heap");
  CHECK(sbrk(-4096) == src + 4096, "unmap it");
  CHECK(aio_wait(id) == -EFAULT, "write from unmapped memory: -EFAULT");
  id = aio_read(fd, 24 * BLOCK, check, BLOCK, 0);
  CHECK(id > 0 && aio_wait(id) == BLOCK, "read back");
  for (int i = 0; i < BLOCK; i++) CHECK((check[i] & 0xff) == expected(24 * BLOCK + i), "the file is unchanged");

  // 4. The descriptor closed while the request is in flight: the request holds the file.
  int fd2 = open("big", 0);
  id = aio_read(fd2, 3 * BLOCK, check, BLOCK, 0);
  CHECK(id > 0, "enqueue");
  close(fd2);
  CHECK(aio_wait(id) == BLOCK && (check[7] & 0xff) == expected(3 * BLOCK + 7), "completes after close");
  printf("aiofault: PASS\n");
  return 0;
}
